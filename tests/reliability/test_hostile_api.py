"""Injection and traversal payloads in every parameter of the query API and of the REST
ingestion paths, and malformed REST bodies: never a 5xx, never another project's data, the
tables untouched, the processes up."""

from __future__ import annotations

import asyncio
import collections
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.api.routes import ENDPOINTS
from tests.api.seed import seed
from tests.api.test_isolation import ADMIN_KEY, OTHER_TRACE, PATH_VALUES, PEPPER, make_keys
from tests.e2e.otlp_load import post
from tests.e2e.services import Stack
from tests.reliability.faults import start_stack
from tests.reliability.ledger import HOSTILE, Case, Ledger
from tests.reliability.load import rss_bytes

PAYLOADS = (
    "../../../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "..\\..\\windows\\win.ini",
    "' OR '1'='1",
    "1; DROP TABLE spans; --",
    '" OR 1=1 --',
    "x' UNION SELECT key_hash::text FROM api_keys --",
    "default'); DELETE FROM spans; --",
    "\x00",
    "%00",
    "a" * 5000,
    "-1",
    "9" * 40,
    "1e309",
    "{{7*7}}",
)
# Data of the project "other" that no request with the default project's keys may show.
OTHER_MARKERS = (OTHER_TRACE, "other-s1", "other-u1")


@pytest.fixture
def tenants_stack(
    database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Stack, object]]:
    asyncio.run(seed(database_url))
    keys = asyncio.run(make_keys(database_url))
    stack = start_stack(
        database_url,
        redis_url,
        tmp_path,
        LLMOBS_DEV_MODE="false",
        LLMOBS_ADMIN_KEY=ADMIN_KEY,
        LLMOBS_KEY_PEPPER=PEPPER,
        RATE_LIMIT_REQUESTS="0",
        API_STATEMENT_TIMEOUT_MS="5000",
    )
    try:
        yield stack, keys
    finally:
        stack.stop()


def table_counts(database_url: str) -> tuple[int, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM spans WHERE project_id "
            "= 'other'), (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL), "
            "(SELECT count(*) FROM projects)"
        ).fetchone()
    assert row is not None
    return tuple(int(value) for value in row)


def request(url: str, method: str, headers: dict[str, str]) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    call = urllib.request.Request(
        url, method=method, headers=headers, data=b"{}" if method in ("POST", "PATCH") else None
    )
    if method in ("POST", "PATCH"):
        call.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api_urls(base: str) -> Iterator[tuple[str, str, str, str]]:
    """(method, url, parameter, payload) for every payload in every parameter of every
    endpoint, the other parameters left out (path ones filled with the default project's)."""
    for endpoint in ENDPOINTS:
        for param in endpoint.params:
            for payload in PAYLOADS:
                path = endpoint.path
                query = ""
                quoted = urllib.parse.quote(payload, safe="")
                if param.location == "path":
                    path = path.replace("{" + param.name + "}", quoted)
                else:
                    query = f"?{param.name}={quoted}"
                for name, value in PATH_VALUES.items():
                    path = path.replace(
                        "{" + name + "}", "default" if name == "project_id" else value
                    )
                yield endpoint.method, f"{base}{path}{query}", param.name, payload


def test_injection_in_every_api_parameter(
    tenants_stack: tuple[Stack, object], database_url: str, ledger: Ledger
) -> None:
    stack, keys = tenants_stack
    before = table_counts(database_url)
    answers: collections.Counter[int] = collections.Counter()
    headers = {**keys.default_read}  # type: ignore[attr-defined]
    admin = {**keys.default_admin}  # type: ignore[attr-defined]
    sent = 0
    for method, url, param, payload in api_urls(stack.api_url):
        status, body = request(
            url, method, headers if method == "GET" and "/projects/" not in url else admin
        )
        sent += 1
        answers[status] += 1
        assert status < 500, (method, url, param, payload, status, body[:300])
        if status == 200:
            text = body.decode(errors="replace")
            assert not any(marker in text for marker in OTHER_MARKERS), (url, text[:300])
    assert stack.api.process is not None and stack.api.process.poll() is None
    rss = rss_bytes(stack.api.process.pid)
    after = table_counts(database_url)
    ledger.record(
        Case(
            HOSTILE,
            "path traversal and SQL injection in every API parameter",
            f"{len(PAYLOADS)} payloads x {sum(len(e.params) for e in ENDPOINTS)} parameters of "
            f"{len(ENDPOINTS)} endpoints, a project key",
            {
                "requests": sent,
                "server errors": 0,
                "crashes": 0,
                "peak RSS MiB": round(rss / 2**20),
            },
            ", ".join(f"{status} x {count}" for status, count in sorted(answers.items()))
            + "; no other project's data in any answer; tables unchanged",
            passed=True,
        )
    )
    assert after == before, "no payload changed any table"


REST_BODIES = (
    ("body is an array", b"[]"),
    ("name is a number", b'{"name": 5}'),
    ("id is an object", b'{"name": "t", "id": {"$ne": null}}'),
    ("huge name", b'{"name": "' + b"x" * (2 << 20) + b'"}'),
    ("invalid UTF-8", b'{"name": "\xff\xfe"}'),
    ("not JSON", b"name=t"),
    ("start_time far future", b'{"name": "t", "start_time": "99999-01-01T00:00:00Z"}'),
    ("metadata nested 5000 deep", b'{"name": "t", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
)
REST_PATHS = ("/api/traces/{id}/spans", "/api/spans/{id}/complete", "/api/traces/{id}/complete")


def test_hostile_rest_ingestion(stack_dev: Stack, ledger: Ledger) -> None:
    answers: collections.Counter[int] = collections.Counter()
    base = stack_dev.http_endpoint
    for _, body in REST_BODIES:
        status, reply, _ = post(f"{base}/api/traces", body, "application/json")
        answers[status] += 1
        assert 400 <= status < 500 and reply, (body[:60], status, reply[:200])
    for path in REST_PATHS:
        for payload in PAYLOADS:
            url = base + path.replace("{id}", urllib.parse.quote(payload, safe=""))
            method = "POST" if path.endswith("spans") else "PATCH"
            status, reply = request(url, method, {})
            answers[status] += 1
            assert 400 <= status < 500, (url, status, reply[:200])
    assert stack_dev.collector.process is not None and stack_dev.collector.process.poll() is None
    ledger.record(
        Case(
            HOSTILE,
            "REST ingestion: malformed bodies, injection in path ids (http)",
            f"{len(REST_BODIES)} bodies, {len(PAYLOADS)} payloads x {len(REST_PATHS)} paths",
            {
                "requests": sum(answers.values()),
                "server errors": 0,
                "crashes": 0,
                "peak RSS MiB": round(rss_bytes(stack_dev.collector.process.pid) / 2**20),
            },
            ", ".join(f"{status} x {count}" for status, count in sorted(answers.items())),
            passed=True,
        )
    )


@pytest.fixture
def stack_dev(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = start_stack(database_url, redis_url, tmp_path)
    try:
        yield running
    finally:
        running.stop()
