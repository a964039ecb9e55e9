"""Spend budgets: spend, burn rate and forecast per period; gauges and threshold webhooks."""
