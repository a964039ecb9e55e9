"""Reading typed settings from the environment, reporting every problem at once."""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvReader:
    """Reads variables from one environment mapping and collects the problems it finds."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str) -> str:
        """Return the variable as a string, or the default when unset or empty."""
        return self._environ.get(name, "") or default

    def integer(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        """Return the variable as an integer within [minimum, maximum]."""
        raw = self._environ.get(name, "")
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not an integer")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            self.problems.append(f"{name}={value} must be at least {minimum}{upper}")
        return value

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        """Return the variable as a float of at least `minimum`."""
        raw = self._environ.get(name, "")
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a number")
            return default
        if value < minimum:
            self.problems.append(f"{name}={value} must be at least {minimum}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        """Return the variable as a boolean (true/false, yes/no, on/off, 1/0)."""
        raw = self._environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        self.problems.append(f"{name}={raw!r} is not a boolean (use true or false)")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """Return the variable, which must be one of `choices`."""
        value = self.text(name, default)
        if value not in choices:
            self.problems.append(f"{name}={value!r} must be one of {', '.join(choices)}")
        return value

    def words(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Return a comma-separated variable as a tuple of non-empty words."""
        raw = self._environ.get(name, "")
        if not raw:
            return default
        return tuple(word.strip() for word in raw.split(",") if word.strip())

    def check(self) -> None:
        """Raise ConfigError naming every problem found so far."""
        if self.problems:
            raise ConfigError("invalid configuration: " + "; ".join(self.problems))


def redact_url(url: str) -> str:
    """Return a connection URL with any password replaced, safe for logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"
