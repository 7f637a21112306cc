// ReelIntake: see ../../README.md
