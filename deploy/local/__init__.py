"""Local servers and the development stack behind `make run` and `make test`."""
