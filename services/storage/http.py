"""The storage admin HTTP API on 8081: health, statistics, dead letters, retention and
re-pricing (services/storage/repricing_http.py)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import psycopg
import redis.asyncio as redis
from aiohttp import web
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from redis.exceptions import RedisError

from services.storage.admin_auth import AdminAuthenticator
from services.storage.app_keys import (
    AUTH_KEY,
    CONFIG_KEY,
    CONSUMER_KEY,
    HOUSEKEEPER_KEY,
    INGESTOR_KEY,
    POOL_KEY,
    REDIS_KEY,
)
from services.storage.config import StorageConfig
from services.storage.consume import StreamConsumer
from services.storage.dead_letters import list_dead_letters, replay_dead_letter
from services.storage.housekeeping import Housekeeper
from services.storage.ingest import Ingestor, IngestState
from services.storage.repricing_http import get_repricing_run, get_repricing_runs, post_repricing
from services.storage.repricing_store import RepricingConflictError
from shared.errors import (
    BadInputError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
)
from shared.health import dependency_report
from shared.keystore import KeyStore

_RATE_WINDOW_SECONDS = 60.0
# Admin keys are looked up as the collector does: cached, a revocation applies within the TTL.
_KEY_TTL_SECONDS = 30.0
_KEY_MAX_STALE_SECONDS = 300.0
_MAX_LIST = 1000


async def health(_: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def health_detailed(request: web.Request) -> web.Response:
    """Readiness: the database and Redis each checked, with latency and error."""
    body, status = await dependency_report(request.app[POOL_KEY], request.app[REDIS_KEY])
    return web.json_response(body, status=status)


async def stats(request: web.Request) -> web.Response:
    """Stream backlog and consumer lag, the group's consumers, batch sizes, rows per second."""
    state = request.app[INGESTOR_KEY].state
    consumer = request.app[CONSUMER_KEY]
    length, pending = await consumer.lag()
    uptime = max(time.time() - state.started_at, 1e-9)
    body: dict[str, Any] = {
        "stream_length": length,
        "pending": pending,
        # Acknowledged entries are deleted: what is left and not pending awaits delivery.
        "lag": max(length - pending, 0),
        "consumers": [
            {"name": c.name, "pending": c.pending, "idle_ms": c.idle_ms}
            for c in await consumer.consumers()
        ],
        "batches": state.batches,
        "spans_written": state.spans_written,
        "metric_points_written": state.metric_points_written,
        "log_records_written": state.log_records_written,
        "last_batch_spans": state.last_batch_spans,
        "spans_per_second": round(state.spans_written / uptime, 3),
        **_recent_batches(state, uptime),
        "last_error": state.last_error,
        "last_error_at": state.last_error_at,
    }
    return web.json_response(body)


def _recent_batches(state: IngestState, uptime: float) -> dict[str, Any]:
    """Batch sizes of the latest batches, and rows written per second over the last minute."""
    now = time.time()
    sizes = [spans for _, spans, _ in state.recent_batches]
    written = sum(new for at, _, new in state.recent_batches if now - at <= _RATE_WINDOW_SECONDS)
    return {
        "batch_spans": {
            "batches": len(sizes),
            "mean": round(sum(sizes) / len(sizes), 1) if sizes else 0,
            "max": max(sizes, default=0),
        },
        "rows_per_second": round(written / min(_RATE_WINDOW_SECONDS, uptime), 3),
    }


async def dead_letters(request: web.Request) -> web.Response:
    """`GET /dead-letters?after=<id>&count=<n>`: dead letters oldest first, without bodies."""
    client = request.app[REDIS_KEY]
    stream = request.app[CONFIG_KEY].dead_letter_stream
    raw_count = request.query.get("count", "100")
    if not raw_count.isdigit() or not 1 <= int(raw_count) <= _MAX_LIST:
        raise BadInputError(f"count must be an integer from 1 to {_MAX_LIST}")
    letters = await list_dead_letters(client, stream, request.query.get("after"), int(raw_count))
    return web.json_response({
        "stream": stream,
        "total": await client.xlen(stream),
        "dead_letters": [letter.as_dict() for letter in letters],
        "next_after": letters[-1].entry_id if len(letters) == int(raw_count) else None,
    })  # fmt: skip


async def replay(request: web.Request) -> web.Response:
    """`POST /dead-letters/{id}/replay`: move the entry back to the main stream."""
    config = request.app[CONFIG_KEY]
    entry_id = request.match_info["entry_id"]
    new_id = await replay_dead_letter(
        request.app[REDIS_KEY], config.dead_letter_stream, config.stream, entry_id
    )
    if new_id is None:
        return web.json_response({"error": f"no dead letter {entry_id}"}, status=404)
    return web.json_response({"id": entry_id, "stream": config.stream, "replayed_as": new_id})


async def retention_run(request: web.Request) -> web.Response:
    """`POST /retention/run`: apply retention now; 409 while another process applies it."""
    report = await request.app[HOUSEKEEPER_KEY].apply_retention()
    body = dataclasses.asdict(report)
    return web.json_response(body, status=409 if report.skipped else 200)


@web.middleware
async def map_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Bad parameters: 400 with the reason; no or a wrong key: 401, 403; unknown: 404; a
    conflict: 409. Redis or PostgreSQL down: 503, retry later."""
    try:
        response: web.StreamResponse = await handler(request)
    except BadInputError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except UnauthenticatedError as exc:
        return web.json_response(
            {"error": str(exc)}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    except PermissionDeniedError as exc:
        return web.json_response({"error": str(exc)}, status=403)
    except NotFoundError as exc:
        return web.json_response({"error": str(exc)}, status=404)
    except RepricingConflictError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    except UnavailableError as exc:
        return web.json_response(
            {"error": str(exc)}, status=503,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )  # fmt: skip
    except (RedisError, psycopg.OperationalError, PoolTimeout) as exc:
        return web.json_response(
            {"error": f"unavailable: {type(exc).__name__}"}, status=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip
    return response


def build_app(
    config: StorageConfig, pool: AsyncConnectionPool[Any], client: redis.Redis,
    ingestor: Ingestor, consumer: StreamConsumer, housekeeper: Housekeeper,
) -> web.Application:  # fmt: skip
    """The admin app, wired to the service's pool, Redis client, ingest loop and housekeeper."""
    app = web.Application(middlewares=[map_errors])
    app[CONFIG_KEY] = config
    app[POOL_KEY] = pool
    app[REDIS_KEY] = client
    app[INGESTOR_KEY] = ingestor
    app[CONSUMER_KEY] = consumer
    app[HOUSEKEEPER_KEY] = housekeeper
    keys = KeyStore(pool, config.key_pepper, _KEY_TTL_SECONDS, _KEY_MAX_STALE_SECONDS)
    app[AUTH_KEY] = AdminAuthenticator(keys, config.admin_key)
    app.router.add_get("/health", health)
    app.router.add_get("/health/detailed", health_detailed)
    app.router.add_get("/stats", stats)
    app.router.add_get("/dead-letters", dead_letters)
    app.router.add_post("/dead-letters/{entry_id}/replay", replay)
    app.router.add_post("/retention/run", retention_run)
    app.router.add_post("/repricing", post_repricing)
    app.router.add_get("/repricing", get_repricing_runs)
    app.router.add_get("/repricing/{run_id}", get_repricing_run)
    return app
