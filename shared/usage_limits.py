"""Usage limits of LLM calls: which rules apply to an entity and resource, and their buckets.

A rule limits one unit (`rpm`, `tpm` or any custom unit) of an entity type (`project`, `user`,
`key`) to `limit` units per `window_seconds`, for one resource (a model name) or every resource
(`*`). Rules come from the defaults of the configuration (LIMITS_DEFAULTS) and from the stored
overrides of a project (table `usage_limits`); an override of one entity beats one of every
entity of its type (`*`), which beats a default. A limit of 0 means unlimited (an override can
lift a default). With cascading, a user's or key's call also counts against its project.
See docs/adr/0010-usage-limits-and-leases.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from shared.errors import BadInputError

ENTITY_TYPES = ("project", "user", "key")
ANY = "*"
UNIT_PATTERN = "[a-z][a-z0-9_]{0,31}"
MAX_LIMIT = 1_000_000_000
MAX_WINDOW_SECONDS = 86_400
DEFAULT_WINDOW_SECONDS = 60
MILLI = 1000
# The span attribute naming the lease an application acquired for the call the span records;
# the collector's usage feed leaves such spans to the lease (no double counting).
LEASE_ID_ATTRIBUTE = "llmobs.limit.lease_id"
_DEFAULT_RULE = re.compile(
    rf"(?P<type>[a-z]+)(?:@(?P<resource>[^:;,=\s]+))?:(?P<limits>{UNIT_PATTERN}=\d+"
    rf"(?:,{UNIT_PATTERN}=\d+)*)"
)


@dataclass(frozen=True, slots=True)
class Entity:
    """Who a call is made for: the project itself, one of its users, or one of its API keys."""

    kind: str
    id: str = ""

    @property
    def name(self) -> str:
        """`project`, `user:<id>` or `key:<id>`, as the API spells it."""
        return self.kind if self.kind == "project" else f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class LimitRule:
    """`limit` units per `window_seconds` for an entity type (one entity, or `*`) and resource."""

    entity_type: str
    entity_id: str
    resource: str
    unit: str
    limit: int
    window_seconds: int = DEFAULT_WINDOW_SECONDS
    # Capacity above `limit`: how far a quiet entity may burst.
    burst: int = 0
    is_stored: bool = False

    @property
    def precedence(self) -> int:
        """Higher wins among rules of one entity, resource and unit."""
        return (2 if self.entity_id != ANY else 0) + (1 if self.is_stored else 0)


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """The bucket a rule gives one entity: a Redis key, and its refill rate and capacity."""

    key: str
    entity: Entity
    resource: str
    unit: str
    limit: int
    window_seconds: int
    capacity: int

    @property
    def capacity_milli(self) -> int:
        """Capacity in milli-units, the buckets' integer arithmetic."""
        return self.capacity * MILLI


def parse_entity(text: str) -> Entity:
    """`project`, `user:<id>` or `key:<id>`; BadInputError otherwise."""
    kind, _, entity_id = text.partition(":")
    if kind == "project" and not entity_id:
        return Entity("project")
    if kind in ("user", "key") and entity_id and len(entity_id) <= 200 and "\x00" not in entity_id:
        return Entity(kind, entity_id)
    raise BadInputError(f"entity must be project, user:<id> or key:<id>, got {text[:64]!r}")


def parse_defaults(spec: str, burst_percent: int) -> tuple[LimitRule, ...]:
    """Rules from `type[@model]:unit=limit,...;...` (per minute); ValueError names a bad part."""
    rules: list[LimitRule] = []
    for part in filter(None, (piece.strip() for piece in spec.split(";"))):
        match = _DEFAULT_RULE.fullmatch(part)
        if match is None or match["type"] not in ENTITY_TYPES:
            raise ValueError(f"{part!r} is not type[@model]:unit=limit[,unit=limit]")
        for item in match["limits"].split(","):
            unit, _, value = item.partition("=")
            limit = int(value)
            if limit > MAX_LIMIT:
                raise ValueError(f"{part!r}: {unit} is above {MAX_LIMIT}")
            rules.append(LimitRule(
                match["type"], ANY, match["resource"] or ANY, unit, limit,
                burst=limit * burst_percent // 100,
            ))  # fmt: skip
    return tuple(rules)


def bucket_key(project_id: str, entity: Entity, resource: str, unit: str) -> str:
    """The Redis key of a bucket; the braces keep a project's keys in one cluster slot."""
    return (
        f"llmobs:limits:{{{project_id}}}:bucket:{entity.kind}:{quote(entity.id, safe='')}:"
        f"{quote(resource, safe='')}:{unit}"
    )


def lease_key(project_id: str, lease_id: str) -> str:
    """The Redis key of a lease of the project."""
    return f"llmobs:limits:{{{project_id}}}:lease:{lease_id}"


def chain(entity: Entity, is_cascading: bool) -> tuple[Entity, ...]:
    """The entity and, when cascading, the project above it."""
    if entity.kind == "project" or not is_cascading:
        return (entity,)
    return (entity, Entity("project"))


def applicable(
    project_id: str,
    rules: Iterable[LimitRule],
    entity: Entity,
    resource: str,
    is_cascading: bool,
) -> list[BucketSpec]:
    """Every bucket a call of `entity` on `resource` counts against, in a stable order."""
    rules = tuple(rules)
    specs: list[BucketSpec] = []
    for member in chain(entity, is_cascading):
        for scope in dict.fromkeys((resource, ANY)):
            specs.extend(_buckets(project_id, rules, member, scope))
    return specs


def own_buckets(project_id: str, rules: Sequence[LimitRule], entity: Entity) -> list[BucketSpec]:
    """The entity's own buckets on every resource some rule names for it."""
    resources = sorted({rule.resource for rule in rules if _matches(rule, entity)})
    return [spec for scope in resources for spec in _buckets(project_id, rules, entity, scope)]


def _matches(rule: LimitRule, entity: Entity) -> bool:
    return rule.entity_type == entity.kind and rule.entity_id in (ANY, entity.id)


def _buckets(
    project_id: str, rules: Sequence[LimitRule], entity: Entity, resource: str
) -> list[BucketSpec]:
    chosen: dict[str, LimitRule] = {}
    for rule in rules:
        if rule.resource != resource or not _matches(rule, entity):
            continue
        held = chosen.get(rule.unit)
        if held is None or rule.precedence > held.precedence:
            chosen[rule.unit] = rule
    return [_spec(project_id, entity, resource, rule) for _, rule in sorted(chosen.items())
            if rule.limit > 0]  # fmt: skip


def _spec(project_id: str, entity: Entity, resource: str, rule: LimitRule) -> BucketSpec:
    key = bucket_key(project_id, entity, resource, rule.unit)
    capacity = rule.limit + rule.burst
    return BucketSpec(key, entity, resource, rule.unit, rule.limit, rule.window_seconds, capacity)
