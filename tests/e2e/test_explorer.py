"""The trace explorer in a real browser: Debian's headless Chromium, driven by playwright-core
from tests/browser/explorer.mjs, against the running stack outside dev mode with a project key.

The seed goes through the collector as real OTLP. The browser script asserts what a person
would check (key flow, filter by model, waterfall, chat, session, usage, HTML in prompts shown as
text) and saves a screenshot of each view under tests/artifacts/explorer/, with the render
times it measured in timings.json (recorded, never asserted).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.binaries import find_chromium
from tests.e2e import explorer_seed
from tests.e2e.npm import npm_ci, require_tool
from tests.e2e.otlp_load import post
from tests.e2e.services import ROOT, Stack, build_stack
from tests.e2e.test_front_door import PEPPER, create_key
from tests.e2e.test_sdk_roundtrip import get_json, wait_for_trace

BROWSER_PROJECT = ROOT / "tests" / "browser"
NEEDED_FOR = "the explorer's browser test"
ARTIFACTS = ROOT / "tests" / "artifacts" / "explorer"


@pytest.fixture
def keyed_stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = build_stack(
        database_url, redis_url, tmp_path, LLMOBS_DEV_MODE="false", LLMOBS_KEY_PEPPER=PEPPER,
        STORAGE_CLAIM_IDLE_SECONDS="2",
    )  # fmt: skip
    try:
        running.start()
        yield running
    finally:
        running.stop()


def seed(stack: Stack, key: str) -> None:
    """Send the seed through the collector and wait until the API reads all of it."""
    headers = {"Authorization": f"Bearer {key}"}
    for request in explorer_seed.build_seed(time.time_ns()).requests:
        status, body, _ = post(f"{stack.http_endpoint}/v1/traces", request.SerializeToString(),
                               headers=headers)  # fmt: skip
        assert status == 200, body
    wait_for_trace(stack.api_url, explorer_seed.BIG_TRACE_ID, explorer_seed.BIG_TRACE_SPANS,
                   timeout=60, headers=headers)  # fmt: skip
    for trace_id, spans in zip(explorer_seed.SESSION_TRACE_IDS, (4, 2, 3), strict=True):
        wait_for_trace(stack.api_url, trace_id, spans, timeout=30, headers=headers)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = get_json(f"{stack.api_url}/v1/traces?limit=1000", headers)["data"]
        if len(listed) >= explorer_seed.BACKGROUND_TRACES + 4:
            return
        time.sleep(0.2)
    raise AssertionError(f"only {len(listed)} traces listed")


def test_explorer_in_a_browser(keyed_stack: Stack) -> None:
    npm_ci(BROWSER_PROJECT, NEEDED_FOR)
    chromium = find_chromium()
    key = create_key(keyed_stack, "--scopes", "ingest,read")["api key"]
    seed(keyed_stack, key)
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    env = {
        **os.environ, "EXPLORER_URL": keyed_stack.api_url, "EXPLORER_KEY": key,
        "COLLECTOR_URL": keyed_stack.http_endpoint,
        "CHROMIUM_PATH": str(chromium), "ARTIFACTS_DIR": str(ARTIFACTS),
        "SEED": json.dumps({
            "sessionId": explorer_seed.SESSION_ID, "sessionModel": explorer_seed.SESSION_MODEL,
            "sessionTraceIds": explorer_seed.SESSION_TRACE_IDS,
            "bigTraceId": explorer_seed.BIG_TRACE_ID,
            "bigTraceSpans": explorer_seed.BIG_TRACE_SPANS,
            "bigMessageChars": explorer_seed.BIG_MESSAGE_CHARS,
            "scriptProbe": explorer_seed.SCRIPT_PROBE, "imgProbe": explorer_seed.IMG_PROBE,
            "nameProbe": explorer_seed.NAME_PROBE, "userId": explorer_seed.USER_ID,
            "traceCount": explorer_seed.BACKGROUND_TRACES + 4,
        }),
    }  # fmt: skip
    run = subprocess.run(
        [require_tool("node", NEEDED_FOR), "explorer.mjs"], cwd=BROWSER_PROJECT, env=env,
        capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    print(run.stdout[-6000:])
    assert run.returncode == 0, (
        f"the browser test failed:\n{run.stdout[-4000:]}\n{run.stderr[-6000:]}"
    )
    timings = json.loads((ARTIFACTS / "timings.json").read_text())
    print(f"explorer timings (ms), screenshots in {ARTIFACTS}: {json.dumps(timings)}")
    screenshots = sorted(path.name for path in ARTIFACTS.glob("*.png"))
    assert screenshots == sorted(
        f"{name}.png" for name in (
            "key-prompt", "wrong-key", "trace-list", "trace-list-filtered", "trace-detail",
            "html-as-text", "session", "big-trace", "big-message-expanded", "usage",
            "session-list",
        )
    )  # fmt: skip
