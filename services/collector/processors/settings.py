"""Reading a processor's settings mapping into typed values, reporting every problem at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any


class SettingsReader:
    """Reads keys of one settings mapping, naming each problem by its path (`a.b[0].c`)."""

    def __init__(self, mapping: Mapping[str, Any], path: str, problems: list[str]) -> None:
        self._mapping = mapping
        self._path = path
        self.problems = problems

    def name(self, key: str) -> str:
        """The full path of `key`, as problems name it."""
        return f"{self._path}.{key}" if self._path else key

    def reject_unknown(self, known: Sequence[str]) -> None:
        """Record a problem for every key not in `known`."""
        for key in self._mapping:
            if key not in known:
                self.problems.append(f"{self.name(str(key))}: unknown key")

    def raw(self, key: str) -> Any:
        """The value as given, None when absent."""
        return self._mapping.get(key)

    def boolean(self, key: str, default: bool) -> bool:
        """A true/false value (YAML and JSON booleans only)."""
        value = self._mapping.get(key, default)
        if not isinstance(value, bool):
            self._fail(key, "expected true or false", value)
            return default
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        """An integer of at least `minimum`."""
        value = self._mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self._fail(key, f"expected an integer >= {minimum}", value)
            return default
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        """A non-empty string, or `default` when absent or null."""
        value = self._mapping.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            self._fail(key, "expected a non-empty string", value)
            return default
        return value

    def decimal(self, key: str, default: Decimal | None = None) -> Decimal | None:
        """A finite non-negative decimal (from a string, int or float), or `default` when absent."""
        value = self._mapping.get(key)
        if value is None:
            return default
        parsed = parse_decimal(value)
        if parsed is None:
            self._fail(key, "expected a non-negative decimal", value)
            return default
        return parsed

    def positive_decimal(self, key: str, default: Decimal) -> Decimal:
        """A finite decimal above zero (from a string, int or float), or `default` when absent."""
        value = self._mapping.get(key)
        if value is None:
            return default
        parsed = parse_decimal(value)
        if parsed is None or parsed == 0:
            self._fail(key, "expected a positive decimal", value)
            return default
        return parsed

    def mapping(self, key: str) -> Mapping[str, Any]:
        """A nested mapping, empty when absent."""
        value = self._mapping.get(key, {})
        if not isinstance(value, Mapping):
            self._fail(key, "expected a mapping", value)
            return {}
        return value

    def _fail(self, key: str, expected: str, value: Any) -> None:
        self.problems.append(f"{self.name(key)}: {expected}, got {value!r}")


def parse_decimal(value: Any) -> Decimal | None:
    """A finite non-negative Decimal from a str, int, float or Decimal, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips: 0.1 -> Decimal("0.1").
        value = repr(value)
    if not isinstance(value, str | int | Decimal):
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() and parsed >= 0 else None
