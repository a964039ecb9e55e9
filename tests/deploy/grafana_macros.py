"""What Grafana does to a PostgreSQL panel's SQL before running it, for the dashboard tests.

First the template variables (Grafana's front end): `$__interval`, `$__interval_ms`, and each
dashboard variable as `$var`, `${var}` or `${var:sqlstring}`. A multi-value or All variable is
its values quoted as SQL strings and joined by commas (the data source's interpolateVariable);
All without a custom value means every value of the variable's query. Then the data source's
macros (pkg/tsdb/grafana-postgresql-datasource/macros.go): `$__name(args)` where args hold no
parentheses, `$__timeGroup` followed by a comma behaving as `$__timeGroupAlias`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
_INTERVAL = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class MacroError(ValueError):
    """A macro Grafana would refuse (unknown, or missing arguments)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """A variable's selected values; multi-value and All variables are quoted."""

    values: Sequence[str]
    is_multi: bool = True


@dataclass(frozen=True, slots=True)
class TimeRange:
    """The dashboard's time range and the panel's interval (e.g. "1h")."""

    start: datetime
    end: datetime
    interval: str


def quote(value: str) -> str:
    """A value as an SQL string literal, as the data source's sqlstring format writes it."""
    return "'" + value.replace("'", "''") + "'"


def interpolate(sql: str, variables: Mapping[str, Selection], time_range: TimeRange) -> str:
    """Replace the interval and dashboard variables; unknown `$names` are left for the macros."""
    seconds = interval_seconds(time_range.interval)

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[3]
        fmt = match[2]
        if name == "__interval":
            return time_range.interval
        if name == "__interval_ms":
            return str(int(seconds * 1000))
        if name not in variables:
            return match[0]
        selection = variables[name]
        if fmt == "sqlstring" or selection.is_multi:
            return ",".join(quote(value) for value in selection.values)
        if fmt is not None:
            raise MacroError(f"format {fmt!r} of ${{{name}}} is not emulated")
        return ",".join(selection.values)

    return _VARIABLE.sub(replace, sql)


def interval_seconds(interval: str) -> float:
    """Grafana's gtime.ParseInterval for the simple forms ("20s", "1m", "1h", "1d")."""
    found = _INTERVAL.match(interval.strip().strip("'"))
    if not found:
        raise MacroError(f"error parsing interval {interval}")
    return int(found[1]) * _UNIT_SECONDS[found[2]]


def expand_macros(sql: str, time_range: TimeRange, *, timescaledb: bool) -> str:
    """Expand the PostgreSQL data source's macros."""

    def replace(match: re.Match[str]) -> str:
        name, args = match[1], [arg.strip() for arg in match[2].split(",")]
        if name == "__timeGroup" and sql[match.end() : match.end() + 1] == ",":
            name = "__timeGroupAlias"  # pre-5.3 compatibility, as Grafana does
        return _macro(name, args, time_range, timescaledb)

    return _MACRO.sub(replace, sql)


def expand(
    sql: str, variables: Mapping[str, Selection], time_range: TimeRange, *, timescaledb: bool
) -> str:
    """The SQL Grafana sends to PostgreSQL for this panel."""
    return expand_macros(
        interpolate(sql, variables, time_range), time_range, timescaledb=timescaledb
    )


def _rfc3339(moment: datetime) -> str:
    utc = moment - (moment.utcoffset() or timedelta(0))
    text = utc.replace(tzinfo=None).isoformat()
    return text + "Z"


def _macro(name: str, args: list[str], time_range: TimeRange, timescaledb: bool) -> str:
    start, end = time_range.start, time_range.end
    column = args[0] if args and args[0] else ""
    if name in ("__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter") and not column:
        raise MacroError(f"missing time column argument for macro {name}")
    if name == "__time":
        return f'{column} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {column}) as "time"'
    if name == "__timeFilter":
        return f"{column} BETWEEN '{_rfc3339(start)}' AND '{_rfc3339(end)}'"
    if name == "__timeFrom":
        return f"'{_rfc3339(start)}'"
    if name == "__timeTo":
        return f"'{_rfc3339(end)}'"
    if name == "__unixEpochFilter":
        return f"{column} >= {int(start.timestamp())} AND {column} <= {int(end.timestamp())}"
    if name == "__unixEpochFrom":
        return str(int(start.timestamp()))
    if name == "__unixEpochTo":
        return str(int(end.timestamp()))
    if name in ("__timeGroup", "__timeGroupAlias"):
        if len(args) < 2:
            raise MacroError(f"macro {name} needs time column and interval and optional fill value")
        seconds = interval_seconds(args[1])
        if timescaledb:
            group = f"time_bucket('{seconds:.3f}s',{column})"
        else:
            group = f"floor(extract(epoch from {column})/{seconds:g})*{seconds:g}"
        return group + (' AS "time"' if name == "__timeGroupAlias" else "")
    raise MacroError(f"unknown macro {name!r}")
