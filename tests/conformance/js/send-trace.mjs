// Sends one known trace through an OpenTelemetry JavaScript SDK OTLP exporter; exits non-zero
// when the export fails.
//
// Environment:
//   OTLP_TRACES_URL  the collector's traces endpoint, e.g. http://127.0.0.1:4318/v1/traces
//   OTLP_EXPORTER    "json" (@opentelemetry/exporter-trace-otlp-http) or
//                    "proto" (@opentelemetry/exporter-trace-otlp-proto)
//   TRACE_ID         32 hex digits; span ids are 0000000000000001, ...0002, ...0003
//
// The trace: "js agent" (SERVER) with two children, "chat gpt-4o-mini" (CLIENT, GenAI
// attributes and an event) and "tool lookup" (status ERROR, linked to the root).

import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

const { OTLP_TRACES_URL: url, OTLP_EXPORTER: kind, TRACE_ID: traceId } = process.env;
if (!url || !["json", "proto"].includes(kind) || !/^[0-9a-f]{32}$/.test(traceId ?? "")) {
  console.error("set OTLP_TRACES_URL, OTLP_EXPORTER (json|proto) and TRACE_ID (32 hex digits)");
  process.exit(2);
}

let spanCount = 0;
const idGenerator = {
  generateTraceId: () => traceId,
  generateSpanId: () => (++spanCount).toString(16).padStart(16, "0"),
};

// Spans are recorded in memory first, then exported in one call whose result is checked.
const recorded = new InMemorySpanExporter();
const provider = new NodeTracerProvider({
  idGenerator,
  resource: resourceFromAttributes({ "service.name": `conformance-js-${kind}` }),
  spanProcessors: [new SimpleSpanProcessor(recorded)],
});
const tracer = provider.getTracer("tests.conformance.js", "1.0.0");

const root = tracer.startSpan("js agent", {
  kind: SpanKind.SERVER,
  attributes: { "app.flag": true, "app.count": 42, "app.ratio": 0.25, "app.tags": ["a", "b"] },
});
const inRoot = trace.setSpan(context.active(), root);
const chat = tracer.startSpan(
  "chat gpt-4o-mini",
  {
    kind: SpanKind.CLIENT,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.usage.input_tokens": 431,
      "gen_ai.usage.output_tokens": 97,
    },
  },
  inRoot,
);
chat.addEvent("gen_ai.content.prompt", { "gen_ai.prompt": "Hello?" });
chat.end();
const tool = tracer.startSpan("tool lookup", { links: [{ context: root.spanContext() }] }, inRoot);
tool.setStatus({ code: SpanStatusCode.ERROR, message: "lookup failed" });
tool.end();
root.end();
await provider.forceFlush();

const exporter = kind === "json" ? new JsonExporter({ url }) : new ProtoExporter({ url });
const spans = recorded.getFinishedSpans();
exporter.export(spans, async (result) => {
  if (result.code !== ExportResultCode.SUCCESS) {
    console.error(`export of ${spans.length} spans failed:`, result.error);
    process.exit(1);
  }
  console.log(`exported ${spans.length} spans of trace ${traceId} as ${kind}`);
  await exporter.shutdown();
  await provider.shutdown();
});
