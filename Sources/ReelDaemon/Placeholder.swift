// ReelDaemon: see ../../README.md
