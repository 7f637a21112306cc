// ReelDB: see ../../README.md
