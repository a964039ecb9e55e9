"""The mutable draft of one span's LLM call: first non-empty offer of each field wins."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.span import Attributes, Span, SpanEvent

from .providers import canonical_provider
from .values import as_bool, as_float, as_int, as_str


@dataclass(slots=True)
class CallDraft:
    """Field values offered by convention extractors, in precedence order, with their sources."""

    span: Span
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    # Whether the reported input count already includes cache reads/writes (None: unknown).
    input_includes_cache: bool | None = None

    @property
    def attributes(self) -> Attributes:
        """The span's attributes."""
        return self.span.attributes

    def has(self, name: str) -> bool:
        """Whether a field already has a value."""
        return name in self.values

    def get(self, name: str) -> Any:
        """A field's value, or None."""
        return self.values.get(name)

    def offer(self, name: str, value: Any, source: str) -> bool:
        """Set a field unless it is already set or the value is empty; True if it was set."""
        if name in self.values or value is None or value == "" or value == [] or value == ():
            return False
        self.values[name] = value
        self.sources[name] = source
        return True

    def offer_str(
        self, name: str, *keys: str, attributes: Attributes | None = None, origin: str = ""
    ) -> None:
        """Offer the first non-empty string among attribute keys."""
        self._offer_typed(name, keys, as_str, attributes, origin)

    def offer_int(
        self, name: str, *keys: str, attributes: Attributes | None = None, origin: str = ""
    ) -> None:
        """Offer the first integer among attribute keys."""
        self._offer_typed(name, keys, as_int, attributes, origin)

    def offer_float(
        self, name: str, *keys: str, attributes: Attributes | None = None, origin: str = ""
    ) -> None:
        """Offer the first float among attribute keys."""
        self._offer_typed(name, keys, as_float, attributes, origin)

    def offer_bool(
        self, name: str, *keys: str, attributes: Attributes | None = None, origin: str = ""
    ) -> None:
        """Offer the first boolean among attribute keys."""
        self._offer_typed(name, keys, as_bool, attributes, origin)

    def offer_input_tokens(self, value: Any, source: str, includes_cache: bool | None) -> None:
        """Offer the input token count together with its cache semantics."""
        if self.offer("input_tokens", as_int(value), source):
            self.input_includes_cache = includes_cache

    def offer_provider(self, raw: Any, source: str, canonical: str | None = None) -> None:
        """Offer the raw provider value with its canonical name (mapped unless given)."""
        text = as_str(raw)
        if text is None or "provider" in self.values:
            return
        self.offer("provider_raw", text, source)
        self.offer("provider", canonical or canonical_provider(text), source)

    def offer_cost(self, value: Any, source: str) -> None:
        """Offer a reported cost in USD as an exact decimal."""
        number = as_float(value)
        if number is None:
            return
        try:
            self.offer("reported_cost_usd", Decimal(str(number)), source)
        except InvalidOperation:
            return

    def events(self, *names: str) -> list[SpanEvent]:
        """The span's events with one of the given names, in time order."""
        found = [event for event in self.span.events if event.name in names]
        return sorted(found, key=lambda event: event.time_unix_nano)

    def _offer_typed(
        self,
        name: str,
        keys: tuple[str, ...],
        convert: Any,
        attributes: Attributes | None,
        origin: str,
    ) -> None:
        if name in self.values:
            return
        source_attributes = self.span.attributes if attributes is None else attributes
        for key in keys:
            value = convert(source_attributes.get(key))
            if value is not None:
                self.values[name] = value
                self.sources[name] = origin + key
                return
