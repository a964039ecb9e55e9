"""LLM Observatory as a system under test: collector, storage and api as real processes, the
hand-off through the shared Redis, spans in its own database."""

from __future__ import annotations

from pathlib import Path

import psycopg

from bench.load import Endpoints
from bench.report import git_commit
from deploy.local.servers import with_database
from services.storage.migrations import apply_migrations
from tests.e2e.services import Stack, build_stack


class Observatory:
    """The three services on one database of the shared PostgreSQL and the shared Redis."""

    name = "LLM Observatory"

    def __init__(self, server_url: str, redis_url: str, workdir: Path, database: str) -> None:
        self._server_url, self._redis_url, self._workdir = server_url, redis_url, workdir
        self._database_url = with_database(server_url, database)
        self._database = database
        self._stack: Stack | None = None
        self.version = git_commit()

    def start(self) -> None:
        """Create and migrate the database, then start storage, collector and api."""
        with psycopg.connect(self._server_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self._database}")
        apply_migrations(self._database_url)
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._stack = build_stack(
            self._database_url, self._redis_url, self._workdir, LOG_LEVEL="WARNING"
        )
        self._stack.start()

    @property
    def stack(self) -> Stack:
        """The running services."""
        assert self._stack is not None, "start() first"
        return self._stack

    @property
    def endpoints(self) -> Endpoints:
        """The collector's OTLP ports."""
        return Endpoints(self.stack.grpc_endpoint, f"{self.stack.http_endpoint}/v1/traces")

    @property
    def database_url(self) -> str:
        """Its own database on the shared server."""
        return self._database_url

    @property
    def count_spans_sql(self) -> str:
        """Every stored span, whatever its partition."""
        return "SELECT count(*) FROM spans"

    def server_pids(self) -> dict[str, int]:
        """Collector, storage and api."""
        services = (self.stack.collector, self.stack.storage, self.stack.api)
        return {s.name: s.process.pid for s in services if s.process is not None}

    def stop(self) -> None:
        """SIGTERM the services (api first)."""
        if self._stack is not None:
            self._stack.stop()
