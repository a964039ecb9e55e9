"""A small client of the API's usage limits for applications, async and sync.

    limiter = AsyncLimiter("http://api:8080", api_key)
    async with limiter.acquire("user:alice", "gpt-4o", rpm=1, tpm=estimate) as lease:
        span.set_attribute(LEASE_ID_ATTRIBUTE, lease.lease_id)   # not counted twice
        answer = await call_the_model()
        lease.adjust(tpm=answer.usage.total_tokens)

Leaving the block normally commits the lease (with the adjusted amounts, if any); leaving it by
an exception releases the reservation. A refusal raises LimitExceededError, which carries the
wait and every limit's status. The sync `Limiter` does the same with `with`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

from shared.errors import ThrottledError, UnavailableError
from shared.usage_limits import LEASE_ID_ATTRIBUTE


class LimitExceededError(ThrottledError):
    """A usage limit refused the call; `limits` lists every limit checked and its status."""

    def __init__(self, message: str, retry_after_ms: int, limits: list[dict[str, Any]]) -> None:
        super().__init__(message, max(1, -(-retry_after_ms // 1000)))
        self.retry_after_ms = retry_after_ms
        self.limits = limits


@dataclass
class Lease:
    """An acquired lease: its id, the limits' state, and the actual amounts to commit."""

    lease_id: str
    limits: list[dict[str, Any]]
    actual: dict[str, float] = field(default_factory=dict)

    @property
    def attributes(self) -> dict[str, str]:
        """The span attribute that tells the collector this call was paid for by the lease."""
        return {LEASE_ID_ATTRIBUTE: self.lease_id}

    def adjust(self, **actual: float) -> None:
        """Record the actual amounts (e.g. tpm=...), committed when the block ends."""
        self.actual.update(actual)


def _acquire_body(entity: str, resource: str, consume: dict[str, float]) -> dict[str, Any]:
    return {"entity": entity, "resource": resource, "consume": consume}


def _refusal(status: int, body: dict[str, Any]) -> Exception:
    error = body.get("error", {})
    message = str(error.get("message", f"HTTP {status}"))
    if status == 429 and "limits" in error:
        return LimitExceededError(message, int(error["retry_after_ms"]), error["limits"])
    if status in (429, 503):
        return UnavailableError(message)
    return RuntimeError(f"usage limits: HTTP {status}: {message}")


class AsyncLimiter:
    """Acquires leases from the API with aiohttp."""

    def __init__(self, base_url: str, api_key: str, timeout_seconds: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def acquire(self, entity: str, resource: str = "*", **consume: float) -> _AsyncLeaseScope:
        """A context manager holding a lease for the block."""
        return _AsyncLeaseScope(self, _acquire_body(entity, resource, consume))

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON; the answer's JSON, or the error it stands for raised."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.post(
            self._base + path, json=body, headers=self._headers
        ) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            if response.status != 200:
                raise _refusal(response.status, answer)
            return answer

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()


class _AsyncLeaseScope:
    def __init__(self, limiter: AsyncLimiter, body: dict[str, Any]) -> None:
        self._limiter = limiter
        self._body = body
        self._lease: Lease | None = None

    async def __aenter__(self) -> Lease:
        answer = await self._limiter.post("/v1/limits/acquire", self._body)
        self._lease = Lease(answer["lease_id"], answer["limits"])
        return self._lease

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._lease is not None
        path = f"/v1/limits/leases/{self._lease.lease_id}"
        if kind is not None:
            await self._limiter.post(f"{path}/release", {})
        else:
            await self._limiter.post(f"{path}/adjust", {"consume": self._lease.actual})


class Limiter:
    """Acquires leases from the API with the standard library (blocking)."""

    def __init__(self, base_url: str, api_key: str, timeout_seconds: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._timeout = timeout_seconds

    def acquire(self, entity: str, resource: str = "*", **consume: float) -> _LeaseScope:
        """A context manager holding a lease for the block."""
        return _LeaseScope(self, _acquire_body(entity, resource, consume))

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON; the answer's JSON, or the error it stands for raised."""
        request = urllib.request.Request(
            self._base + path, data=json.dumps(body).encode(), headers=self._headers,
            method="POST",
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            raise _refusal(exc.code, json.loads(exc.read() or b"{}")) from exc


class _LeaseScope:
    def __init__(self, limiter: Limiter, body: dict[str, Any]) -> None:
        self._limiter = limiter
        self._body = body
        self._lease: Lease | None = None

    def __enter__(self) -> Lease:
        answer = self._limiter.post("/v1/limits/acquire", self._body)
        self._lease = Lease(answer["lease_id"], answer["limits"])
        return self._lease

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._lease is not None
        path = f"/v1/limits/leases/{self._lease.lease_id}"
        if kind is not None:
            self._limiter.post(f"{path}/release", {})
        else:
            self._limiter.post(f"{path}/adjust", {"consume": self._lease.actual})
