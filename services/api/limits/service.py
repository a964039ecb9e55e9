"""The usage limiter: resolves a call's buckets from the project's rules and leases them.

Every key it touches holds the caller's project (shared/usage_limits.py), so an entity of one
project never reaches another project's buckets or leases.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import NotFoundError
from shared.limit_buckets import Acquired, BucketState, LimitBuckets
from shared.limit_store import LimitRules
from shared.usage_limits import Entity, applicable, lease_key, own_buckets


@dataclass(frozen=True, slots=True)
class Grant:
    """An acquire's answer: the lease id when granted, and every bucket's state."""

    lease_id: str | None
    acquired: Acquired


class UsageLimiter:
    """Acquire, adjust, release and read the buckets of a project's entities."""

    def __init__(
        self, rules: LimitRules, buckets: LimitBuckets, is_cascading: bool, lease_ttl_seconds: int
    ) -> None:
        self.rules = rules
        self._buckets = buckets
        self._is_cascading = is_cascading
        self.lease_ttl_seconds = lease_ttl_seconds
        self._lease_ttl_ms = lease_ttl_seconds * 1000

    async def acquire(
        self, project_id: str, entity: Entity, resource: str, consume_milli: Mapping[str, int]
    ) -> Grant:
        """Check every applicable limit at once; take all costs and open a lease, or none."""
        specs = applicable(
            project_id, await self.rules.rules_of(project_id), entity, resource,
            self._is_cascading,
        )  # fmt: skip
        lease_id = uuid.uuid4().hex
        costs = [consume_milli.get(spec.unit, 0) for spec in specs]
        acquired = await self._buckets.acquire(
            specs, costs, lease_key(project_id, lease_id), self._lease_ttl_ms
        )
        return Grant(lease_id if acquired.is_granted else None, acquired)

    async def adjust(self, project_id: str, lease_id: str, actual_milli: Mapping[str, int]) -> int:
        """Replace the reservation of each unit named by its actual use; end the lease.
        Returns how many buckets it held; NotFoundError for a lease unknown or expired."""
        levels = await self._buckets.settle(lease_key(project_id, lease_id), actual_milli)
        if levels is None:
            raise NotFoundError(f"lease {lease_id} not found (unknown, settled or expired)")
        return len(levels)

    async def release(self, project_id: str, lease_id: str) -> int:
        """Give the whole reservation back and end the lease; NotFoundError as for adjust."""
        return await self.adjust(project_id, lease_id, {"*": 0})

    async def state(
        self, project_id: str, entity: Entity, resource: str | None
    ) -> tuple[list[BucketState], int]:
        """The entity's buckets now (on one resource with the cascade, else on every resource
        its rules name), and Redis's clock in ms."""
        rules = await self.rules.rules_of(project_id)
        if resource is None:
            specs = own_buckets(project_id, rules, entity)
        else:
            specs = applicable(project_id, rules, entity, resource, self._is_cascading)
        return await self._buckets.peek(specs)
