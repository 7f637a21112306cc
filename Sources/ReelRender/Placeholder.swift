// ReelRender: see ../../README.md
