-- Every span of one trace in one project, in start order.
SELECT trace_id, span_id, parent_span_id, name, kind, start_time, end_time,
       start_time_unix_nano, end_time_unix_nano, duration_ms, status_code, status_message,
       trace_state, flags, service_name, attributes, events, links, dropped_attributes_count,
       dropped_events_count, dropped_links_count, resource_attributes, resource_schema_url,
       scope_name, scope_version, scope_attributes,
       llm_convention, llm_span_type, llm_is_counted, provider, provider_raw, operation, request_model,
       response_model, response_id, input_tokens, output_tokens, total_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens, input_tokens_provider_raw,
       usage_source, cost_usd, input_cost_usd, output_cost_usd, cache_read_cost_usd,
       cache_write_cost_usd, reported_cost_usd, price_source, price_model, price_version,
       finish_reasons, finish_reasons_raw, time_to_first_token_ms, is_streaming, session_id,
       user_id, tags, system_instructions, input_messages, output_messages, tool_calls,
       tool_definitions, is_error, error_type, error_message,
       llm_field_sources
FROM spans
WHERE project_id = %(project_id)s AND trace_id = %(trace_id)s
ORDER BY start_time, span_id
