-- Sample LLM traces in project `default`, shaped as the collector stores them: two turns of a
-- support chat (retrieval, embeddings, a streamed answer, a cache hit), an agent calling a
-- tool, a streamed summary, and a call refused with HTTP 429. Costs are genai-prices 0.2.3's.
-- Needs the migrated schema (storage applies it when it starts). Running it again replaces
-- these traces, moved to end a few minutes before now:
--   docker compose run --rm dev-utils sh -c "psql < /seed-data/seed.sql"

BEGIN;

CREATE TEMP TABLE seed_spans ON COMMIT DROP AS
SELECT s.trace AS trace_id,
       s.span AS span_id,
       s.parent AS parent_span_id,
       s.name,
       s.kind,
       t.anchor + s.at_ms * interval '1 millisecond' AS start_time,
       t.anchor + (s.at_ms + s.ms) * interval '1 millisecond' AS end_time,
       coalesce(s.status, 0) AS status_code,
       coalesce(s.status_message, '') AS status_message,
       t.service AS service_name,
       coalesce(s.attributes, '{}') AS attributes,
       jsonb_build_object(
           'service.name', t.service, 'service.version', t.version,
           'deployment.environment.name', 'production',
           'telemetry.sdk.language', 'python', 'telemetry.sdk.name', 'opentelemetry',
           'telemetry.sdk.version', '1.38.0') AS resource_attributes,
       coalesce(s.scope, t.service) AS scope_name,
       -- Identity is kept on the root and, as storage propagates it, on every LLM call.
       CASE WHEN s.parent IS NULL OR s.llm IS NOT NULL THEN t.session END AS session_id,
       CASE WHEN s.parent IS NULL OR s.llm IS NOT NULL THEN t.user_id END AS user_id,
       CASE WHEN s.parent IS NULL OR s.llm IS NOT NULL THEN t.tags END AS tags,
       s.llm
FROM jsonb_to_recordset($json$[
  {"trace": "5eed0000000000000000000000000001", "minutes_ago": 45, "service": "support-bot",
   "version": "2.14.0", "session": "sess-7f3a", "user_id": "user-1842", "tags": ["support", "rag"]},
  {"trace": "5eed0000000000000000000000000002", "minutes_ago": 38, "service": "support-bot",
   "version": "2.14.0", "session": "sess-7f3a", "user_id": "user-1842", "tags": ["support", "rag"]},
  {"trace": "5eed0000000000000000000000000003", "minutes_ago": 27, "service": "travel-agent",
   "version": "0.9.3", "session": "trip-2291", "user_id": "user-0097", "tags": ["agent"]},
  {"trace": "5eed0000000000000000000000000004", "minutes_ago": 12, "service": "doc-summarizer",
   "version": "1.2.1", "session": null, "user_id": "user-3310", "tags": ["batch"]},
  {"trace": "5eed0000000000000000000000000005", "minutes_ago": 4, "service": "support-bot",
   "version": "2.14.0", "session": "sess-91c2", "user_id": "user-2210", "tags": ["support"]}
]$json$::jsonb) AS t0(trace text, minutes_ago integer, service text, version text,
                      session text, user_id text, tags jsonb)
CROSS JOIN LATERAL (
    SELECT t0.trace, t0.service, t0.version, t0.session, t0.user_id,
           ARRAY(SELECT jsonb_array_elements_text(t0.tags)) AS tags,
           date_trunc('second', now()) - t0.minutes_ago * interval '1 minute' AS anchor
) AS t
JOIN jsonb_to_recordset($json$[
  {"trace": "5eed0000000000000000000000000001", "span": "5eed000000000101", "parent": null,
   "name": "POST /v1/chat", "kind": 2, "at_ms": 0, "ms": 2480, "scope": "opentelemetry.instrumentation.fastapi",
   "attributes": {"http.request.method": "POST", "http.route": "/v1/chat", "http.response.status_code": 200}},
  {"trace": "5eed0000000000000000000000000001", "span": "5eed000000000102", "parent": "5eed000000000101",
   "name": "embeddings text-embedding-3-small", "kind": 3, "at_ms": 35, "ms": 180,
   "scope": "opentelemetry.instrumentation.openai_v2",
   "attributes": {"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
                  "gen_ai.request.model": "text-embedding-3-small",
                  "gen_ai.response.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 14,
                  "server.address": "api.openai.com"},
   "llm": {"span_type": "embedding", "is_counted": true, "provider": "openai", "operation": "embeddings",
           "request_model": "text-embedding-3-small", "response_model": "text-embedding-3-small",
           "input_tokens": 14, "total_tokens": 14, "usage_source": "reported",
           "cost_usd": "0.00000028", "input_cost_usd": "0.00000028", "output_cost_usd": "0",
           "price_model": "text-embedding-3-small", "is_streaming": false}},
  {"trace": "5eed0000000000000000000000000001", "span": "5eed000000000103", "parent": "5eed000000000101",
   "name": "retrieve_documents", "kind": 1, "at_ms": 220, "ms": 95,
   "attributes": {"db.system.name": "postgresql", "retrieval.top_k": 4, "retrieval.documents_found": 4}},
  {"trace": "5eed0000000000000000000000000001", "span": "5eed000000000104", "parent": "5eed000000000101",
   "name": "chat gpt-4o-mini", "kind": 3, "at_ms": 330, "ms": 2100,
   "scope": "opentelemetry.instrumentation.openai_v2",
   "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                  "gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.temperature": 0.2,
                  "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                  "gen_ai.response.id": "chatcmpl-B9x2kQe7RZ1aVtLw0mPZ3hTnS4yUc",
                  "gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 1850,
                  "gen_ai.usage.output_tokens": 212, "server.address": "api.openai.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "openai", "operation": "chat",
           "request_model": "gpt-4o-mini", "response_model": "gpt-4o-mini-2024-07-18",
           "response_id": "chatcmpl-B9x2kQe7RZ1aVtLw0mPZ3hTnS4yUc",
           "input_tokens": 1850, "output_tokens": 212, "total_tokens": 2062, "usage_source": "reported",
           "cost_usd": "0.0004047", "input_cost_usd": "0.0002775", "output_cost_usd": "0.0001272",
           "price_model": "gpt-4o-mini", "finish_reasons": ["stop"], "finish_reasons_raw": ["stop"],
           "time_to_first_token_ms": 412.5, "is_streaming": true,
           "system_instructions": [{"type": "text", "content": "You are the support assistant for Acme Cloud. Answer from the documents provided and cite them."}],
           "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "How do I rotate my API key without downtime?"}]}],
           "output_messages": [{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "Create a second key under Settings > API keys, deploy it to your services, then revoke the old key once its last-used time stops advancing [doc 2]."}]}]}},
  {"trace": "5eed0000000000000000000000000002", "span": "5eed000000000201", "parent": null,
   "name": "POST /v1/chat", "kind": 2, "at_ms": 0, "ms": 1650, "scope": "opentelemetry.instrumentation.fastapi",
   "attributes": {"http.request.method": "POST", "http.route": "/v1/chat", "http.response.status_code": 200}},
  {"trace": "5eed0000000000000000000000000002", "span": "5eed000000000202", "parent": "5eed000000000201",
   "name": "chat gpt-4o-mini", "kind": 3, "at_ms": 20, "ms": 1590,
   "scope": "opentelemetry.instrumentation.openai_v2",
   "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                  "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                  "gen_ai.response.id": "chatcmpl-B9x3Fh2LqW8nYcK5dTzR0pXe1vMa",
                  "gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 2210,
                  "gen_ai.usage.output_tokens": 158, "gen_ai.usage.cache_read.input_tokens": 1536,
                  "server.address": "api.openai.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "openai", "operation": "chat",
           "request_model": "gpt-4o-mini", "response_model": "gpt-4o-mini-2024-07-18",
           "response_id": "chatcmpl-B9x3Fh2LqW8nYcK5dTzR0pXe1vMa",
           "input_tokens": 2210, "output_tokens": 158, "total_tokens": 2368, "cache_read_tokens": 1536,
           "usage_source": "reported", "cost_usd": "0.0003111", "input_cost_usd": "0.0002163",
           "output_cost_usd": "0.0000948", "cache_read_cost_usd": "0.0001152",
           "price_model": "gpt-4o-mini", "finish_reasons": ["stop"], "finish_reasons_raw": ["stop"],
           "time_to_first_token_ms": 298.0, "is_streaming": true,
           "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "And for keys used by CI jobs?"}]}],
           "output_messages": [{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "Use a separate key per pipeline, stored as a masked CI secret, and rotate it the same way: add the new key, update the secret, revoke the old one."}]}]}},
  {"trace": "5eed0000000000000000000000000003", "span": "5eed000000000301", "parent": null,
   "name": "invoke_agent travel_planner", "kind": 1, "at_ms": 0, "ms": 6420,
   "scope": "opentelemetry.instrumentation.anthropic",
   "attributes": {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "travel_planner",
                  "gen_ai.provider.name": "anthropic"},
   "llm": {"span_type": "agent", "is_counted": false, "provider": "anthropic", "operation": "invoke_agent",
           "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "Should I pack an umbrella for Lisbon tomorrow?"}]}],
           "output_messages": [{"role": "assistant", "parts": [{"type": "text", "content": "No umbrella needed: tomorrow in Lisbon is sunny with a high of 24 °C."}]}]}},
  {"trace": "5eed0000000000000000000000000003", "span": "5eed000000000302", "parent": "5eed000000000301",
   "name": "chat claude-sonnet-4-5", "kind": 3, "at_ms": 40, "ms": 2310,
   "scope": "opentelemetry.instrumentation.anthropic",
   "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                  "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.request.max_tokens": 1024,
                  "gen_ai.response.model": "claude-sonnet-4-5-20250929",
                  "gen_ai.response.id": "msg_01HqVb2n7XyT4kP9sRcWm3Ld",
                  "gen_ai.response.finish_reasons": ["tool_use"], "gen_ai.usage.input_tokens": 1320,
                  "gen_ai.usage.output_tokens": 96, "server.address": "api.anthropic.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "anthropic", "operation": "chat",
           "request_model": "claude-sonnet-4-5", "response_model": "claude-sonnet-4-5-20250929",
           "response_id": "msg_01HqVb2n7XyT4kP9sRcWm3Ld",
           "input_tokens": 1320, "output_tokens": 96, "total_tokens": 1416, "usage_source": "reported",
           "cost_usd": "0.00540", "input_cost_usd": "0.00396", "output_cost_usd": "0.00144",
           "price_model": "claude-sonnet-4-5", "finish_reasons": ["tool_call"], "finish_reasons_raw": ["tool_use"],
           "is_streaming": false,
           "tool_definitions": [{"type": "function", "name": "get_weather", "description": "Forecast for a city on a date",
                                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "date": {"type": "string", "format": "date"}}, "required": ["city"]}}],
           "tool_calls": [{"id": "toolu_01A7mXc3vQeR9tYk", "name": "get_weather", "arguments": {"city": "Lisbon", "date": "tomorrow"}}],
           "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "Should I pack an umbrella for Lisbon tomorrow?"}]}],
           "output_messages": [{"role": "assistant", "finish_reason": "tool_call", "parts": [{"type": "tool_call", "id": "toolu_01A7mXc3vQeR9tYk", "name": "get_weather", "arguments": {"city": "Lisbon", "date": "tomorrow"}}]}]}},
  {"trace": "5eed0000000000000000000000000003", "span": "5eed000000000303", "parent": "5eed000000000301",
   "name": "execute_tool get_weather", "kind": 1, "at_ms": 2370, "ms": 640,
   "scope": "opentelemetry.instrumentation.anthropic",
   "attributes": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                  "gen_ai.tool.call.id": "toolu_01A7mXc3vQeR9tYk"},
   "llm": {"span_type": "tool", "is_counted": false, "operation": "execute_tool",
           "tool_calls": [{"id": "toolu_01A7mXc3vQeR9tYk", "name": "get_weather", "arguments": {"city": "Lisbon", "date": "tomorrow"},
                           "result": {"summary": "sunny", "high_c": 24, "low_c": 16, "precipitation_mm": 0}}]}},
  {"trace": "5eed0000000000000000000000000003", "span": "5eed000000000304", "parent": "5eed000000000301",
   "name": "chat claude-sonnet-4-5", "kind": 3, "at_ms": 3030, "ms": 3350,
   "scope": "opentelemetry.instrumentation.anthropic",
   "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                  "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.request.max_tokens": 1024,
                  "gen_ai.response.model": "claude-sonnet-4-5-20250929",
                  "gen_ai.response.id": "msg_01Jd8Zp4Rk2WcN6yTfGs5Qx",
                  "gen_ai.response.finish_reasons": ["end_turn"], "gen_ai.usage.input_tokens": 1502,
                  "gen_ai.usage.output_tokens": 188, "gen_ai.usage.cache_read.input_tokens": 1280,
                  "server.address": "api.anthropic.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "anthropic", "operation": "chat",
           "request_model": "claude-sonnet-4-5", "response_model": "claude-sonnet-4-5-20250929",
           "response_id": "msg_01Jd8Zp4Rk2WcN6yTfGs5Qx",
           "input_tokens": 1502, "output_tokens": 188, "total_tokens": 1690, "cache_read_tokens": 1280,
           "usage_source": "reported", "cost_usd": "0.003870", "input_cost_usd": "0.001050",
           "output_cost_usd": "0.00282", "cache_read_cost_usd": "0.000384",
           "price_model": "claude-sonnet-4-5", "finish_reasons": ["stop"], "finish_reasons_raw": ["end_turn"],
           "is_streaming": false,
           "output_messages": [{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "No umbrella needed: tomorrow in Lisbon is sunny with a high of 24 °C."}]}]}},
  {"trace": "5eed0000000000000000000000000004", "span": "5eed000000000401", "parent": null,
   "name": "summarize_document", "kind": 1, "at_ms": 0, "ms": 4200,
   "attributes": {"document.id": "kb-4471", "document.pages": 12}},
  {"trace": "5eed0000000000000000000000000004", "span": "5eed000000000402", "parent": "5eed000000000401",
   "name": "generate_content gemini-2.0-flash", "kind": 3, "at_ms": 60, "ms": 4080,
   "scope": "opentelemetry.instrumentation.google_genai",
   "attributes": {"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini",
                  "gen_ai.request.model": "gemini-2.0-flash", "gen_ai.response.model": "gemini-2.0-flash",
                  "gen_ai.response.finish_reasons": ["STOP"], "gen_ai.usage.input_tokens": 6240,
                  "gen_ai.usage.output_tokens": 410,
                  "server.address": "generativelanguage.googleapis.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "gcp.gemini", "operation": "generate_content",
           "request_model": "gemini-2.0-flash", "response_model": "gemini-2.0-flash",
           "input_tokens": 6240, "output_tokens": 410, "total_tokens": 6650, "usage_source": "reported",
           "cost_usd": "0.000788", "input_cost_usd": "0.000624", "output_cost_usd": "0.000164",
           "price_model": "gemini-2.0-flash", "finish_reasons": ["stop"], "finish_reasons_raw": ["STOP"],
           "time_to_first_token_ms": 520.0, "is_streaming": true,
           "output_messages": [{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "The runbook covers failover of the primary database: promote the replica, repoint the connection string, then rebuild the old primary as a replica."}]}]}},
  {"trace": "5eed0000000000000000000000000005", "span": "5eed000000000501", "parent": null,
   "name": "POST /v1/chat", "kind": 2, "at_ms": 0, "ms": 340, "status": 2,
   "status_message": "upstream model rate limited", "scope": "opentelemetry.instrumentation.fastapi",
   "attributes": {"http.request.method": "POST", "http.route": "/v1/chat", "http.response.status_code": 503}},
  {"trace": "5eed0000000000000000000000000005", "span": "5eed000000000502", "parent": "5eed000000000501",
   "name": "chat gpt-4o", "kind": 3, "at_ms": 15, "ms": 310, "status": 2,
   "status_message": "Error code: 429 - Rate limit reached for gpt-4o on tokens per min (TPM)",
   "scope": "opentelemetry.instrumentation.openai_v2",
   "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                  "gen_ai.request.model": "gpt-4o", "error.type": "RateLimitError",
                  "server.address": "api.openai.com"},
   "llm": {"span_type": "llm", "is_counted": true, "provider": "openai", "operation": "chat",
           "request_model": "gpt-4o", "usage_source": "absent", "price_source": "unpriced",
           "is_streaming": false, "is_error": true, "error_type": "RateLimitError",
           "error_message": "Error code: 429 - Rate limit reached for gpt-4o on tokens per min (TPM)",
           "input_messages": [{"role": "user", "parts": [{"type": "text", "content": "Summarise my open tickets."}]}]}}
]$json$::jsonb) AS s(trace text, span text, parent text, name text, kind smallint, at_ms integer,
                    ms integer, status smallint, status_message text, scope text,
                    attributes jsonb, llm jsonb)
ON s.trace = t.trace;

-- Replace earlier copies of these traces rather than add to them (taking them off the hourly
-- trace counts as storage's retention does).
DELETE FROM spans WHERE project_id = 'default' AND trace_id IN (SELECT trace_id FROM seed_spans);
WITH gone AS (
    DELETE FROM traces
    WHERE project_id = 'default' AND trace_id IN (SELECT trace_id FROM seed_spans)
    RETURNING project_id, counted_hour
)
UPDATE trace_counts_1h c SET trace_count = c.trace_count - g.traces
FROM (SELECT project_id, counted_hour, count(*) AS traces FROM gone
      GROUP BY project_id, counted_hour) g
WHERE c.project_id = g.project_id AND c.bucket_start = g.counted_hour;
DELETE FROM trace_counts_1h WHERE trace_count <= 0;

INSERT INTO spans (
    project_id, trace_id, span_id, parent_span_id, name, kind, start_time, end_time,
    start_time_unix_nano, end_time_unix_nano, duration_ms, status_code, status_message,
    service_name, attributes, resource_attributes, scope_name, received_at,
    llm_convention, llm_span_type, llm_is_counted, provider, provider_raw, operation,
    request_model, response_model, response_id, input_tokens, output_tokens, total_tokens,
    cache_read_tokens, usage_source, cost_usd, input_cost_usd, output_cost_usd,
    cache_read_cost_usd, price_source, price_model, price_version, finish_reasons,
    finish_reasons_raw, time_to_first_token_ms, is_streaming, session_id, user_id, tags,
    system_instructions, input_messages, output_messages, tool_calls, tool_definitions,
    is_error, error_type, error_message, llm_field_sources
)
SELECT 'default', trace_id, span_id, parent_span_id, name, kind, start_time, end_time,
       (extract(epoch FROM start_time) * 1000000000)::bigint,
       (extract(epoch FROM end_time) * 1000000000)::bigint,
       extract(epoch FROM end_time - start_time) * 1000,
       status_code, status_message, service_name, attributes, resource_attributes, scope_name,
       end_time + interval '150 milliseconds',
       CASE WHEN llm IS NOT NULL THEN 'otel_genai' END,
       llm->>'span_type',
       (llm->>'is_counted')::boolean,
       llm->>'provider',
       llm->>'provider',
       llm->>'operation',
       llm->>'request_model',
       llm->>'response_model',
       llm->>'response_id',
       (llm->>'input_tokens')::bigint,
       (llm->>'output_tokens')::bigint,
       (llm->>'total_tokens')::bigint,
       (llm->>'cache_read_tokens')::bigint,
       CASE WHEN llm IS NOT NULL THEN coalesce(llm->>'usage_source', 'absent') END,
       (llm->>'cost_usd')::numeric,
       (llm->>'input_cost_usd')::numeric,
       (llm->>'output_cost_usd')::numeric,
       (llm->>'cache_read_cost_usd')::numeric,
       CASE WHEN llm->>'price_model' IS NOT NULL THEN 'genai-prices'
            WHEN llm IS NOT NULL THEN coalesce(llm->>'price_source', 'unpriced') END,
       llm->>'price_model',
       CASE WHEN llm->>'price_model' IS NOT NULL THEN '0.2.3' END,
       CASE WHEN llm IS NOT NULL
            THEN ARRAY(SELECT jsonb_array_elements_text(coalesce(llm->'finish_reasons', '[]'))) END,
       CASE WHEN llm IS NOT NULL
            THEN ARRAY(SELECT jsonb_array_elements_text(coalesce(llm->'finish_reasons_raw', '[]'))) END,
       (llm->>'time_to_first_token_ms')::double precision,
       (llm->>'is_streaming')::boolean,
       session_id, user_id, tags,
       llm->'system_instructions',
       llm->'input_messages',
       llm->'output_messages',
       llm->'tool_calls',
       llm->'tool_definitions',
       CASE WHEN llm IS NOT NULL THEN coalesce((llm->>'is_error')::boolean, false) END,
       llm->>'error_type',
       llm->>'error_message',
       CASE WHEN llm IS NOT NULL THEN
           jsonb_strip_nulls(jsonb_build_object(
               'operation', CASE WHEN attributes ? 'gen_ai.operation.name' THEN 'gen_ai.operation.name' END,
               'provider', CASE WHEN attributes ? 'gen_ai.provider.name' THEN 'gen_ai.provider.name' END,
               'request_model', CASE WHEN attributes ? 'gen_ai.request.model' THEN 'gen_ai.request.model' END,
               'response_model', CASE WHEN attributes ? 'gen_ai.response.model' THEN 'gen_ai.response.model' END,
               'input_tokens', CASE WHEN attributes ? 'gen_ai.usage.input_tokens' THEN 'gen_ai.usage.input_tokens' END,
               'output_tokens', CASE WHEN attributes ? 'gen_ai.usage.output_tokens' THEN 'gen_ai.usage.output_tokens' END))
       END
FROM seed_spans;

-- One row per trace, folded from its spans by the same rules as storage's writer.
INSERT INTO traces (project_id, trace_id, start_time, end_time, root_span_id, root_name,
                    service_name, span_count, error_count, llm_call_count, input_tokens,
                    output_tokens, cost_usd, session_id, user_id, counted_hour)
SELECT project_id, trace_id, min(start_time), max(end_time),
       (array_agg(span_id) FILTER (WHERE parent_span_id IS NULL))[1],
       (array_agg(name) FILTER (WHERE parent_span_id IS NULL))[1],
       coalesce((array_agg(service_name) FILTER (WHERE parent_span_id IS NULL))[1],
                min(service_name)),
       count(*), count(*) FILTER (WHERE status_code = 2),
       count(*) FILTER (WHERE llm_is_counted),
       coalesce(sum(input_tokens) FILTER (WHERE llm_is_counted), 0),
       coalesce(sum(output_tokens) FILTER (WHERE llm_is_counted), 0),
       coalesce(sum(cost_usd) FILTER (WHERE llm_is_counted), 0),
       min(session_id), min(user_id),
       date_bin('1 hour', min(start_time), TIMESTAMPTZ '2000-01-01 00:00:00+00')
FROM spans
WHERE project_id = 'default' AND trace_id IN (SELECT trace_id FROM seed_spans)
GROUP BY project_id, trace_id;

-- Each trace counted in the hour it starts in, as storage's writer counts it.
INSERT INTO trace_counts_1h AS c (project_id, bucket_start, trace_count)
SELECT project_id, counted_hour, count(*) FROM traces
WHERE project_id = 'default' AND trace_id IN (SELECT trace_id FROM seed_spans)
GROUP BY project_id, counted_hour
ON CONFLICT (project_id, bucket_start) DO UPDATE SET trace_count = c.trace_count + excluded.trace_count;

COMMIT;
