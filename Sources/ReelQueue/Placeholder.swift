// ReelQueue: see ../../README.md
