"""Conformance with a client nobody here wrote: the OpenTelemetry JavaScript SDK's OTLP/HTTP
exporters (JSON and protobuf), run by node from npm, against the running stack."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.npm import npm_ci, require_tool
from tests.e2e.services import ROOT, Stack
from tests.e2e.stored import wait_for_rows

JS_PROJECT = ROOT / "tests" / "conformance" / "js"
NEEDED_FOR = "the JavaScript SDK conformance test (node >= 20.6)"
SPANS = """
SELECT span_id, parent_span_id, name, kind, status_code, status_message, attributes,
       events -> 0 ->> 'name', links -> 0 ->> 'span_id', service_name, scope_name, scope_version
FROM spans WHERE trace_id = %s ORDER BY span_id
"""


@pytest.mark.parametrize(
    ("exporter", "trace_id"),
    [("json", "4a50000000000000000000000000a001"), ("proto", "4a50000000000000000000000000b002")],
)
def test_javascript_sdk_trace_is_stored_once(
    stack: Stack, database_url: str, exporter: str, trace_id: str
) -> None:
    npm_ci(JS_PROJECT, NEEDED_FOR)
    env = {**os.environ, "OTLP_TRACES_URL": f"{stack.http_endpoint}/v1/traces",
           "OTLP_EXPORTER": exporter, "TRACE_ID": trace_id}  # fmt: skip
    sent = subprocess.run(
        [require_tool("node", NEEDED_FOR), "send-trace.mjs"], cwd=JS_PROJECT, env=env,
        capture_output=True,
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
