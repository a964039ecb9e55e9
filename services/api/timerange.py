"""Time ranges of aggregate answers: defaults, whole buckets, and the widest range allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.errors import BadInputError, ObservatoryError

STEPS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
DEFAULT_SPAN = timedelta(hours=24)
MAX_BUCKETS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryTooWideError(ObservatoryError):
    """The query would read too much; the message says how to narrow it (HTTP 422)."""


def resolve_range(
    start: datetime | None, end: datetime | None, now: datetime, span: timedelta = DEFAULT_SPAN
) -> tuple[datetime, datetime]:
    """The range asked for: `to` defaults to now, `from` to `span` before `to`."""
    end = end or now
    start = start or end - span
    if end <= start:
        raise BadInputError("parameter 'to' must be later than 'from'")
    return start, end


def snap_range(start: datetime, end: datetime, step: timedelta) -> tuple[datetime, datetime]:
    """The range widened to whole buckets of `step`, aligned on the Unix epoch (UTC)."""
    floor = _EPOCH + (start - _EPOCH) // step * step
    ceiling = _EPOCH - ((_EPOCH - end) // step) * step
    return floor, ceiling


def check_buckets(start: datetime, end: datetime, interval: str) -> None:
    """Refuse a range of more than MAX_BUCKETS buckets of `interval`, naming a coarser one."""
    count = (end - start) / STEPS[interval]
    if count > MAX_BUCKETS:
        coarser = {"1m": "1h", "1h": "1d"}.get(interval)
        hint = f"use interval={coarser} or " if coarser else ""
        raise QueryTooWideError(
            f"the range holds {int(count)} buckets of {interval}, more than {MAX_BUCKETS}: "
            f"{hint}narrow 'from'/'to'"
        )


def check_raw_range(start: datetime, end: datetime, max_days: int, what: str) -> None:
    """Refuse a range over raw spans wider than `max_days` days, saying what to do instead."""
    if end - start > timedelta(days=max_days):
        raise QueryTooWideError(
            f"{what} reads raw spans, and the range is wider than {max_days} days: "
            "narrow 'from'/'to', or drop the filters that need raw spans"
        )
