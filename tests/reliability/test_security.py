"""Security checks: keys compared in constant time, SQL only with bound parameters, no key or
message content in any service log, the production compose file authenticated and private."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import yaml
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from shared.apikeys import generate_key
from shared.keystore import create_key
from tests.e2e.otlp_load import post
from tests.reliability.faults import start_stack
from tests.reliability.hostile import one_span_request
from tests.reliability.ledger import SECURITY, Case, Ledger

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")])
SECRET_NAME = re.compile(r"secret|key_hash|stored_hash|admin_key|api_key|password|pepper", re.I)
SQL_CALLS = {"execute", "executemany", "copy", "stream"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def test_secrets_are_compared_in_constant_time(ledger: Ledger) -> None:
    """No `==`/`!=` on anything named like a secret or a key hash; hmac.compare_digest instead."""
    plain: list[str] = []
    digests = 0
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
            ):
                operands = [node.left, *node.comparators]
                if any(SECRET_NAME.search(_name(o)) for o in operands):
                    plain.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and _name(node.func) == "compare_digest":
                digests += 1
    verify = ast.parse((ROOT / "shared" / "apikeys.py").read_text())
    function = next(
        n for n in ast.walk(verify) if isinstance(n, ast.FunctionDef) and n.name == "verify_key"
    )
    assert any(
        isinstance(n, ast.Call) and _name(n.func) == "compare_digest" for n in ast.walk(function)
    ), "verify_key must use hmac.compare_digest"
    ledger.record(
        Case(
            SECURITY,
            "API keys compared in constant time",
            f"{len(SOURCES)} modules",
            {"findings": len(plain)},
            f"{digests} hmac.compare_digest calls; keys stored as HMAC-SHA256 "
            "under a server pepper",
            passed=not plain,
        )
    )
    assert not plain, f"secrets compared with ==: {plain}"


def test_sql_is_never_built_from_strings(ledger: Ledger) -> None:
    """The SQL argument of execute/copy/stream is a constant, a name bound to one, or composed
    with psycopg.sql; never an f-string, `%` or `+` on text, or str.format."""
    built: list[str] = []
    calls = 0
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and _name(node.func) in SQL_CALLS and node.args):
                continue
            calls += 1
            query = node.args[0]
            is_built = (
                isinstance(query, ast.JoinedStr)
                or (isinstance(query, ast.BinOp) and isinstance(query.op, ast.Mod | ast.Add))
                or (
                    isinstance(query, ast.Call)
                    and _name(query.func) == "format"
                    and isinstance(query.func, ast.Attribute)
                    and isinstance(query.func.value, ast.Constant)
                )
            )
            if is_built:
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    ledger.record(
        Case(
            SECURITY,
            "SQL only with bound parameters",
            f"{calls} SQL calls",
            {"findings": len(built)},
            "plus injection payloads in every API parameter (hostile input)",
            passed=not built,
        )
    )
    assert calls > 20, "the scan must find the SQL calls"
    assert not built, f"SQL built from strings: {built}"


def test_no_key_or_message_content_in_logs(
    database_url: str, redis_url: str, tmp_path: Path, ledger: Ledger
) -> None:
    """A DEBUG-level run with valid and invalid keys, LLM content, bad bodies and API reads:
    no service log line holds a key or the content."""
    marker = f"CONTENT-{uuid.uuid4().hex}"
    wrong_key = f"lo_WRONG{uuid.uuid4().hex}"
    key = generate_key()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO projects (project_id, name) VALUES ('p', 'p')")

    async def add() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as c:
            await create_key(c, key, "p", "logs", ("ingest", "read"), "pepper")

    asyncio.run(add())
    stack = start_stack(
        database_url,
        redis_url,
        tmp_path,
        LOG_LEVEL="DEBUG",
        LLMOBS_DEV_MODE="false",
        LLMOBS_KEY_PEPPER="pepper",
    )
    try:
        request = one_span_request(name=f"chat {marker}")
        span = request.resource_spans[0].scope_spans[0].spans[0]
        for name in ("gen_ai.prompt", "gen_ai.completion", "gen_ai.input.messages"):
            span.attributes.append(KeyValue(key=name, value=AnyValue(string_value=marker)))
        body = request.SerializeToString()
        url = f"{stack.http_endpoint}/v1/traces"
        statuses = [
            post(url, body, headers={"Authorization": f"Bearer {key.secret}"})[0],
            post(url, body, headers={"Authorization": f"Bearer {wrong_key}"})[0],
            post(
                url, body, headers={"x-api-key": key.secret, "Authorization": f"Bearer {wrong_key}"}
            )[0],
            post(
                url, body[:-3] + marker.encode(), headers={"Authorization": f"Bearer {key.secret}"}
            )[0],
            post(
                url,
                f'{{"resourceSpans": "{marker}"}}'.encode(),
                "application/json",
                {"Authorization": f"Bearer {key.secret}"},
            )[0],
        ]
        for secret in (key.secret, wrong_key):
            call = urllib.request.Request(
                f"{stack.api_url}/v1/traces?text={marker}",
                headers={"Authorization": f"Bearer {secret}"},
            )
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(call, timeout=10).read()
        time.sleep(2.0)  # storage writes the accepted span (and would log it if it logged)
    finally:
        stack.stop()
    logs = {
        name: (tmp_path / f"{name}.log").read_text() for name in ("collector", "storage", "api")
    }
    lines = sum(text.count("\n") for text in logs.values())
    leaks = [
        f"{name}: {line[:200]}"
        for name, text in logs.items()
        for line in text.splitlines()
        if marker in line or key.secret in line or wrong_key in line
    ]
    ledger.record(
        Case(
            SECURITY,
            "keys and message contents never logged",
            "DEBUG logs of collector, storage and api over valid, wrong and doubled "
            "keys, LLM content, bad bodies and API reads",
            {"findings": len(leaks)},
            f"{lines} log lines read",
            passed=not leaks,
        )
    )
    assert statuses[0] == 200 and statuses[1] == 401, statuses
    assert lines > 10, "the services logged at DEBUG"
    assert not leaks, leaks


def test_production_compose_authenticates_and_keeps_data_ports_private(ledger: Ledger) -> None:
    """Services reachable beyond localhost authenticate; everything else binds to 127.0.0.1;
    no password has a default."""
    stack = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    public: list[str] = []
    for name, service in stack.items():
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                public.append(name)
    assert sorted(set(public)) == ["api", "collector", "grafana"], public
    for name in ("api", "collector"):
        env = stack[name]["environment"]
        assert env["LLMOBS_DEV_MODE"] == "false", f"{name} must require API keys"
        assert env["LLMOBS_KEY_PEPPER"].startswith("${LLMOBS_KEY_PEPPER:?")
    assert stack["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith(
        "${GRAFANA_ADMIN_PASSWORD:?"
    )
    assert stack["timescaledb"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    ledger.record(
        Case(
            SECURITY,
            "production compose: authentication on, data ports private",
            "docker-compose.yml",
            {"findings": 0},
            "published beyond localhost: collector and api (API keys required), "
            "grafana (admin password required); PostgreSQL, Redis, Prometheus, "
            "pgAdmin and metrics on 127.0.0.1",
            passed=True,
        )
    )
