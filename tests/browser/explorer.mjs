// The trace explorer as a person uses it, in Debian's headless Chromium driven by playwright-core.
// Run by tests/e2e/test_explorer.py with EXPLORER_URL, EXPLORER_KEY, CHROMIUM_PATH, ARTIFACTS_DIR
// and SEED (what the seed sent). Exits non-zero on the first failed check; writes screenshots
// and timings.json (render times, recorded only) into ARTIFACTS_DIR.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.EXPLORER_URL;
const KEY = process.env.EXPLORER_KEY;
const ARTIFACTS = process.env.ARTIFACTS_DIR;
const SEED = JSON.parse(process.env.SEED);
const TIMEOUT_MS = 15_000;
const timings = {};
const problems = { dialogs: [], pageErrors: [], consoleErrors: [], probeRequests: [] };

function spanHex(number) {
  return number.toString(16).padStart(16, "0");
}

async function step(name, action) {
  const started = Date.now();
  await action();
  console.log(`ok ${name} (${Date.now() - started} ms)`);
}

async function screenshot(page, name, locator = null) {
  const path = join(ARTIFACTS, `${name}.png`);
  if (locator) await locator.screenshot({ path });
  else await page.screenshot({ path });
}

async function ready(page, selector) {
  await page.locator(`${selector}[data-state="ready"]`).waitFor({ timeout: TIMEOUT_MS });
}

async function lastMeasure(page, name) {
  return page.evaluate((entry) => {
    const found = performance.getEntriesByName(entry, "measure");
    return found.length ? Math.round(found[found.length - 1].duration * 10) / 10 : null;
  }, name);
}

async function openHash(page, hash, selector) {
  await page.evaluate((target) => { window.location.hash = target; }, hash);
  await ready(page, selector);
}

async function keyFlow(page) {
  await page.goto(`${BASE}/`);
  const message = page.locator(".key-message");
  await message.waitFor({ timeout: TIMEOUT_MS });
  assert.match(await message.textContent(), /needs a key/);
  await screenshot(page, "key-prompt");

  await page.fill("input[name=key]", "lo_this-key-does-not-exist");
  await page.press("input[name=key]", "Enter");
  await page.locator(".key-message.error-text").waitFor({ timeout: TIMEOUT_MS });
  assert.match(await message.textContent(), /API key was not accepted/);
  assert.equal(await page.evaluate(() => localStorage.getItem("llmobs.explorer.apiKey")), null,
    "a refused key must not be kept");
  await screenshot(page, "wrong-key");

  await page.fill("input[name=key]", KEY);
  await page.press("input[name=key]", "Enter");
  await ready(page, ".list-view");
  assert.equal(await page.evaluate(() => localStorage.getItem("llmobs.explorer.apiKey")), KEY);
}

async function traceList(page) {
  const view = page.locator(".list-view");
  assert.equal(await view.getAttribute("data-count"), String(SEED.traceCount));
  const probeRow = page.locator(`.vl-row[data-trace-id="${SEED.sessionTraceIds[1]}"] .col-name`);
  assert.equal(await probeRow.textContent(), SEED.nameProbe);
  await screenshot(page, "trace-list");

  await page.fill("input[name=model]", SEED.sessionModel);
  await page.press("input[name=model]", "Enter");
  await page.waitForFunction((model) => window.location.hash.includes(`model=${model}`),
    SEED.sessionModel);
  await ready(page, ".list-view");
  await assertFiltered(page);
  await screenshot(page, "trace-list-filtered");

  // The URL holds the state: a reload shows the same filtered list.
  await page.reload();
  await ready(page, ".list-view");
  assert.equal(await page.inputValue("input[name=model]"), SEED.sessionModel);
  await assertFiltered(page);
}

async function assertFiltered(page) {
  assert.equal(await page.locator(".list-view").getAttribute("data-count"), "3");
  const ids = await page.locator(".trace-rows .vl-row").evaluateAll(
    (rows) => rows.map((row) => row.dataset.traceId));
  // Newest first.
  assert.deepEqual(ids, [...SEED.sessionTraceIds].reverse());
}

async function traceDetail(page) {
  // Keyboard: the list has focus; the second row is turn 2, Enter opens it.
  await page.locator(".trace-rows").focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await ready(page, ".trace-view");
  assert.ok(page.url().includes(`#/traces/${SEED.sessionTraceIds[1]}`));

  const labels = await page.locator(".wf-row .wf-label").allTextContents();
  assert.deepEqual(labels, [SEED.nameProbe, `chat ${SEED.sessionModel}`]);
  const panel = page.locator(".trace-panel");
  const fact = (name) => panel.locator(`[data-fact="${name}"]`).textContent();
  assert.equal(await fact("llm-model"), SEED.sessionModel);
  assert.equal(await fact("llm-provider"), "openai");
  assert.match(await fact("llm-price-source"), /genai-prices/);
  assert.match(await fact("llm-cost"), /^\$/);
  assert.equal(await panel.locator(".tokens .badge.estimated").textContent(), "estimated");
  assert.match(await panel.locator('.tokens tr[data-kind="input_tokens"] td').textContent(), /^≈ \d/);

  const roles = await panel.locator(".chat .message .role").allTextContents();
  assert.deepEqual(roles, ["system", "user", "assistant"]);
  const userText = await panel.locator(".message.role-user pre.text").textContent();
  assert.ok(userText.includes(SEED.scriptProbe), userText);
  assert.ok(userText.includes(SEED.imgProbe), userText);
  assert.match(await panel.locator(".message.role-user mark.redacted").textContent(),
    /^\[REDACTED:[A-Z_]+\]$/);
  assert.equal(await page.locator("img").count(), 0);
  assert.equal(await page.locator("script").count(), 1);
  assert.equal(await page.evaluate(() => window.__explorerProbe), undefined);
  await screenshot(page, "trace-detail");
  await screenshot(page, "html-as-text", panel.locator(".message.role-user"));
}

async function toolCallsAndErrors(page) {
  const [turn1, , turn3] = SEED.sessionTraceIds;
  // A deep link selects the span it names.
  await page.goto(`${BASE}/#/traces/${turn1}?span=${spanHex(4)}`);
  await ready(page, ".trace-view");
  assert.equal(await page.locator(".wf-row.is-selected").getAttribute("data-span-id"), spanHex(4));
  const panel = page.locator(".trace-panel");
  assert.match(await panel.locator(".part.tool-call").textContent(), /lookup_order[\s\S]*1042/);
  assert.match(await panel.locator(".part.tool-result").textContent(), /shipped/);
  assert.match(await panel.locator('[data-fact="llm-finish"]').textContent(), /stop/);

  await openHash(page, `#/traces/${turn3}`, ".trace-view");
  assert.equal(await page.locator(".wf-row.is-error").count(), 1);
  await page.locator(".waterfall-rows").focus();
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowDown");
  await page.waitForFunction((id) => window.location.hash.includes(`span=${id}`), spanHex(2));
  assert.match(await panel.locator(".llm-error").textContent(), /429[\s\S]*Rate limit/);
}

async function session(page) {
  await openHash(page, `#/traces/${SEED.sessionTraceIds[1]}`, ".trace-view");
  await page.locator(".session-link").click();
  await ready(page, ".session-view");
  assert.ok(page.url().includes(`#/sessions/${SEED.sessionId}`));
  const ids = await page.locator(".turn-rows .vl-row").evaluateAll(
    (rows) => rows.map((row) => row.dataset.traceId));
  assert.deepEqual(ids, SEED.sessionTraceIds);
  const view = page.locator(".session-view");
  assert.equal(await view.locator('[data-fact="turns"]').textContent(), "3");
  assert.match(await view.locator('[data-fact="cost"]').textContent(), /^\$/);
  assert.match(await view.locator(".session-totals").textContent(), new RegExp(SEED.userId));
  await screenshot(page, "session");

  // Keyboard: the first turn opens with Enter.
  await page.locator(".turn-rows").focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await ready(page, ".trace-view");
  assert.ok(page.url().includes(`#/traces/${SEED.sessionTraceIds[0]}`));
}

async function bigTrace(page) {
  const started = Date.now();
  await openHash(page, `#/traces/${SEED.bigTraceId}`, ".trace-view");
  timings.big_trace_open_ms = Date.now() - started;
  timings.big_trace_fetch_ms = await lastMeasure(page, "explorer:trace-fetch");
  timings.big_trace_render_ms = await lastMeasure(page, "explorer:trace-render");
  assert.equal(await page.locator('[data-fact="span-count"]').textContent(), "1,000");
  const rendered = await page.locator(".wf-row").count();
  assert.ok(rendered > 10 && rendered < 120, `${rendered} rows in the DOM`);
  timings.big_trace_dom_rows = rendered;

  const waterfall = page.locator(".waterfall-rows");
  await waterfall.focus();
  let keyStarted = Date.now();
  for (let i = 0; i < 50; i += 1) await page.keyboard.press("ArrowDown");
  await page.waitForFunction(() => window.location.hash.includes("span="));
  timings.big_trace_arrow_down_ms_each = (Date.now() - keyStarted) / 50;
  timings.big_trace_select_row_ms_median = await page.evaluate(() => {
    const durations = performance.getEntriesByName("explorer:select-row", "measure")
      .slice(-50).map((entry) => entry.duration).sort((a, b) => a - b);
    return Math.round(durations[Math.floor(durations.length / 2)] * 10) / 10;
  });
  keyStarted = Date.now();
  await page.keyboard.press("End");
  const last = spanHex(SEED.bigTraceSpans);
  await page.locator(`.wf-row.is-selected[data-span-id="${last}"]`).waitFor({ timeout: TIMEOUT_MS });
  timings.big_trace_end_key_ms = Date.now() - keyStarted;
  assert.ok(await page.locator(`.wf-row[data-span-id="${last}"]`).isVisible());

  // The first call of step 0 (span 3) carries a 100 KB prompt: collapsed until asked for.
  await openHash(page, `#/traces/${SEED.bigTraceId}?span=${spanHex(3)}`, ".trace-view");
  const user = page.locator(".trace-panel .message.role-user");
  await user.waitFor({ timeout: TIMEOUT_MS });
  const collapsed = (await user.locator("pre.text").textContent()).length;
  assert.ok(collapsed < 1000, `collapsed text is ${collapsed} chars`);
  const expand = user.locator("button.expand");
  assert.match(await expand.textContent(), /Show all \(100\.0 K chars\)/);
  timings.big_trace_span_panel_ms = await lastMeasure(page, "explorer:span-panel");
  await screenshot(page, "big-trace");
  const expandStarted = Date.now();
  await expand.click();
  await page.waitForFunction(
    (chars) => document.querySelector(".trace-panel .message.role-user pre.text").textContent.length >= chars,
    SEED.bigMessageChars,
  );
  timings.big_message_expand_click_ms = Date.now() - expandStarted;
  timings.big_message_expand_render_ms = await lastMeasure(page, "explorer:expand-text");
  await screenshot(page, "big-message-expanded");
}

async function usage(page) {
  await page.goto(`${BASE}/#/usage?range=24h&metric=cost`);
  await ready(page, ".usage-view");
  assert.ok((await page.locator("svg.chart rect.bar").count()) > 0);
  const legend = await page.locator(".legend li").allTextContents();
  assert.ok(legend.includes(SEED.sessionModel), legend.join(", "));
  assert.ok(legend.includes("gpt-4o-mini"), legend.join(", "));
  assert.equal(await page.locator(`.usage-totals tr[data-model="${SEED.sessionModel}"]`).count(), 1);
  await screenshot(page, "usage");

  await page.selectOption("select[name=metric]", "tokens");
  await page.waitForFunction(() => window.location.hash.includes("metric=tokens"));
  await ready(page, ".usage-view");
  assert.ok((await page.locator("svg.chart rect.bar").count()) > 0);
}

async function sessionList(page) {
  await page.goto(`${BASE}/#/sessions?range=24h`);
  await ready(page, ".list-view");
  assert.equal(await page.locator(`.session-rows a[href="#/sessions/${SEED.sessionId}"]`).count(), 1);
  await screenshot(page, "session-list");
}

async function liveRefresh(page) {
  const name = `live probe ${Date.now()}`;
  await page.goto(`${BASE}/#/traces?${new URLSearchParams({ name, live: "1" })}`);
  await ready(page, ".list-view");
  assert.equal(await page.locator(".list-view").getAttribute("data-count"), "0");
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const body = { resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "live-probe" } }] },
    scopeSpans: [{ scope: { name: "tests.browser" }, spans: [{
      traceId: "1f000000000000000000000000000001", spanId: "1f00000000000001", name, kind: 2,
      startTimeUnixNano: String(startNs), endTimeUnixNano: String(startNs + 5_000_000n),
    }] }],
  }] };
  const sent = await fetch(`${process.env.COLLECTOR_URL}/v1/traces`, {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
  });
  assert.equal(sent.status, 200, await sent.text());
  // No reload, no click: the list refreshes itself every 5 s.
  await page.waitForFunction(() => document.querySelector(".list-view")?.dataset.count === "1",
    null, { timeout: 20_000 });
  assert.match(await page.locator(".list-tools .status").textContent(), /refreshed/);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("dialog", async (dialog) => {
      problems.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    page.on("pageerror", (error) => problems.pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") problems.consoleErrors.push(message.text());
    });
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/x") problems.probeRequests.push(request.url());
    });
    await step("key flow: prompt, wrong key refused, key accepted", () => keyFlow(page));
    // The wrong key's 401 is logged by the browser as a failed resource load: expected.
    problems.consoleErrors = problems.consoleErrors.filter((text) => !/401/.test(text));
    await step("trace list, filter by model, deep link", () => traceList(page));
    await step("trace detail: waterfall, LLM panel, chat, HTML as text", () => traceDetail(page));
    await step("tool calls, deep-linked span, errors", () => toolCallsAndErrors(page));
    await step("session view", () => session(page));
    await step("1,000-span trace with 100 KB messages", () => bigTrace(page));
    await step("usage chart", () => usage(page));
    await step("session list", () => sessionList(page));
    await step("live refresh shows a new trace", () => liveRefresh(page));
    const trustedTypes = await page.evaluate(() => {
      try {
        document.body.innerHTML = "<b>x</b>";
        return "assigned";
      } catch (error) {
        return error.name;
      }
    });
    assert.equal(trustedTypes, "TypeError", "the CSP's Trusted Types must refuse HTML strings");
    problems.consoleErrors = problems.consoleErrors.filter((text) => !/TrustedHTML/.test(text));
    assert.deepEqual(problems, { dialogs: [], pageErrors: [], consoleErrors: [], probeRequests: [] });
  } catch (error) {
    console.error("seen in the page before the failure:", JSON.stringify(problems, null, 2));
    throw error;
  } finally {
    writeFileSync(join(ARTIFACTS, "timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
    await browser.close();
  }
  console.log(JSON.stringify({ timings }));
}

await main();
