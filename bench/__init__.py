"""Benchmarks: numbers measured on this machine, written to docs/benchmarks.md."""
