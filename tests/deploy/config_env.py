"""The environment variables each service's config module reads, found by parsing its source."""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from shared.config import EnvReader

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("collector", "storage", "api")

# EnvReader's reading methods: those whose first argument is the variable's name.
READERS = frozenset(
    name
    for name, member in vars(EnvReader).items()
    if inspect.isfunction(member) and list(inspect.signature(member).parameters)[1:2] == ["name"]
)


@dataclass(frozen=True)
class EnvRead:
    """One `env.<reader>("NAME", ...)` call: the variable and the config field it fills."""

    name: str
    reader: str
    field: str | None
    line: int


def find_env_reads(source: str, filename: str = "<config>") -> list[EnvRead]:
    """Every EnvReader method call in `source`; a name that is not a string literal is an error."""
    tree = ast.parse(source, filename)
    readers = _env_reader_names(tree)
    fields = {
        id(keyword.value): keyword.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
    }
    reads = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in readers
            and node.func.attr in READERS
        ):
            continue
        first = node.args[0] if node.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            raise ValueError(
                f"{filename}:{node.lineno}: {node.func.attr}() must name its variable "
                "with a string literal, so that .env.example can be checked against it"
            )
        reads.append(EnvRead(first.value, node.func.attr, fields.get(id(node)), node.lineno))
    return sorted(reads, key=lambda read: read.line)


def _env_reader_names(tree: ast.AST) -> set[str]:
    """Names bound to `EnvReader(...)` anywhere in the module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_env_reader_call(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _is_env_reader_call(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == EnvReader.__name__


def config_reads(service: str) -> list[EnvRead]:
    """The variables services/<service>/config.py reads."""
    path = ROOT / "services" / service / "config.py"
    return find_env_reads(path.read_text(), str(path.relative_to(ROOT)))


def config_variables(service: str) -> set[str]:
    """The names of the variables services/<service>/config.py reads."""
    return {read.name for read in config_reads(service)}


def default_texts(service: str) -> dict[str, str]:
    """Each variable's default as it would be written in the environment, from load_config({})."""
    module = importlib.import_module(f"services.{service}.config")
    config = module.load_config({})
    return {
        read.name: as_env_text(_field_value(config, read.field))
        for read in config_reads(service)
        if read.field is not None
    }


def _field_value(config: object, name: str) -> object:
    """A config field, or the field of a nested settings group (e.g. `retention.spans_days`)."""
    if hasattr(config, name):
        return getattr(config, name)
    for group in vars(config).values() if hasattr(config, "__dict__") else ():
        if hasattr(group, name):
            return getattr(group, name)
    for slot in getattr(type(config), "__slots__", ()):
        group = getattr(config, slot)
        if hasattr(group, name):
            return getattr(group, name)
    raise AttributeError(f"{type(config).__name__} has no field {name}")


def as_env_text(value: object) -> str:
    """A config value written as the EnvReader reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)
