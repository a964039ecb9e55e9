""".env.example documents every variable the services read, with its default, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from tests.deploy.config_env import (
    ROOT,
    SERVICES,
    config_reads,
    config_variables,
    default_texts,
    find_env_reads,
)

ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "docker-compose.dev.yml")

# Read by docker compose only (interpolated into docker-compose.yml), never by a service.
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "GRAFANA_ADMIN_USER",
    "GRAFANA_ADMIN_PASSWORD",
    "PGADMIN_DEFAULT_EMAIL",
    "PGADMIN_DEFAULT_PASSWORD",
}
SECRETS = {
    "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "PGADMIN_DEFAULT_PASSWORD", "LLMOBS_KEY_PEPPER",
}  # fmt: skip

_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
# $VAR or ${VAR...}, but not the escaped $$.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Entry:
    """One `NAME=value` line of .env.example and the comment block just above it."""

    name: str
    value: str
    comment: str
    line: int


def parse_env_example(text: str) -> list[Entry]:
    """Entries in file order; any line that is not blank, a comment or NAME=value is an error."""
    entries: list[Entry] = []
    comment: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").rstrip())
        elif match := _ASSIGNMENT.match(line):
            entries.append(Entry(match[1], match[2], "\n".join(comment), number))
        else:
            raise ValueError(f".env.example:{number}: not a comment or NAME=value: {line!r}")
    return entries


@pytest.fixture(scope="module")
def entries() -> dict[str, Entry]:
    parsed = parse_env_example(ENV_EXAMPLE.read_text())
    names = [entry.name for entry in parsed]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f".env.example sets these more than once: {duplicates}"
    return {entry.name: entry for entry in parsed}


def service_variables() -> set[str]:
    return set().union(*(config_variables(service) for service in SERVICES))


@pytest.mark.parametrize("service", SERVICES)
def test_the_scan_finds_what_each_config_module_reads(service: str) -> None:
    # Guards the guard: a scan that found nothing would make every other test here pass.
    reads = config_reads(service)
    assert {"REDIS_URL", "LOG_LEVEL"} <= {read.name for read in reads}
    assert all(read.field for read in reads), "each variable fills one config field"


def test_the_scan_refuses_a_variable_it_cannot_name() -> None:
    source = 'env = EnvReader(environ)\nname = "X"\nvalue = env.text(name, "")\n'
    with pytest.raises(ValueError, match="string literal"):
        find_env_reads(source)


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_a_service_reads_is_documented(
    service: str, entries: dict[str, Entry]
) -> None:
    missing = sorted(config_variables(service) - entries.keys())
    assert not missing, f"services/{service}/config.py reads {missing}: add them to .env.example"


def test_nothing_unknown_is_documented(entries: dict[str, Entry]) -> None:
    unknown = sorted(entries.keys() - service_variables() - COMPOSE_ONLY)
    assert not unknown, f".env.example documents variables nothing reads: {unknown}"


def test_every_variable_compose_interpolates_is_documented(entries: dict[str, Entry]) -> None:
    for path in COMPOSE_FILES:
        used = {
            name
            for text in _strings(yaml.safe_load(path.read_text()))
            for name in _INTERPOLATION.findall(text)
        }
        missing = sorted(used - entries.keys())
        assert not missing, f"{path.name} interpolates {missing}: document them in .env.example"


def _strings(node: object) -> Iterator[str]:
    """Every string in a parsed YAML document, keys included (Compose interpolates values)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_each_variable_has_a_comment_stating_its_default(entries: dict[str, Entry]) -> None:
    for entry in entries.values():
        assert entry.comment, f".env.example:{entry.line}: {entry.name} has no comment above it"
        assert re.search(r"Default|Required|No default", entry.comment), (
            f".env.example:{entry.line}: the comment of {entry.name} states no default"
        )


def test_values_are_the_services_defaults_or_empty(entries: dict[str, Entry]) -> None:
    defaults: dict[str, set[str]] = {}
    for service in SERVICES:
        for name, text in default_texts(service).items():
            defaults.setdefault(name, set()).add(text)
    for name, found in sorted(defaults.items()):
        value = entries[name].value if name in entries else ""  # missing: reported above
        if value == "":
            continue  # empty means the default, to compose and to the services alike
        assert found == {value}, (
            f".env.example sets {name}={value!r}, but the services default to {sorted(found)}; "
            "write the default, or leave it empty when the services disagree"
        )


def test_secrets_have_no_value(entries: dict[str, Entry]) -> None:
    for name in sorted(SECRETS):
        assert entries[name].value == "", f".env.example must not ship a value for {name}"
