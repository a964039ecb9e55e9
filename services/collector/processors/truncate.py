"""truncate: optional size limits on span content, every cut marked in the value and on the span.

Limits (characters, each off unless set): `max_message_part_chars` for each string in a message
part (input/output messages, system instructions, tool calls; the part's type, id, name,
mime_type and modality are never cut), `max_attribute_chars` for each string in a span or event
attribute (nested arrays and maps included; `llmobs.*` attributes are ours and never cut), and
`max_span_chars` for all those strings of one span together. The span limit cuts the longest
values first, to one common length, so short values (ids, model names) stay whole.

A cut value keeps its beginning and ends with `…[truncated N chars]` (N characters removed),
the marker counted within the limit, so truncating again changes nothing. The span lists what
was cut in `llmobs.truncated` (paths such as `attributes.gen_ai.prompt`,
`llm.input_messages[0].parts[1].content`), added to any list already there. Values are never
cut below MIN_LIMIT_CHARS, so a span of very many short values can stay above `max_span_chars`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.span import Attributes, LLMCall, Span

from .base import Processor
from .settings import SettingsReader

TRUNCATED_ATTRIBUTE = "llmobs.truncated"
MARKER = "…[truncated {} chars]"
MIN_LIMIT_CHARS = 64
_OWN_PREFIX = "llmobs."
_PART_KEYS_KEPT = frozenset({"type", "id", "name", "mime_type", "modality"})
_KEYS = ("max_message_part_chars", "max_attribute_chars", "max_span_chars")

# Called for every string in scope with its path and per-value limit; returns the value to keep.
Visit = Callable[[str, str, int | None], str]


@dataclass(frozen=True, slots=True)
class TruncateConfig:
    """Size limits in characters; None keeps content whole."""

    max_message_part_chars: int | None = None
    max_attribute_chars: int | None = None
    max_span_chars: int | None = None

    def __post_init__(self) -> None:
        for key in _KEYS:
            limit = getattr(self, key)
            if limit is not None and limit < MIN_LIMIT_CHARS:
                raise ValueError(f"{key} must be >= {MIN_LIMIT_CHARS}, got {limit}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> TruncateConfig:
        """Build from the step's settings (absent or null: no limit); ValueError names bad keys."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        reader.reject_unknown(_KEYS)
        limits = {
            key: None
            if reader.raw(key) is None
            else reader.integer(key, MIN_LIMIT_CHARS, minimum=MIN_LIMIT_CHARS)
            for key in _KEYS
        }
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**limits)

    @property
    def is_enabled(self) -> bool:
        """Whether any limit is set."""
        return any(
            limit is not None
            for limit in (
                self.max_message_part_chars,
                self.max_attribute_chars,
                self.max_span_chars,
            )
        )


def build(config: TruncateConfig) -> Processor:
    """A processor that cuts values over the configured limits, marking each cut."""

    def truncate(spans: Sequence[Span]) -> list[Span]:
        if not config.is_enabled:
            return list(spans)
        return [_truncate_span(span, config) for span in spans]

    return truncate


def count_truncated(spans: Sequence[Span]) -> int:
    """How many values the spans record as cut (the length of their `llmobs.truncated` lists)."""
    return sum(len(_truncated_list(span.attributes)) for span in spans)


def cut_text(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, the marker with the removed count included."""
    kept = limit
    while True:
        marker = MARKER.format(len(value) - kept)
        if kept + len(marker) <= limit:
            return value[:kept] + marker
        # A longer removed count can lengthen the marker by a digit; at most a second pass.
        kept = limit - len(marker)


def _truncate_span(span: Span, config: TruncateConfig) -> Span:
    threshold = _span_threshold(span, config)
    cuts: list[str] = []

    def cut(path: str, value: str, limit: int | None) -> str:
        if threshold is not None:
            limit = threshold if limit is None else min(limit, threshold)
        if limit is None or len(value) <= limit:
            return value
        cuts.append(path)
        return cut_text(value, limit)

    rewritten = _rewrite(span, config, cut)
    if not cuts:
        return span
    recorded = [*_truncated_list(span.attributes), *cuts]
    return replace(rewritten, attributes={**rewritten.attributes, TRUNCATED_ATTRIBUTE: recorded})


def _span_threshold(span: Span, config: TruncateConfig) -> int | None:
    """The common length the longest values are cut to for the span total to fit, or None."""
    budget = config.max_span_chars
    if budget is None:
        return None
    lengths: list[int] = []

    def measure(_path: str, value: str, limit: int | None) -> str:
        lengths.append(len(value) if limit is None else min(len(value), limit))
        return value

    _rewrite(span, config, measure)
    if sum(lengths) <= budget:
        return None
    low, high = 0, max(lengths)  # the largest level whose capped total fits the budget
    while low < high:
        level = (low + high + 1) // 2
        if sum(min(length, level) for length in lengths) <= budget:
            low = level
        else:
            high = level - 1
    return max(low, MIN_LIMIT_CHARS)


def _rewrite(span: Span, config: TruncateConfig, visit: Visit) -> Span:
    """The span with every string in scope replaced by what `visit` returns for it."""
    limit = config.max_attribute_chars
    attributes = _attributes(span.attributes, "", limit, visit)
    events = tuple(
        replace(event, attributes=_attributes(event.attributes, f"events[{i}].", limit, visit))
        for i, event in enumerate(span.events)
    )
    llm = None if span.llm is None else _rewrite_llm(span.llm, config, visit)
    return replace(span, attributes=attributes, events=events, llm=llm)


def _rewrite_llm(llm: LLMCall, config: TruncateConfig, visit: Visit) -> LLMCall:
    limit = config.max_message_part_chars

    def messages(field: str, value: list[Any] | None) -> list[Any] | None:
        if value is None:
            return None
        return [_message(m, f"llm.{field}[{i}]", limit, visit) for i, m in enumerate(value)]

    def parts(field: str, value: list[Any] | None) -> list[Any] | None:
        if value is None:
            return None
        return [_part(p, f"llm.{field}[{i}]", limit, visit) for i, p in enumerate(value)]

    return replace(
        llm,
        input_messages=messages("input_messages", llm.input_messages),
        output_messages=messages("output_messages", llm.output_messages),
        system_instructions=parts("system_instructions", llm.system_instructions),
        tool_calls=parts("tool_calls", llm.tool_calls),
    )


def _attributes(attributes: Attributes, prefix: str, limit: int | None, visit: Visit) -> Attributes:
    return {
        key: value
        if key.startswith(_OWN_PREFIX)
        else _walk(value, f"{prefix}attributes.{key}", limit, visit)
        for key, value in attributes.items()
    }


def _message(message: Any, path: str, limit: int | None, visit: Visit) -> Any:
    """A canonical message with its parts rewritten; role, name and finish_reason kept."""
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        return message
    parts = [_part(p, f"{path}.parts[{i}]", limit, visit) for i, p in enumerate(message["parts"])]
    return {**message, "parts": parts}


def _part(part: Any, path: str, limit: int | None, visit: Visit) -> Any:
    if not isinstance(part, dict):
        return _walk(part, path, limit, visit)
    return {
        key: value if key in _PART_KEYS_KEPT else _walk(value, f"{path}.{key}", limit, visit)
        for key, value in part.items()
    }


def _walk(value: Any, path: str, limit: int | None, visit: Visit) -> Any:
    """A copy of a decoded value with each string replaced by `visit`'s answer."""
    if isinstance(value, str):
        return visit(path, value, limit)
    if isinstance(value, dict):
        return {key: _walk(item, f"{path}.{key}", limit, visit) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, f"{path}[{i}]", limit, visit) for i, item in enumerate(value)]
    return value


def _truncated_list(attributes: Attributes) -> list[str]:
    recorded = attributes.get(TRUNCATED_ATTRIBUTE)
    return [str(item) for item in recorded] if isinstance(recorded, list) else []
