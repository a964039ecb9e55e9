"""Conformance with a client nobody here wrote: the OpenTelemetry JavaScript SDK's OTLP/HTTP
exporters (JSON and protobuf), run by node from npm, against the running stack."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.e2e.services import ROOT, Stack
from tests.e2e.stored import wait_for_rows

JS_PROJECT = ROOT / "tests" / "conformance" / "js"
# npm writes this last: its presence means a complete install.
INSTALLED_MARKER = JS_PROJECT / "node_modules" / ".package-lock.json"
SPANS = """
SELECT span_id, parent_span_id, name, kind, status_code, status_message, attributes,
       events -> 0 ->> 'name', links -> 0 ->> 'span_id', service_name, scope_name, scope_version
FROM spans WHERE trace_id = %s ORDER BY span_id
"""


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: the JavaScript SDK conformance test needs node (>= 20.6)"
            " and npm to install the SDK from tests/conformance/js/package-lock.json"
        )
    return path


def install_sdk() -> None:
    """`npm ci` into tests/conformance/js unless a complete install is there already."""
    if INSTALLED_MARKER.exists():
        return
    result = subprocess.run(
        [tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=JS_PROJECT, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(
            f"npm ci failed in {JS_PROJECT}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
        )


@pytest.mark.parametrize(
    ("exporter", "trace_id"),
    [("json", "4a50000000000000000000000000a001"), ("proto", "4a50000000000000000000000000b002")],
)
def test_javascript_sdk_trace_is_stored_once(
    stack: Stack, database_url: str, exporter: str, trace_id: str
) -> None:
    install_sdk()
    env = {**os.environ, "OTLP_TRACES_URL": f"{stack.http_endpoint}/v1/traces",
           "OTLP_EXPORTER": exporter, "TRACE_ID": trace_id}  # fmt: skip
    sent = subprocess.run(
        [tool("node"), "send-trace.mjs"], cwd=JS_PROJECT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, f"the JavaScript exporter failed:\n{sent.stderr}"
    rows = wait_for_rows(database_url, SPANS, (trace_id,), 3)
    root, chat, tool_span = "0000000000000001", "0000000000000002", "0000000000000003"
    common = (f"conformance-js-{exporter}", "tests.conformance.js", "1.0.0")
    assert rows == [
        (root, None, "js agent", 2, 0, "",
         {"app.flag": True, "app.count": 42, "app.ratio": 0.25, "app.tags": ["a", "b"]},
         None, None, *common),
        (chat, root, "chat gpt-4o-mini", 3, 0, "",
         {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.usage.input_tokens": 431, "gen_ai.usage.output_tokens": 97},
         "gen_ai.content.prompt", None, *common),
        (tool_span, root, "tool lookup", 1, 2, "lookup failed", {}, None, root, *common),
    ]  # fmt: skip
