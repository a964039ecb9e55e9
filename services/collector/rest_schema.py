"""The REST ingestion bodies, validated into plain values; each problem names its JSON pointer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from shared.errors import BadInputError

SPAN_KINDS = ("llm", "embedding", "tool", "agent", "retrieval", "rerank", "chain", "span")
# Kinds that are GenAI operations (may name a model); llm and embedding calls carry usage.
GENAI_KINDS = ("llm", "embedding", "tool", "agent", "retrieval", "rerank")
USAGE_KINDS = ("llm", "embedding")
STATUSES = ("ok", "error")
USAGE_FIELDS = (
    "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens",
)  # fmt: skip
MAX_NAME_CHARS = 1024
MAX_MESSAGE_CHARS = 65536
MAX_TAGS = 64
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ABSENT = object()


class ValidationError(BadInputError):
    """A body with problems; `problems` pairs each JSON pointer with what is wrong there."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{pointer or '/'}: {message}" for pointer, message in problems))


@dataclass(frozen=True, slots=True)
class TraceStart:
    """`POST /api/traces`: a trace and its root span."""

    name: str
    trace_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    input: Any = None
    service_name: str | None = None
    start_time_unix_nano: int | None = None


@dataclass(frozen=True, slots=True)
class SpanStart:
    """`POST /api/traces/{trace_id}/spans`: a span of the trace, open until completed."""

    name: str
    kind: str = "span"
    span_id: str | None = None
    parent_span_id: str | None = None
    model: str | None = None
    provider: str | None = None
    # Messages (`[{"role", "content" | "parts"}, ...]`) for llm spans; any JSON otherwise.
    input: Any = None
    tool_call_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    start_time_unix_nano: int | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """`PATCH .../complete`: how a span (or a trace's root span) ended."""

    output: Any = None
    usage: dict[str, int] = field(default_factory=dict)
    status: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    response_model: str | None = None
    finish_reasons: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    end_time_unix_nano: int | None = None

    @property
    def is_error(self) -> bool:
        """Whether the span failed (an error given, or status "error")."""
        return self.status == "error" or self.error_type is not None


def parse_json_body(body: bytes) -> Mapping[str, Any]:
    """The body as a JSON object; ValidationError at `/` otherwise."""
    try:
        parsed = orjson.loads(body) if body else _ABSENT
    except orjson.JSONDecodeError as exc:
        raise ValidationError([("", f"body is not valid JSON: {exc}")]) from exc
    if not isinstance(parsed, dict):
        raise ValidationError([("", "body must be a JSON object")])
    return parsed


def parse_trace_start(body: Mapping[str, Any]) -> TraceStart:
    """Validate a trace creation body."""
    r = _Reader(body)
    r.reject_unknown(("name", "id", "session_id", "user_id", "tags", "metadata", "input",
                      "service_name", "start_time"))  # fmt: skip
    start = TraceStart(
        name=r.text("name", required=True) or "",
        trace_id=r.hex_id("id", _TRACE_ID, "32 lowercase hex characters, not all zero"),
        session_id=r.text("session_id"),
        user_id=r.text("user_id"),
        tags=r.tags("tags"),
        metadata=r.mapping("metadata"),
        input=r.any("input"),
        service_name=r.text("service_name"),
        start_time_unix_nano=r.time("start_time"),
    )
    r.check()
    return start


def parse_span_start(body: Mapping[str, Any]) -> SpanStart:
    """Validate a span creation body."""
    r = _Reader(body)
    r.reject_unknown(("name", "kind", "id", "parent_id", "model", "provider", "input",
                      "tool_call_id", "metadata", "start_time"))  # fmt: skip
    kind = r.choice("kind", SPAN_KINDS, "span")
    start = SpanStart(
        name=r.text("name", required=True) or "",
        kind=kind,
        span_id=r.hex_id("id", _SPAN_ID, "16 lowercase hex characters, not all zero"),
        parent_span_id=r.hex_id("parent_id", _SPAN_ID, "16 lowercase hex characters"),
        model=r.text("model"),
        provider=r.text("provider"),
        input=r.messages("input") if kind == "llm" else r.any("input"),
        tool_call_id=r.text("tool_call_id"),
        metadata=r.mapping("metadata"),
        start_time_unix_nano=r.time("start_time"),
    )
    if kind not in GENAI_KINDS:
        for key in ("model", "provider"):
            if key in body:
                r.problems.append((f"/{key}", f"only {', '.join(GENAI_KINDS)} spans have one"))
    r.check()
    return start


def parse_completion(body: Mapping[str, Any], kind: str = "span") -> Completion:
    """Validate a completion body; llm outputs must be messages or text."""
    r = _Reader(body)
    r.reject_unknown(("output", "usage", "status", "error", "response_model", "finish_reasons",
                      "metadata", "end_time"))  # fmt: skip
    error = r.mapping("error")
    e = _Reader(error, "/error")
    e.reject_unknown(("type", "message"))
    completion = Completion(
        output=r.messages("output") if kind == "llm" else r.any("output"),
        usage=r.usage("usage"),
        status=r.choice("status", STATUSES, None),
        error_type=e.text("type") or ("error" if error else None),
        error_message=e.text("message", max_chars=MAX_MESSAGE_CHARS),
        response_model=r.text("response_model"),
        finish_reasons=r.tags("finish_reasons"),
        metadata=r.mapping("metadata"),
        end_time_unix_nano=r.time("end_time"),
    )
    r.problems.extend(e.problems)
    if kind not in USAGE_KINDS and "usage" in body:
        r.problems.append(("/usage", f"only {' and '.join(USAGE_KINDS)} spans carry usage"))
    r.check()
    return completion


class _Reader:
    """Reads keys of one JSON object, collecting every problem with its pointer."""

    def __init__(self, body: Mapping[str, Any], path: str = "") -> None:
        self._body = body
        self._path = path
        self.problems: list[tuple[str, str]] = []

    def check(self) -> None:
        """Raise ValidationError if any problem was found."""
        if self.problems:
            raise ValidationError(self.problems)

    def reject_unknown(self, known: Sequence[str]) -> None:
        """A problem for every key not in `known` (a typo must not pass silently)."""
        for key in self._body:
            if key not in known:
                self._fail(f"unknown field (expected one of {', '.join(known)})", key)

    def any(self, key: str) -> Any:
        """Any JSON value, None when absent."""
        return self._body.get(key)

    def text(self, key: str, required: bool = False, max_chars: int = MAX_NAME_CHARS) -> str | None:
        """A non-empty string of at most `max_chars` (names and ids by default)."""
        value = self._body.get(key)
        if value is None:
            if required:
                self._fail("is required", key)
            return None
        if not isinstance(value, str) or not value.strip():
            self._fail("must be a non-empty string", key)
            return None
        if len(value) > max_chars:
            self._fail(f"must be at most {max_chars} characters", key)
            return None
        return value

    def hex_id(self, key: str, pattern: re.Pattern[str], expected: str) -> str | None:
        """A lowercase hex id (upper case accepted and lowered), never all zeros."""
        value = self._body.get(key)
        if value is None:
            return None
        lowered = value.lower() if isinstance(value, str) else ""
        if not pattern.match(lowered) or not lowered.strip("0"):
            self._fail(f"must be {expected}", key)
            return None
        return lowered

    def choice(self, key: str, choices: Sequence[str], default: str | None) -> Any:
        """One of `choices`, or `default` when absent."""
        value = self._body.get(key, default)
        if value is not default and value not in choices:
            self._fail(f"must be one of {', '.join(choices)}", key)
            return default
        return value

    def tags(self, key: str) -> tuple[str, ...]:
        """A list of non-empty strings (at most MAX_TAGS), deduplicated in order."""
        value = self._body.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_TAGS:
            self._fail(f"must be a list of at most {MAX_TAGS} strings", key)
            return ()
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self._fail("must be a non-empty string", key, index)
        return tuple(dict.fromkeys(item for item in value if isinstance(item, str) and item))

    def mapping(self, key: str) -> dict[str, Any]:
        """A JSON object, empty when absent."""
        value = self._body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._fail("must be an object", key)
            return {}
        return value

    def time(self, key: str) -> int | None:
        """An RFC 3339 timestamp with a time zone, as Unix nanoseconds (microsecond precision)."""
        value = self._body.get(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self._fail("must be an RFC 3339 time with a zone, e.g. 2025-01-31T12:00:00.5Z", key)
            return None
        if parsed <= _EPOCH:
            self._fail("must be after 1970-01-01T00:00:00Z", key)
            return None
        return (parsed - _EPOCH) // _MICROSECOND * 1000

    def messages(self, key: str) -> list[Any] | str | None:
        """Chat messages: a list of objects with a string `role`, or plain text."""
        value = self._body.get(key)
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, list):
            self._fail("must be a list of messages or a string", key)
            return None
        for index, message in enumerate(value):
            if not isinstance(message, dict):
                self._fail("must be an object with a role", key, index)
            elif not isinstance(message.get("role"), str) or not message["role"]:
                self._fail("is required (a string such as user)", key, index, "role")
        return value

    def usage(self, key: str) -> dict[str, int]:
        """Token counts: non-negative integers under USAGE_FIELDS."""
        usage = self.mapping(key)
        counts: dict[str, int] = {}
        for name, value in usage.items():
            if name not in USAGE_FIELDS:
                self._fail(f"unknown field (expected {', '.join(USAGE_FIELDS)})", key, name)
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self._fail("must be a non-negative integer", key, name)
            else:
                counts[name] = value
        return counts

    def _fail(self, message: str, *segments: str | int) -> None:
        pointer = "".join(f"/{_escape(segment)}" for segment in segments)
        self.problems.append((self._path + pointer, message))


def _escape(segment: str | int) -> str:
    """A JSON pointer reference token (RFC 6901)."""
    return str(segment).replace("~", "~0").replace("/", "~1")
