"""SQL of the API, one named .sql file per query, loaded once at import."""

from __future__ import annotations

from pathlib import Path

from psycopg import sql

_DIRECTORY = Path(__file__).parent

QUERIES: dict[str, str] = {path.stem: path.read_text() for path in _DIRECTORY.glob("*.sql")}


def query(name: str) -> str:
    """Return the SQL text of a named query (KeyError for an unknown name: a programming error)."""
    return QUERIES[name]


def composed(name: str, **constants: str) -> sql.Composed:
    """A named query with its `{placeholders}` filled by SQL constants of the code, never input."""
    return sql.SQL(QUERIES[name]).format(**{k: sql.SQL(v) for k, v in constants.items()})


# The span columns every span-shaped answer reads (alias `s`).
_SPAN_COLUMN_NAMES = """
trace_id span_id parent_span_id name kind start_time end_time start_time_unix_nano
end_time_unix_nano duration_ms status_code status_message trace_state flags service_name
attributes events links dropped_attributes_count dropped_events_count dropped_links_count
resource_attributes resource_schema_url scope_name scope_version scope_attributes
llm_convention llm_span_type llm_is_counted provider provider_raw operation request_model
response_model response_id input_tokens output_tokens total_tokens cache_read_tokens
cache_write_tokens reasoning_tokens input_tokens_provider_raw usage_source cost_usd
input_cost_usd output_cost_usd cache_read_cost_usd cache_write_cost_usd reported_cost_usd
price_source price_model price_version finish_reasons finish_reasons_raw
time_to_first_token_ms is_streaming session_id user_id tags system_instructions
input_messages output_messages tool_calls tool_definitions is_error error_type error_message
llm_field_sources
"""
SPAN_COLUMNS = ", ".join(f"s.{column}" for column in _SPAN_COLUMN_NAMES.split())
