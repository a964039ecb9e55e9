"""The API's version and build label, reported by `/health`: shows which code is serving."""

VERSION = "0.1.0"
BUILD = "dev"
