"""The hand-off format between collector and storage: one Redis Stream entry per accepted batch.

Every signal shares one stream and one entry layout; the `signal` field says what the records
are. A new signal is no new layout (FORMAT_VERSION stays): storage dead-letters entries of a
signal it does not know, so storage is upgraded before the collector.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import zstandard

from shared.errors import BadInputError
from shared.log_record import LogRecord
from shared.metric_point import MetricPoint
from shared.span import Span

# The canonical records one entry can carry (all of one signal).
Record = Span | MetricPoint | LogRecord

# Bump when the entry layout changes; storage refuses versions it does not know.
FORMAT_VERSION = b"1"
SIGNAL_TRACES = "traces"
SIGNAL_METRICS = "metrics"
SIGNAL_LOGS = "logs"
SIGNALS = (SIGNAL_TRACES, SIGNAL_METRICS, SIGNAL_LOGS)
DEFAULT_STREAM = "llmobs:spans"
DEFAULT_DEAD_LETTER_STREAM = "llmobs:spans:dead"
DEFAULT_GROUP = "storage"

_COMPRESSOR = zstandard.ZstdCompressor(level=1)
_DECOMPRESSOR = zstandard.ZstdDecompressor()


def _encode_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot encode {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded stream entry: the records of one request, as plain dicts."""

    signal: str
    project_id: str
    records: list[dict[str, Any]]


def encode_batch(
    signal: str, project_id: str, records: Sequence[Record] | Sequence[dict[str, Any]]
) -> dict[bytes, bytes]:
    """Return the stream entry fields for a batch of one signal's records (zstd-compressed JSON);
    records already decoded (dicts) encode the same way, for dead letters."""
    body = orjson.dumps(records, default=_encode_default)
    return {
        b"v": FORMAT_VERSION,
        b"signal": signal.encode(),
        b"project": project_id.encode(),
        b"count": str(len(records)).encode(),
        b"body": _COMPRESSOR.compress(body),
    }


def encode_spans(project_id: str, spans: Sequence[Span]) -> dict[bytes, bytes]:
    """Return the stream entry fields for a batch of spans."""
    return encode_batch(SIGNAL_TRACES, project_id, spans)


def decode_entry(fields: dict[bytes, bytes]) -> Batch:
    """Decode a stream entry's fields; raise BadInputError for an entry that cannot be read."""
    if fields.get(b"v") != FORMAT_VERSION:
        raise BadInputError(f"unknown hand-off format version {fields.get(b'v')!r}")
    try:
        body = _DECOMPRESSOR.decompress(fields[b"body"])
        records = orjson.loads(body)
        return Batch(
            signal=fields[b"signal"].decode(),
            project_id=fields[b"project"].decode(),
            records=records,
        )
    except (KeyError, zstandard.ZstdError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"unreadable hand-off entry: {exc}") from exc


def entry_span_count(fields: dict[bytes, bytes]) -> int:
    """The number of records an entry carries, without decoding its body."""
    return int(fields.get(b"count", b"0"))
