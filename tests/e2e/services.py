"""The three services as real processes for end-to-end tests, each on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.servers import find_free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    """One service started with `python -m services.<name>`; its output goes to a log file."""

    name: str
    env: dict[str, str]
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout_seconds: float = 30.0) -> None:
        """Start the process and wait until its health endpoint answers."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} did not become healthy: {self.log_path.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no chance to flush or acknowledge anything."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait for a clean exit."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    """Collector, storage and api sharing one database and one Redis."""

    collector: ServiceProcess
    storage: ServiceProcess
    api: ServiceProcess
    grpc_endpoint: str
    http_endpoint: str
    api_url: str
    # host:port of each service's Prometheus /metrics, by service name.
    metrics_targets: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        """Start storage first (it migrates), then the collector and the api."""
        for service in (self.storage, self.collector, self.api):
            service.start()

    def stop(self) -> None:
        """Stop all three, the api first."""
        for service in (self.api, self.collector, self.storage):
            service.stop()


def build_stack(database_url: str, redis_url: str, log_dir: Path, **extra_env: str) -> Stack:
    """A stack on free ports; `extra_env` overrides settings (e.g. STORAGE_CLAIM_IDLE_SECONDS)."""
    ports = {name: find_free_port() for name in (
        "grpc", "http", "collector_metrics", "storage_http", "storage_metrics", "api",
        "api_metrics")}  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LLMOBS_DEV_MODE": "true",
        "LOG_LEVEL": "INFO",
        "COLLECTOR_HOST": "127.0.0.1",
        "COLLECTOR_GRPC_PORT": str(ports["grpc"]),
        "COLLECTOR_HTTP_PORT": str(ports["http"]),
        "COLLECTOR_METRICS_PORT": str(ports["collector_metrics"]),
        "STORAGE_HOST": "127.0.0.1",
        "STORAGE_HTTP_PORT": str(ports["storage_http"]),
        "STORAGE_METRICS_PORT": str(ports["storage_metrics"]),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(ports["api"]),
        "API_METRICS_PORT": str(ports["api_metrics"]),
        # The fixtures' timestamps are fixed dates: keep them past the default retention.
        "RETENTION_SPANS_DAYS": "3650",
        **extra_env,
    }
    return Stack(
        collector=ServiceProcess(
            "collector", env, f"http://127.0.0.1:{ports['http']}/health",
            log_dir / "collector.log",
        ),
        storage=ServiceProcess(
            "storage", env, f"http://127.0.0.1:{ports['storage_http']}/health",
            log_dir / "storage.log",
        ),
        api=ServiceProcess(
            "api", env, f"http://127.0.0.1:{ports['api']}/health", log_dir / "api.log"
        ),
        grpc_endpoint=f"127.0.0.1:{ports['grpc']}",
        http_endpoint=f"http://127.0.0.1:{ports['http']}",
        api_url=f"http://127.0.0.1:{ports['api']}",
        metrics_targets={
            name: f"127.0.0.1:{ports[f'{name}_metrics']}"
            for name in ("collector", "storage", "api")
        },
    )  # fmt: skip
