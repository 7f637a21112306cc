// ReelSystemd: see ../../README.md
