"""Declarative endpoint specs: one list of parameters per route both validates and documents it."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping

from services.api.bodies import Field
from shared.errors import BadInputError

if TYPE_CHECKING:
    from aiohttp import web

    from services.api.auth import Principal

# Instants outside these bounds cannot be held by the spans' nanosecond columns.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 1, 1, tzinfo=UTC)
MAX_TEXT_CHARS = 200
MAX_REPEATS = 10
# Longest request line accepted: every parameter at its longest, percent-encoded, fits.
MAX_REQUEST_LINE_BYTES = 128 * 1024


@dataclass(frozen=True, slots=True)
class Param:
    """One query or path parameter: its JSON Schema type, bounds and meaning."""

    name: str
    kind: str  # string, integer, number, boolean, datetime, enum
    description: str
    location: str = "query"
    is_required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    is_multiple: bool = False
    pattern: str | None = None
    # What the pattern asks for, in words, for the error message.
    pattern_hint: str = ""
    max_length: int = MAX_TEXT_CHARS

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema (OpenAPI 3.1)."""
        item: dict[str, Any] = {"type": "string"}
        if self.kind in ("integer", "number", "boolean"):
            item = {"type": self.kind}
        elif self.kind == "datetime":
            item = {"type": "string", "format": "date-time"}
        elif self.kind == "enum":
            item = {"type": "string", "enum": list(self.choices)}
        if self.kind == "string":
            item["maxLength"] = self.max_length
            if self.pattern:
                item["pattern"] = self.pattern
        if self.minimum is not None:
            item["minimum"] = self.minimum
        if self.maximum is not None:
            item["maximum"] = self.maximum
        if self.default is not None and not self.is_multiple:
            item["default"] = self.default
        if self.is_multiple:
            return {"type": "array", "items": item, "maxItems": MAX_REPEATS}
        return item


Args = dict[str, Any]
Handler = Callable[["Call"], Awaitable["web.StreamResponse"]]


@dataclass(frozen=True, slots=True)
class Call:
    """A validated request: its arguments, the caller, and the raw request for the app's state."""

    request: web.Request
    args: Args
    principal: Principal
    body: Any = None

    @property
    def project_id(self) -> str:
        """The only project this call may read or change."""
        return self.principal.project_id


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A route: method, path, parameters, the scope it needs, and the shape of its answer."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    params: tuple[Param, ...] = ()
    scope: str = "read"  # read, admin (the admin key or an admin-scoped key), or none
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    body: tuple[Field, ...] | None = None
    status: int = 200
    # Cache policy: None is not cached; else a bucket width (1m, 1h, 1d) or the name of the
    # argument holding it. The range arguments are snapped to it, and default to the
    # `default_span` before now.
    cache_interval: str | None = None
    range_args: tuple[str, str] = ("from", "to")
    default_span: timedelta = timedelta(hours=24)


def parse_args(endpoint: Endpoint, query: MultiMapping[str], path: Mapping[str, str]) -> Args:
    """Validate every declared parameter; BadInputError names the first bad one."""
    args: Args = {}
    for param in endpoint.params:
        raws = [path[param.name]] if param.location == "path" else query.getall(param.name, [])
        raws = [raw for raw in raws if raw != ""]
        if not raws:
            if param.is_required:
                raise BadInputError(f"parameter {param.name!r} is required")
            args[param.name] = [] if param.is_multiple else param.default
            continue
        if not param.is_multiple and len(raws) > 1:
            raise BadInputError(f"parameter {param.name!r} must be given once")
        if len(raws) > MAX_REPEATS:
            raise BadInputError(
                f"parameter {param.name!r} is repeated more than {MAX_REPEATS} times"
            )
        values = [_convert(param, raw) for raw in raws]
        args[param.name] = values if param.is_multiple else values[0]
    return args


def _convert(param: Param, raw: str) -> Any:
    where = "path parameter" if param.location == "path" else "parameter"
    if "\x00" in raw:
        raise BadInputError(f"{where} {param.name!r} must not contain NUL characters")
    if param.kind == "integer":
        value: Any = _integer(param, raw, where)
    elif param.kind == "number":
        value = _number(param, raw, where)
    elif param.kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise BadInputError(f"{where} {param.name!r} must be true or false, got {raw!r}")
        return raw.lower() == "true"
    elif param.kind == "datetime":
        return parse_instant(raw, param.name, where)
    elif param.kind == "enum":
        if raw not in param.choices:
            raise BadInputError(
                f"{where} {param.name!r} must be one of {', '.join(param.choices)}, got {raw!r}"
            )
        return raw
    else:
        if len(raw) > param.max_length:
            raise BadInputError(f"{where} {param.name!r} is longer than {param.max_length}")
        if param.pattern and not re.fullmatch(param.pattern, raw):
            hint = param.pattern_hint or f"of the form {param.pattern}"
            raise BadInputError(f"{where} {param.name!r} must be {hint}, got {raw[:64]!r}")
        return raw
    if (param.minimum is not None and value < param.minimum) or (
        param.maximum is not None and value > param.maximum
    ):
        raise BadInputError(
            f"{where} {param.name!r} must be between {_show(param.minimum)} and "
            f"{_show(param.maximum)}"
        )
    return value


def _show(bound: float | None) -> str:
    if bound is None:
        return "any"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _integer(param: Param, raw: str, where: str) -> int:
    try:
        if len(raw) > 20:
            raise ValueError(raw)
        return int(raw)
    except ValueError as exc:
        raise BadInputError(f"{where} {param.name!r} must be an integer, got {raw!r}") from exc


def _number(param: Param, raw: str, where: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise BadInputError(f"{where} {param.name!r} must be a number, got {raw!r}") from exc
    if not math.isfinite(value):
        raise BadInputError(f"{where} {param.name!r} must be a finite number")
    return value


def parse_instant(raw: str, name: str, where: str = "parameter") -> datetime:
    """An ISO-8601 instant (UTC when no offset is given) between 1970 and 2262."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise BadInputError(
            f"{where} {name!r} must be an ISO-8601 date-time, got {raw[:64]!r}"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError as exc:
        raise BadInputError(f"{where} {name!r} is out of range") from exc
    if not EARLIEST <= moment < LATEST:
        raise BadInputError(f"{where} {name!r} must be between 1970 and 2262")
    return moment
