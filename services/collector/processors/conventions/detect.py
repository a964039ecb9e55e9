"""Which convention a span follows, and the order in which conventions offer its fields."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from shared.span import Span

from . import (
    anthropic_sdk,
    langfuse,
    litellm,
    logfire,
    openinference,
    otel_genai,
    traceloop,
    vercel_ai,
)

# Precedence of the reference table (§8.4): OTel names first, then each library's own.
EXTRACTION_ORDER: tuple[ModuleType, ...] = (
    otel_genai,
    openinference,
    traceloop,
    vercel_ai,
    langfuse,
    logfire,
    litellm,
    anthropic_sdk,
)

# Scope names identify an emitter more reliably than keys (the Anthropic SDK's span inside a
# Traceloop trace carries Traceloop's association properties, for instance).
_SCOPES: tuple[tuple[Callable[[str], bool], ModuleType], ...] = (
    (lambda s: s.startswith(anthropic_sdk.SCOPE_PREFIX), anthropic_sdk),
    (lambda s: s == "ai", vercel_ai),
    (lambda s: s.startswith("langfuse"), langfuse),
    (lambda s: s.startswith(("logfire", "pydantic-ai", "pydantic_ai")), logfire),
    (lambda s: s.startswith("litellm"), litellm),
    (lambda s: s.startswith("openinference"), openinference),
    (lambda s: s.startswith("traceloop"), traceloop),
    (
        lambda s: s.startswith(
            ("opentelemetry.util.genai", "opentelemetry.instrumentation.openai_v2")
        ),
        otel_genai,
    ),
)
# Marker keys, most specific first; plain `gen_ai.*` (used by nearly everyone) comes last.
_MARKER_ORDER: tuple[ModuleType, ...] = (
    openinference,
    vercel_ai,
    langfuse,
    logfire,
    litellm,
    anthropic_sdk,
    traceloop,
    otel_genai,
)


def conventions_of(span: Span) -> list[ModuleType]:
    """The conventions present on a span, the span's own (primary) first; [] if none."""
    present = [module for module in EXTRACTION_ORDER if module.matches(span)]
    if not present:
        return []
    primary = next((module for test, module in _SCOPES if test(span.scope_name)), None)
    if primary is None or primary not in present:
        primary = next(module for module in _MARKER_ORDER if module in present)
    return [primary, *(module for module in present if module is not primary)]
