-- Counted LLM calls (one per real provider call) of one project matching the filters,
-- keyset-paginated on ({sort_key}, trace_id, span_id). The braces are constants chosen in
-- services/api/listing.py; every value a client sends is a bound parameter.
SELECT {columns}, {sort_key} AS sort_value
FROM spans s
WHERE s.project_id = %(project_id)s AND s.llm_is_counted
  AND (%(from)s::timestamptz IS NULL OR s.start_time >= %(from)s::timestamptz)
  AND (%(to)s::timestamptz IS NULL OR s.start_time < %(to)s::timestamptz)
  AND (%(service)s::text IS NULL OR s.service_name = %(service)s::text)
  AND (%(environment)s::text IS NULL
       OR coalesce(s.resource_attributes ->> 'deployment.environment.name',
                   s.resource_attributes ->> 'deployment.environment', '') = %(environment)s::text)
  AND (%(provider)s::text IS NULL OR s.provider = %(provider)s::text)
  AND (%(model)s::text IS NULL OR s.request_model = %(model)s::text
       OR s.response_model = %(model)s::text)
  AND (%(operation)s::text IS NULL OR s.operation = %(operation)s::text)
  AND (%(session)s::text IS NULL OR s.session_id = %(session)s::text)
  AND (%(user)s::text IS NULL OR s.user_id = %(user)s::text)
  AND s.tags @> %(tags)s::text[]
  AND (cardinality(%(tags_any)s::text[]) = 0 OR s.tags && %(tags_any)s::text[])
  AND (%(has_error)s::boolean IS NULL
       OR (coalesce(s.is_error, false) OR s.status_code = 2) = %(has_error)s::boolean)
  AND (%(min_duration_ms)s::float8 IS NULL OR s.duration_ms >= %(min_duration_ms)s::float8)
  AND (%(max_duration_ms)s::float8 IS NULL OR s.duration_ms <= %(max_duration_ms)s::float8)
  AND (%(min_cost_usd)s::numeric IS NULL OR s.cost_usd >= %(min_cost_usd)s::numeric)
  AND (%(max_cost_usd)s::numeric IS NULL OR s.cost_usd <= %(max_cost_usd)s::numeric)
  AND (%(min_tokens)s::bigint IS NULL
       OR coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0) >= %(min_tokens)s::bigint)
  AND (%(max_tokens)s::bigint IS NULL
       OR coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0) <= %(max_tokens)s::bigint)
  AND (%(name)s::text IS NULL OR strpos(lower(s.name), lower(%(name)s::text)) > 0)
  AND (%(text)s::text IS NULL
       OR strpos(lower(concat_ws(' ', s.system_instructions::text, s.input_messages::text,
                                 s.output_messages::text)), lower(%(text)s::text)) > 0)
  AND (%(after_id)s::text IS NULL
       OR ({sort_key}, s.trace_id, s.span_id) {comparison} ({after}, %(after_id)s::text,
                                                           %(after_span_id)s::text))
ORDER BY {sort_key} {direction}, s.trace_id {direction}, s.span_id {direction}
LIMIT %(limit)s
