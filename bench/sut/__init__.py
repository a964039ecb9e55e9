"""Systems under test: each starts on a shared PostgreSQL, says where it receives OTLP, how to
count the spans it stored, which processes are its servers, and stops."""

from __future__ import annotations

from typing import Protocol

from bench.load import Endpoints


class SystemUnderTest(Protocol):
    """One system receiving the benchmark's load."""

    name: str
    version: str

    def start(self) -> None:
        """Create its database on the shared server, start its processes, wait until ready."""

    @property
    def endpoints(self) -> Endpoints:
        """Where it receives OTLP traces."""

    @property
    def database_url(self) -> str:
        """The database it stores spans in."""

    @property
    def count_spans_sql(self) -> str:
        """A query returning the number of spans stored so far (one row, one column)."""

    def server_pids(self) -> dict[str, int]:
        """Its server processes by name (the load generator and shared databases excluded)."""

    def stop(self) -> None:
        """Stop its processes (its database is left for inspection)."""
