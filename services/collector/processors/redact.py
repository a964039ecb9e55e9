"""The redact processor: personal data and secrets removed before a span is written anywhere."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from shared.log_record import LogRecord
from shared.span import Span

from .base import Processor
from .pii.kinds import Kind
from .pii.policy import Mode, RedactPolicy, derive_hash_key
from .pii.spans import SpanRedactor
from .pii.walker import DROPPED, count_kinds, redact_value
from .settings import SettingsReader

# The log-record redactor reuses the walker: `redact_value(body, policies.for_project(id))`.
__all__ = [
    "DROPPED", "ProjectPolicies", "ProjectRules", "RedactConfig", "RedactCounts", "RedactStats",
    "build", "redact_value",
]  # fmt: skip

RULES = tuple(kind.value for kind in Kind)
MODES = tuple(mode.value for mode in Mode)
MIN_HASH_SECRET_LENGTH = 16
# Identity and model keys that are never personal data and that later steps group by.
DEFAULT_ALLOW_KEYS = frozenset({
    "service.name", "service.namespace", "service.version", "service.instance.id",
    "telemetry.sdk.*", "telemetry.distro.*", "deployment.environment",
    "deployment.environment.name", "gen_ai.system", "gen_ai.provider.name",
    "gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.response.id",
    "gen_ai.response.finish_reasons", "llm.system", "llm.provider", "llm.model_name",
    "openinference.span.kind", "traceloop.span.kind",
})  # fmt: skip
_KEYS = (
    "default_mode", "modes", "disabled", "allow_values", "allow_patterns", "allow_keys",
    "hash_secret", "projects",
)  # fmt: skip
_PROJECT_KEYS = ("modes", "disabled", "allow_values", "allow_patterns")
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ProjectRules:
    """One project's changes to the defaults; a mode given here re-enables a disabled rule."""

    modes: Mapping[Kind, Mode] = field(default_factory=lambda: _EMPTY)
    disabled: frozenset[Kind] = frozenset()
    allow_values: frozenset[str] = frozenset()  # added to the global allow-list
    allow_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RedactConfig:
    """Rule modes with per-project overrides, allow-lists, and the secret hashes are keyed on.

    Every rule (`RULES`) runs in `default_mode` unless `modes` names another or `disabled`
    lists it. `allow_values` are never redacted, nor values `allow_patterns` match whole;
    attributes under `allow_keys` (exact, or a prefix ending in `*`) are never looked at.
    """

    default_mode: Mode = Mode.MASK
    modes: Mapping[Kind, Mode] = field(default_factory=lambda: _EMPTY)
    disabled: frozenset[Kind] = frozenset()
    allow_values: frozenset[str] = frozenset()
    allow_patterns: tuple[str, ...] = ()
    allow_keys: frozenset[str] = DEFAULT_ALLOW_KEYS
    hash_secret: str = field(default="", repr=False)
    projects: Mapping[str, ProjectRules] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RedactConfig:
        """Config from the step's settings as parsed from YAML; raises ValueError naming every
        bad key (e.g. `modes.emial: unknown rule`)."""
        problems: list[str] = []
        reader = SettingsReader(mapping, "", problems)
        reader.reject_unknown(_KEYS)
        default_mode = _read_mode(mapping.get("default_mode", "mask"), "default_mode", problems)
        modes = _read_modes(reader.mapping("modes"), "modes", problems)
        disabled = _read_rules(mapping.get("disabled", []), "disabled", problems)
        allow_values = _read_strings(mapping.get("allow_values", []), "allow_values", problems)
        allow_patterns = _read_strings(
            mapping.get("allow_patterns", []), "allow_patterns", problems
        )
        allow_keys = _read_strings(
            mapping.get("allow_keys", DEFAULT_ALLOW_KEYS), "allow_keys", problems
        )
        hash_secret = mapping.get("hash_secret", "")
        if not isinstance(hash_secret, str):
            problems.append("hash_secret: expected a string")  # the value is a secret: not shown
            hash_secret = ""
        projects = {
            str(project): _read_project(settings, f"projects.{project}", problems)
            for project, settings in reader.mapping("projects").items()
        }
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            default_mode=default_mode or Mode.MASK,
            modes=MappingProxyType(modes),
            disabled=frozenset(disabled),
            allow_values=frozenset(allow_values),
            allow_patterns=tuple(allow_patterns),
            allow_keys=frozenset(allow_keys),
            hash_secret=hash_secret,
            projects=MappingProxyType(projects),
        )


@dataclass(frozen=True, slots=True)
class RedactCounts:
    """Detections per rule name, and attributes or fields removed by `drop` rules."""

    detections: Mapping[str, int]
    dropped_fields: int


class RedactStats:
    """Counts a redact processor adds once per batch it completes; the runner reads them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detections: Counter[str] = Counter()
        self._dropped_fields = 0

    def record(self, detections: Mapping[str, int], dropped_fields: int) -> None:
        """Add one batch's counts."""
        with self._lock:
            self._detections.update(detections)
            self._dropped_fields += dropped_fields

    def snapshot(self) -> RedactCounts:
        """The totals so far."""
        with self._lock:
            return RedactCounts(dict(self._detections), self._dropped_fields)

    def drain(self) -> RedactCounts:
        """The totals since the last drain, resetting them (for adding to metric counters)."""
        with self._lock:
            counts = RedactCounts(dict(self._detections), self._dropped_fields)
            self._detections.clear()
            self._dropped_fields = 0
            return counts


class ProjectPolicies:
    """The compiled policy of each project, hash key included; built once from the config."""

    def __init__(self, config: RedactConfig) -> None:
        self._secret = config.hash_secret
        self._default = _compile(config, ProjectRules())
        self._projects = {
            project: _compile(config, rules) for project, rules in config.projects.items()
        }

    def for_project(self, project_id: str) -> RedactPolicy:
        """The policy for `project_id`: its overrides if it has any, else the defaults."""
        policy = self._projects.get(project_id, self._default)
        if Mode.HASH in policy.modes.values():
            policy = replace(policy, hash_key=derive_hash_key(self._secret, project_id))
        return policy


def build(config: RedactConfig, stats: RedactStats | None = None) -> Processor:
    """Build the processor that redacts every span; counts go to `stats` after each batch."""
    policies = ProjectPolicies(config)
    exact_keys = frozenset(key for key in config.allow_keys if not key.endswith("*"))
    prefixes = tuple(key[:-1] for key in config.allow_keys if key.endswith("*"))

    def redact(spans: Sequence[Span]) -> list[Span]:
        batch = SpanRedactor(policies.for_project, exact_keys, prefixes)
        redacted = [batch.span(span) for span in spans]
        if stats is not None:  # only once the whole batch is redacted: a failure counts nothing
            stats.record(count_kinds(batch.found), batch.dropped_fields)
        return redacted

    return redact


def build_for_logs(
    config: RedactConfig, stats: RedactStats | None = None
) -> Callable[[Sequence[LogRecord]], list[LogRecord]]:
    """The same policy applied to log records: bodies and attributes."""
    policies = ProjectPolicies(config)
    exact_keys = frozenset(key for key in config.allow_keys if not key.endswith("*"))
    prefixes = tuple(key[:-1] for key in config.allow_keys if key.endswith("*"))

    def redact_logs(records: Sequence[LogRecord]) -> list[LogRecord]:
        batch = SpanRedactor(policies.for_project, exact_keys, prefixes)
        redacted = [batch.log_record(record) for record in records]
        if stats is not None:
            stats.record(count_kinds(batch.found), batch.dropped_fields)
        return redacted

    return redact_logs


def _compile(config: RedactConfig, rules: ProjectRules) -> RedactPolicy:
    # Names given as plain strings (a config built in code) become the enums compared by `is`.
    modes = {kind: Mode(config.modes.get(kind, config.default_mode)) for kind in Kind}
    modes.update({Kind(kind): Mode(mode) for kind, mode in rules.modes.items()})
    disabled = {Kind(kind) for kind in config.disabled - rules.modes.keys() | rules.disabled}
    patterns = config.allow_patterns + rules.allow_patterns
    return RedactPolicy(
        modes=MappingProxyType(
            {kind: mode for kind, mode in modes.items() if kind not in disabled}
        ),
        allow_values=config.allow_values | rules.allow_values,
        allow_pattern=re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None,
    )


def _problems(config: RedactConfig) -> list[str]:
    problems: list[str] = []
    patterns = [("allow_patterns", config.allow_patterns)] + [
        (f"projects.{project}.allow_patterns", rules.allow_patterns)
        for project, rules in config.projects.items()
    ]
    for name, values in patterns:
        for index, pattern in enumerate(values):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{name}[{index}]: invalid regex ({exc})")
    modes = _all_modes(config)
    problems += [
        f"{name}: expected one of {', '.join(MODES)}" for name, m in modes if m not in MODES
    ]
    rules = [*config.modes, *config.disabled]
    for project in config.projects.values():
        rules += [*project.modes, *project.disabled]
    problems += [f"unknown rule {rule!r}" for rule in rules if rule not in RULES]
    hashing = [name for name, mode in modes if mode == Mode.HASH]
    if hashing and len(config.hash_secret) < MIN_HASH_SECRET_LENGTH:
        problems.append(
            f"hash_secret: at least {MIN_HASH_SECRET_LENGTH} characters required"
            f" when a rule hashes ({hashing[0]})"
        )
    return problems


def _all_modes(config: RedactConfig) -> list[tuple[str, Mode]]:
    modes = [("default_mode", config.default_mode)]
    modes += [(f"modes.{kind}", mode) for kind, mode in config.modes.items()]
    for project, rules in config.projects.items():
        modes += [(f"projects.{project}.modes.{kind}", mode) for kind, mode in rules.modes.items()]
    return modes


def _read_project(settings: Any, path: str, problems: list[str]) -> ProjectRules:
    if not isinstance(settings, Mapping):
        problems.append(f"{path}: expected a mapping, got {settings!r}")
        return ProjectRules()
    reader = SettingsReader(settings, path, problems)
    reader.reject_unknown(_PROJECT_KEYS)
    return ProjectRules(
        modes=MappingProxyType(_read_modes(reader.mapping("modes"), f"{path}.modes", problems)),
        disabled=frozenset(_read_rules(settings.get("disabled", []), f"{path}.disabled", problems)),
        allow_values=frozenset(
            _read_strings(settings.get("allow_values", []), f"{path}.allow_values", problems)
        ),
        allow_patterns=tuple(
            _read_strings(settings.get("allow_patterns", []), f"{path}.allow_patterns", problems)
        ),
    )


def _read_mode(value: Any, path: str, problems: list[str]) -> Mode | None:
    if value not in MODES:
        problems.append(f"{path}: expected one of {', '.join(MODES)}, got {value!r}")
        return None
    return Mode(value)


def _read_modes(settings: Mapping[str, Any], path: str, problems: list[str]) -> dict[Kind, Mode]:
    modes: dict[Kind, Mode] = {}
    for rule, value in settings.items():
        if rule not in RULES:
            problems.append(f"{path}.{rule}: unknown rule (known: {', '.join(RULES)})")
            continue
        mode = _read_mode(value, f"{path}.{rule}", problems)
        if mode is not None:
            modes[Kind(rule)] = mode
    return modes


def _read_rules(value: Any, path: str, problems: list[str]) -> list[Kind]:
    rules: list[Kind] = []
    for index, rule in enumerate(_read_strings(value, path, problems)):
        if rule in RULES:
            rules.append(Kind(rule))
        else:
            problems.append(f"{path}[{index}]: unknown rule {rule!r} (known: {', '.join(RULES)})")
    return rules


def _read_strings(value: Any, path: str, problems: list[str]) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | frozenset | set):
        problems.append(f"{path}: expected a list of strings, got {value!r}")
        return []
    strings: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            strings.append(item)
        else:
            problems.append(f"{path}[{index}]: expected a non-empty string, got {item!r}")
    return strings
