"""The running stack outside dev mode: a key made with the storage command line admits OTLP,
Langfuse-style and REST traffic into its project; REST calls come back priced from the API,
read with the same key (scopes ingest and read)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.otlp_load import build_request, post
from tests.e2e.services import ROOT, Stack, build_stack
from tests.e2e.test_sdk_roundtrip import wait_for_trace

PEPPER = "e2e-pepper"


@pytest.fixture
def keyed_stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = build_stack(
        database_url, redis_url, tmp_path, LLMOBS_DEV_MODE="false", LLMOBS_KEY_PEPPER=PEPPER
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def create_key(stack: Stack, *options: str) -> dict[str, str]:
    """Run `python -m services.storage keys create` as an operator would; parse what it prints."""
    result = subprocess.run(
        [sys.executable, "-m", "services.storage", "keys", "create", "--project", "default",
         *options],
        cwd=ROOT, env=stack.storage.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


def rest(stack: Stack, method: str, path: str, key: str, body: object) -> dict[str, str]:
    """One REST ingestion call with the key; its JSON reply."""
    request = urllib.request.Request(
        f"{stack.http_endpoint}{path}", data=json.dumps(body).encode(), method=method,
        headers={"Content-Type": "application/json", "x-api-key": key},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        reply: dict[str, str] = json.load(response)
    return reply


def test_keys_from_the_command_line_open_every_door(keyed_stack: Stack) -> None:
    key = create_key(keyed_stack, "--scopes", "ingest,read")["api key"]
    reader = {"Authorization": f"Bearer {key}"}
    pair = create_key(keyed_stack, "--langfuse")
    url = f"{keyed_stack.http_endpoint}/v1/traces"
    assert post(url, build_request(0, 1))[0] == 401
    assert post(url, build_request(0, 1), headers={"Authorization": f"Bearer {key}"})[0] == 200
    basic = base64.b64encode(
        f"{pair['public key (LANGFUSE_PUBLIC_KEY)']}:{pair['secret key (LANGFUSE_SECRET_KEY)']}"
        .encode()
    ).decode()  # fmt: skip
    langfuse = f"{keyed_stack.http_endpoint}/api/public/otel/v1/traces"
    assert (
        post(langfuse, build_request(1, 2), headers={"Authorization": f"Basic {basic}"})[0] == 200
    )
    wait_for_trace(keyed_stack.api_url, (2).to_bytes(16, "big").hex(), 2, headers=reader)

    trace = rest(keyed_stack, "POST", "/api/traces", key, {"name": "rest run", "user_id": "u"})
    span = rest(keyed_stack, "POST", f"/api/traces/{trace['trace_id']}/spans", key, {
        "name": "chat", "kind": "llm", "model": "gpt-4o-mini", "provider": "openai",
        "input": "Hello?",
    })  # fmt: skip
    rest(keyed_stack, "PATCH", f"/api/spans/{span['span_id']}/complete", key, {
        "output": "Hi!", "usage": {"input_tokens": 12, "output_tokens": 3},
    })  # fmt: skip
    rest(keyed_stack, "PATCH", f"/api/traces/{trace['trace_id']}/complete", key, {})
    body = wait_for_trace(keyed_stack.api_url, trace["trace_id"], 2, headers=reader)
    [root] = body["spans"]
    [call] = root["children"]
    assert root["name"] == "rest run"
    assert call["llm"]["usage"]["input_tokens"] == 12
    assert Decimal(call["llm"]["cost"]["total_usd"]) > 0
    assert call["llm"]["user_id"] == "u"
