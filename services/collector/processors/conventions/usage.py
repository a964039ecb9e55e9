"""Token usage resolved to OTel semantics: input includes cache reads and writes."""

from __future__ import annotations

from typing import Any

from shared.span import Usage


def is_cache_excluding_provider(provider: str | None, models: tuple[str | None, ...]) -> bool:
    """Whether the provider's own input count excludes cache (Anthropic's API, Claude models)."""
    if provider == "anthropic":
        return True
    return any(model is not None and "claude" in model.lower() for model in models)


def resolve_usage(
    values: dict[str, Any],
    sources: dict[str, str],
    includes_cache: bool | None,
    is_cache_excluding: bool,
) -> Usage:
    """Usage with input including cache, the provider's raw input kept, sources updated."""
    reported = values.get("input_tokens")
    output = values.get("output_tokens")
    cache_read = values.get("cache_read_tokens")
    cache_write = values.get("cache_write_tokens")
    cached = (cache_read or 0) + (cache_write or 0)
    input_tokens, raw = reported, reported
    if reported is not None:
        if includes_cache is None:
            # Heuristic of the reference (§8.3): a count below its own cache part excludes it.
            includes_cache = not (is_cache_excluding and reported < cached)
        source = sources["input_tokens"]
        if not includes_cache:
            input_tokens = reported + cached
            if cached:
                sources["input_tokens"] = f"{source}+cache_read+cache_write"
            raw = reported if is_cache_excluding else input_tokens
        elif is_cache_excluding:
            raw = max(0, reported - cached)
        sources["input_tokens_provider_raw"] = (
            source if raw == reported else f"{source}-cache_read-cache_write"
        )
    total = values.get("total_tokens")
    if input_tokens is not None and (total is None or input_tokens != reported):
        total = input_tokens + (output or 0)
        sources["total_tokens"] = "computed:input_tokens+output_tokens"
    is_reported = any(v is not None for v in (reported, output, values.get("total_tokens")))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output,
        total_tokens=total,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=values.get("reasoning_tokens"),
        input_tokens_provider_raw=raw,
        source="reported" if is_reported else "absent",
    )
