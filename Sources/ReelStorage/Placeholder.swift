// ReelStorage: see ../../README.md
