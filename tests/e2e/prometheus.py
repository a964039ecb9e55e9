"""A real Prometheus (Debian's binary) scraping a test stack every second, and its query API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from deploy.local.servers import find_free_port
from tests.e2e.services import ROOT

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def write_config(directory: Path, targets: Mapping[str, str]) -> Path:
    """prometheus.yml for `targets` (job name -> host:port) scraped every second, with the
    project's alerting and recording rules beside it."""
    shutil.copy(RULES, directory / RULES.name)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [RULES.name],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def run_prometheus(
    bindir: Path, targets: Mapping[str, str], directory: Path, timeout_seconds: float = 30
) -> Iterator[str]:
    """Run Prometheus on a free port with its TSDB under `directory`; yield its base URL."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory, targets)
    port = find_free_port()
    log_path = directory / "prometheus.log"
    argv = [
        str(bindir / "prometheus"), f"--config.file={config}",
        f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path, timeout_seconds)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_seconds: float
) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"prometheus not ready: {log_path.read_text()[-3000:]}")


def api_get(url: str, path: str, **params: str) -> Any:
    """GET a Prometheus API path; return its `data` (AssertionError unless status is success)."""
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}{path}?{query}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def wait_for_series(url: str, query: str, timeout_seconds: float = 30) -> list[dict[str, Any]]:
    """The instant vector of `query` once it is not empty."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        result: list[dict[str, Any]] = api_get(url, "/api/v1/query", query=query)["result"]
        if result or time.monotonic() > deadline:
            assert result, f"{query}: no series within {timeout_seconds}s"
            return result
        time.sleep(0.5)
