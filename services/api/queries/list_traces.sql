-- Traces of one project matching the filters, keyset-paginated on ({sort_key}, trace_id).
-- {sort_key}, {direction}, {comparison} and {after} are chosen from constants in
-- services/api/listing.py; every value a client sends is a bound parameter.
SELECT t.trace_id, t.start_time, t.end_time, t.root_span_id, t.root_name, t.service_name,
       t.span_count, t.error_count, t.llm_call_count, t.input_tokens, t.output_tokens,
       t.cost_usd, t.session_id, t.user_id, {sort_key} AS sort_value
FROM traces t
WHERE t.project_id = %(project_id)s
  AND (%(from)s::timestamptz IS NULL OR t.start_time >= %(from)s::timestamptz)
  AND (%(to)s::timestamptz IS NULL OR t.start_time < %(to)s::timestamptz)
  AND (%(service)s::text IS NULL OR t.service_name = %(service)s::text)
  AND (%(session)s::text IS NULL OR t.session_id = %(session)s::text)
  AND (%(user)s::text IS NULL OR t.user_id = %(user)s::text)
  AND (%(has_error)s::boolean IS NULL OR (t.error_count > 0) = %(has_error)s::boolean)
  AND (%(min_duration_ms)s::float8 IS NULL
       OR extract(epoch FROM t.end_time - t.start_time) * 1000 >= %(min_duration_ms)s::float8)
  AND (%(max_duration_ms)s::float8 IS NULL
       OR extract(epoch FROM t.end_time - t.start_time) * 1000 <= %(max_duration_ms)s::float8)
  AND (%(min_cost_usd)s::numeric IS NULL OR t.cost_usd >= %(min_cost_usd)s::numeric)
  AND (%(max_cost_usd)s::numeric IS NULL OR t.cost_usd <= %(max_cost_usd)s::numeric)
  AND (%(min_tokens)s::bigint IS NULL OR t.input_tokens + t.output_tokens >= %(min_tokens)s::bigint)
  AND (%(max_tokens)s::bigint IS NULL OR t.input_tokens + t.output_tokens <= %(max_tokens)s::bigint)
  AND (%(name)s::text IS NULL OR strpos(lower(coalesce(t.root_name, '')), lower(%(name)s::text)) > 0)
  -- One LLM call of the trace must match every call-level filter.
  AND ((%(provider)s::text IS NULL AND %(model)s::text IS NULL AND %(operation)s::text IS NULL
        AND %(text)s::text IS NULL)
       OR EXISTS (
           SELECT 1 FROM spans s
           WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
             AND s.start_time BETWEEN t.start_time AND t.end_time
             AND s.llm_convention IS NOT NULL
             AND (%(provider)s::text IS NULL OR s.provider = %(provider)s::text)
             AND (%(model)s::text IS NULL OR s.request_model = %(model)s::text
                  OR s.response_model = %(model)s::text)
             AND (%(operation)s::text IS NULL OR s.operation = %(operation)s::text)
             AND (%(text)s::text IS NULL
                  OR strpos(lower(concat_ws(' ', s.system_instructions::text,
                                            s.input_messages::text, s.output_messages::text)),
                            lower(%(text)s::text)) > 0)))
  AND (%(environment)s::text IS NULL OR EXISTS (
           SELECT 1 FROM spans s
           WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
             AND s.start_time BETWEEN t.start_time AND t.end_time
             AND coalesce(s.resource_attributes ->> 'deployment.environment.name',
                          s.resource_attributes ->> 'deployment.environment', '')
                 = %(environment)s::text))
  -- Tags of a trace are those of all its spans.
  AND NOT EXISTS (
           SELECT 1 FROM unnest(%(tags)s::text[]) AS wanted (tag)
           WHERE NOT EXISTS (
               SELECT 1 FROM spans s
               WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
                 AND s.start_time BETWEEN t.start_time AND t.end_time
                 AND wanted.tag = ANY (s.tags)))
  AND (cardinality(%(tags_any)s::text[]) = 0 OR EXISTS (
           SELECT 1 FROM spans s
           WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
             AND s.start_time BETWEEN t.start_time AND t.end_time
             AND s.tags && %(tags_any)s::text[]))
  AND (%(after_id)s::text IS NULL OR ({sort_key}, t.trace_id) {comparison} ({after}, %(after_id)s::text))
ORDER BY {sort_key} {direction}, t.trace_id {direction}
LIMIT %(limit)s
