"""LLM Observatory as a system under test: collector, storage and api as real processes, the
hand-off through the shared Redis, spans in its own database."""

from __future__ import annotations

from pathlib import Path

import psycopg

from bench.load import Endpoints
from bench.report import git_commit
from deploy.local.servers import find_free_port, with_database
from services.storage.migrations import apply_migrations
from tests.e2e.services import ServiceProcess, Stack, build_stack


class Observatory:
    """The three services on one database of the shared PostgreSQL and the shared Redis."""

    name = "LLM Observatory"

    def __init__(
        self, server_url: str, redis_url: str, workdir: Path, database: str, collectors: int = 1
    ) -> None:
        self._server_url, self._redis_url, self._workdir = server_url, redis_url, workdir
        self._database_url = with_database(server_url, database)
        self._database = database
        self._stack: Stack | None = None
        # Collector processes sharing the OTLP ports (COLLECTOR_REUSE_PORT), beyond the first.
        self._collectors = collectors
        self._extra_collectors: list[ServiceProcess] = []
        self.version = git_commit()

    def start(self) -> None:
        """Create and migrate the database, then start storage, collector and api."""
        with psycopg.connect(self._server_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self._database}")
        apply_migrations(self._database_url)
        self._workdir.mkdir(parents=True, exist_ok=True)
        reuse = {"COLLECTOR_REUSE_PORT": "true"} if self._collectors > 1 else {}
        self._stack = build_stack(
            self._database_url, self._redis_url, self._workdir, LOG_LEVEL="WARNING", **reuse
        )
        self._stack.start()
        for index in range(2, self._collectors + 1):
            metrics_port = find_free_port()
            extra = ServiceProcess(
                "collector",
                {**self._stack.collector.env, "COLLECTOR_METRICS_PORT": str(metrics_port)},
                f"http://127.0.0.1:{metrics_port}/metrics",
                self._workdir / f"collector-{index}.log",
            )
            extra.start()
            self._extra_collectors.append(extra)

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
        pids = {s.name: s.process.pid for s in services if s.process is not None}
        for index, extra in enumerate(self._extra_collectors, start=2):
            if extra.process is not None:
                pids[f"collector-{index}"] = extra.process.pid
        return pids

    def stop(self) -> None:
        """SIGTERM the services (api first)."""
        for extra in self._extra_collectors:
            extra.stop()
        if self._stack is not None:
            self._stack.stop()
