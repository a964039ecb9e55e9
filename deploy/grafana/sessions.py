"""Dashboard 5, Sessions and users: activity, the busiest sessions and users, turns per session."""

from __future__ import annotations

from deploy.grafana.llm_sql import CALLS, IS_ERROR, VARIABLES
from deploy.grafana.panels import Column, Json, dashboard, sql_panel

STAT_WIDTH = 8

TOTALS = f"""
SELECT count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_id) AS users,
       count(DISTINCT trace_id) FILTER (WHERE session_id IS NOT NULL)::float8
         / greatest(count(DISTINCT session_id), 1) AS turns_per_session
FROM {CALLS}
"""

ACTIVE = f"""
SELECT $__timeGroupAlias(start_time, $__interval),
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_id) AS users
FROM {CALLS}
GROUP BY 1 ORDER BY 1
"""

TOP_SESSIONS = f"""
SELECT session_id, min(user_id) AS user_id,
       count(DISTINCT trace_id) AS turns,
       count(*) AS llm_calls,
       coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
       coalesce(sum(cost_usd), 0) AS cost_usd,
       count(*) FILTER (WHERE {IS_ERROR}) AS errors,
       min(start_time) AS first_seen, max(end_time) AS last_seen
FROM {CALLS}
  AND session_id IS NOT NULL
GROUP BY 1
ORDER BY cost_usd DESC
LIMIT 50
"""

TOP_USERS = f"""
SELECT user_id,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT trace_id) AS traces,
       count(*) AS llm_calls,
       coalesce(sum(cost_usd), 0) AS cost_usd,
       count(*) FILTER (WHERE {IS_ERROR}) AS errors,
       max(end_time) AS last_seen
FROM {CALLS}
  AND user_id IS NOT NULL
GROUP BY 1
ORDER BY cost_usd DESC
LIMIT 50
"""

TURNS = f"""
SELECT turns::text AS turns, count(*) AS sessions
FROM (SELECT session_id, count(DISTINCT trace_id) AS turns
      FROM {CALLS}
        AND session_id IS NOT NULL
      GROUP BY 1) AS per_session
GROUP BY turns
ORDER BY min(per_session.turns)
"""


def build() -> Json:
    """The sessions and users dashboard."""
    panels = [
        sql_panel(
            "stat", "Sessions", TOTALS, [Column("sessions", "short")], width=STAT_WIDTH, height=4
        ),
        sql_panel("stat", "Users", TOTALS, [Column("users", "short")], width=STAT_WIDTH, height=4),
        sql_panel(
            "stat",
            "Turns per session",
            TOTALS,
            [Column("turns_per_session", "short")],
            width=STAT_WIDTH,
            height=4,
        ),
        sql_panel(
            "timeseries",
            "Active sessions and users",
            ACTIVE,
            [Column("time"), Column("sessions", "short"), Column("users", "short")],
        ),
        sql_panel(
            "barchart",
            "Sessions by number of turns",
            TURNS,
            [Column("turns"), Column("sessions", "short")],
        ),
        sql_panel(
            "table",
            "Sessions",
            TOP_SESSIONS,
            [
                Column("session_id", title="session"),
                Column("user_id", title="user"),
                Column("turns", "short"),
                Column("llm_calls", "short", "LLM calls"),
                Column("tokens", "short"),
                Column("cost_usd", "currencyUSD", "cost"),
                Column("errors", "short"),
                Column("first_seen", "dateTimeAsIso", "first seen"),
                Column("last_seen", "dateTimeAsIso", "last seen"),
            ],
            width=24,
            height=10,
        ),
        sql_panel(
            "table",
            "Users",
            TOP_USERS,
            [
                Column("user_id", title="user"),
                Column("sessions", "short"),
                Column("traces", "short"),
                Column("llm_calls", "short", "LLM calls"),
                Column("cost_usd", "currencyUSD", "cost"),
                Column("errors", "short"),
                Column("last_seen", "dateTimeAsIso", "last seen"),
            ],
            width=24,
            height=10,
        ),
    ]
    return dashboard(
        "llmobs-sessions",
        "LLM sessions and users",
        "Conversations (session.id) and end users (user.id) of LLM applications.",
        panels,
        VARIABLES,
        time_from="now-7d",
    )
