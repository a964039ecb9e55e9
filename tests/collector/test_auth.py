"""API keys at the front door: 401/403 for bad credentials, the key's project on every record,
no header combination writing into another project, dev mode, and a database outage."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import psycopg
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from psycopg import sql

from deploy.local.servers import LocalServer
from tests.collector.conftest import (
    CollectorUnderTest,
    IssuedKey,
    add_key,
    start_collector,
    stream_batches,
)
from tests.e2e.otlp_load import build_request

PROTOBUF = {"Content-Type": "application/x-protobuf"}
METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
Headers = Sequence[tuple[str, str]]


@pytest.fixture
async def strict(redis_url: str, database_url: str) -> AsyncIterator[CollectorUnderTest]:
    """A collector outside dev mode: every request needs a key."""
    running = await start_collector(redis_url, database_url, dev_mode=False)
    yield running
    await running.stop()


def bearer(key: IssuedKey) -> tuple[str, str]:
    return ("Authorization", f"Bearer {key.secret}")


def basic(public_id: str, secret: str) -> tuple[str, str]:
    encoded = base64.b64encode(f"{public_id}:{secret}".encode()).decode()
    return ("Authorization", f"Basic {encoded}")


async def post(collector: CollectorUnderTest, body: bytes, headers: Headers) -> tuple[int, str]:
    response = await collector.http.post(
        "/v1/traces", data=body, headers=[*PROTOBUF.items(), *headers]
    )
    raw = await response.read()
    message = status_pb2.Status.FromString(raw).message if response.status != 200 else ""
    return response.status, message


async def export_grpc(
    collector: CollectorUnderTest, body: bytes, metadata: Headers
) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(collector.grpc_target) as channel:
        try:
            await channel.unary_unary(METHOD)(
                body, timeout=10, metadata=tuple((k.lower(), v) for k, v in metadata)
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def auth_failures(collector: CollectorUnderTest, transport: str, reason: str) -> float:
    value = collector.metrics.registry.get_sample_value(
        "collector_auth_failures_total", {"transport": transport, "reason": reason}
    )
    return value or 0.0


async def projects_by_trace(collector: CollectorUnderTest) -> dict[str, set[str]]:
    """For each trace id in the stream, the projects its records were stamped with."""
    found: dict[str, set[str]] = {}
    for batch in await stream_batches(collector):
        for record in batch.records:
            assert record["project_id"] == batch.project_id
            found.setdefault(record["trace_id"], set()).add(record["project_id"])
    return found


def trace_id_of(batch: int) -> str:
    return (batch + 1).to_bytes(16, "big").hex()


async def revoke(database_url: str, key: IssuedKey) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = %s", (key.key_id,)
        )


async def test_http_refuses_missing_unknown_revoked_and_unscoped_keys(
    strict: CollectorUnderTest, database_url: str
) -> None:
    good = await add_key(database_url, "alpha")
    revoked = await add_key(database_url, "alpha")
    reader = await add_key(database_url, "alpha", scopes=("read",))
    await revoke(database_url, revoked)
    body = build_request(0, 2)
    refusals = [
        ([], 401, "API key is required", "missing"),
        ([("Authorization", "Bearer lo_not-a-key")], 401, "not valid", "unknown"),
        ([("x-api-key", "lo_not-a-key")], 401, "not valid", "unknown"),
        ([bearer(revoked)], 401, "revoked", "revoked"),
        ([bearer(reader)], 403, "lacks the 'ingest' scope", "scope"),
        ([("Authorization", f"Token {good.secret}")], 401, "Bearer", "malformed"),
        ([("Authorization", "Bearer ")], 401, "Bearer", "malformed"),
        ([("x-api-key", " ")], 401, "empty", "malformed"),
        ([("Authorization", "Basic !!!")], 401, "base64", "malformed"),
    ]
    for headers, status, words, reason in refusals:
        before = auth_failures(strict, "http", reason)
        got_status, message = await post(strict, body, headers)
        assert (got_status, words in message) == (status, True), (headers, message)
        assert auth_failures(strict, "http", reason) == before + 1
    assert await stream_batches(strict) == []
    assert (await post(strict, body, [bearer(good)]))[0] == 200
    assert await projects_by_trace(strict) == {trace_id_of(0): {"alpha"}}


async def test_grpc_refuses_bad_keys_with_unauthenticated(
    strict: CollectorUnderTest, database_url: str
) -> None:
    good = await add_key(database_url, "alpha")
    revoked = await add_key(database_url, "alpha")
    reader = await add_key(database_url, "alpha", scopes=("read", "admin"))
    await revoke(database_url, revoked)
    body = build_request(1, 2)
    async with grpc.aio.insecure_channel(strict.grpc_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await channel.unary_unary(METHOD)(
                body, timeout=10, metadata=(("authorization", "Bearer lo_wrong"),)
            )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "not valid" in (caught.value.details() or "")
    assert await export_grpc(strict, body, []) == grpc.StatusCode.UNAUTHENTICATED
    assert await export_grpc(strict, body, [bearer(revoked)]) == grpc.StatusCode.UNAUTHENTICATED
    assert await export_grpc(strict, body, [("x-api-key", "nope")]) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert await export_grpc(strict, body, [bearer(reader)]) == grpc.StatusCode.PERMISSION_DENIED
    assert auth_failures(strict, "grpc", "revoked") == 1
    assert await stream_batches(strict) == []
    assert await export_grpc(strict, body, [("x-api-key", good.secret)]) == grpc.StatusCode.OK
    assert await projects_by_trace(strict) == {trace_id_of(1): {"alpha"}}


def with_resource_project(body: bytes, project_id: str) -> bytes:
    """The request with attributes that name another project, which must change nothing."""
    request = ExportTraceServiceRequest.FromString(body)
    for key in ("project_id", "llmobs.project_id", "langfuse.project.id"):
        attribute = KeyValue(key=key, value=AnyValue(string_value=project_id))
        request.resource_spans[0].resource.attributes.append(attribute)
        request.resource_spans[0].scope_spans[0].spans[0].attributes.append(attribute)
    return request.SerializeToString()


async def isolation_cases(
    database_url: str, is_dev_mode: bool
) -> list[tuple[str, Headers, bool, str | None]]:
    """(name, headers, names another project in the body, expected project or None: refused)."""
    a = await add_key(database_url, "alpha")
    b = await add_key(database_url, "beta")
    lf_a = await add_key(database_url, "alpha", is_langfuse=True)
    lf_b = await add_key(database_url, "beta", is_langfuse=True)
    other_names = [("x-project-id", "beta"), ("x-llmobs-project", "beta"),
                   ("x_langfuse_public_key", lf_b.display_id)]  # fmt: skip
    return [
        ("no key", other_names, True, "default" if is_dev_mode else None),
        ("bearer", [bearer(a)], False, "alpha"),
        ("x-api-key", [("x-api-key", a.secret)], False, "alpha"),
        ("same key twice", [bearer(a), ("x-api-key", a.secret)], False, "alpha"),
        ("key + project headers", [bearer(a), *other_names], False, "alpha"),
        ("key + project attributes", [bearer(a)], True, "alpha"),
        ("basic", [basic(lf_a.display_id, lf_a.secret)], False, "alpha"),
        (
            "basic + project headers",
            [basic(lf_a.display_id, lf_a.secret), *other_names],
            True,
            "alpha",
        ),
        ("two keys, two headers", [bearer(a), ("x-api-key", b.secret)], False, None),
        ("two bearer headers", [bearer(a), bearer(b)], False, None),
        ("basic + bearer", [basic(lf_a.display_id, lf_a.secret), bearer(b)], False, None),
        ("bearer + basic", [bearer(a), basic(lf_b.display_id, lf_b.secret)], False, None),
        ("basic, other's public key", [basic(lf_b.display_id, lf_a.secret)], False, None),
        ("basic, other's secret", [basic(lf_a.display_id, lf_b.secret)], False, None),
        (
            "basic + x-api-key",
            [basic(lf_a.display_id, lf_a.secret), ("x-api-key", b.secret)],
            False,
            None,
        ),
    ]


@pytest.mark.parametrize("is_dev_mode", [False, True])
async def test_no_header_combination_writes_into_another_project(
    redis_url: str, database_url: str, is_dev_mode: bool
) -> None:
    collector = await start_collector(redis_url, database_url, dev_mode=is_dev_mode)
    try:
        cases = await isolation_cases(database_url, is_dev_mode)
        expected: dict[str, set[str]] = {}
        for number, (name, headers, names_other, project) in enumerate(cases):
            http_batch, grpc_batch = 2 * number, 2 * number + 1
            for batch, transport in ((http_batch, "http"), (grpc_batch, "grpc")):
                body = build_request(batch, 2)
                if names_other:
                    body = with_resource_project(body, "beta")
                if transport == "http":
                    status, _ = await post(collector, body, headers)
                    assert (status == 200) == (project is not None), name
                else:
                    code = await export_grpc(collector, body, headers)
                    assert (code == grpc.StatusCode.OK) == (project is not None), name
                if project is not None:
                    expected[trace_id_of(batch)] = {project}
        assert await projects_by_trace(collector) == expected
        assert auth_failures(collector, "http", "conflicting") == 5
        assert auth_failures(collector, "grpc", "public_key") == 2
    finally:
        await collector.stop()


async def test_dev_mode_uses_the_default_project_only_without_credentials(
    collector: CollectorUnderTest, database_url: str
) -> None:
    key = await add_key(database_url, "alpha")
    assert (await post(collector, build_request(0, 1), [("x-project-id", "alpha")]))[0] == 200
    assert (await post(collector, build_request(1, 1), [bearer(key)]))[0] == 200
    status, message = await post(collector, build_request(2, 1), [("x-api-key", "lo_typo")])
    assert (status, message) == (401, "the API key is not valid")
    assert await projects_by_trace(collector) == {
        trace_id_of(0): {"default"},
        trace_id_of(1): {"alpha"},
    }


async def test_a_cached_key_outlives_a_database_outage(
    redis_url: str, database_url: str, pg_server: LocalServer
) -> None:
    # TTL 0: every request asks the database, so the outage is certainly noticed.
    collector = await start_collector(
        redis_url, database_url, dev_mode=False, project_cache_ttl_seconds=0
    )
    key = await add_key(database_url, "alpha")
    database = sql.Identifier(database_url.rsplit("/", 1)[1])
    try:
        assert (await post(collector, build_request(0, 1), [bearer(key)]))[0] == 200
        async with await psycopg.AsyncConnection.connect(pg_server.url, autocommit=True) as conn:
            await conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(database)
            )
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database_url.rsplit("/", 1)[1],),
            )
        assert (await post(collector, build_request(1, 1), [bearer(key)]))[0] == 200
        assert await export_grpc(collector, build_request(2, 1), [bearer(key)]) == (
            grpc.StatusCode.OK
        )
        response = await collector.http.post(
            "/v1/traces", data=build_request(3, 1),
            headers={**PROTOBUF, "x-api-key": "lo_never-seen"},
        )  # fmt: skip
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert await export_grpc(collector, build_request(4, 1), [("x-api-key", "lo_other")]) == (
            grpc.StatusCode.UNAVAILABLE
        )
        assert auth_failures(collector, "http", "unavailable") == 1
        stale = collector.metrics.registry.get_sample_value(
            "collector_api_key_lookups_total", {"result": "stale"}
        )
        assert stale == 2
    finally:
        async with await psycopg.AsyncConnection.connect(pg_server.url, autocommit=True) as conn:
            await conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(database)
            )
        await collector.stop()
    assert set(await projects_by_trace(collector)) == {trace_id_of(n) for n in range(3)}


async def test_langfuse_alias_accepts_basic_auth(
    strict: CollectorUnderTest, database_url: str
) -> None:
    pair = await add_key(database_url, "lf-project", is_langfuse=True)
    assert pair.display_id.startswith("pk-lf-") and pair.secret.startswith("sk-lf-")
    path = "/api/public/otel/v1/traces"
    sdk_headers = {"x_langfuse_sdk_name": "python", "x_langfuse_public_key": pair.display_id}
    for headers, status in (
        ([basic(pair.display_id, pair.secret)], 200),
        ([basic(pair.display_id, "sk-lf-wrong")], 401),
        ([basic("pk-lf-someone-else", pair.secret)], 401),
        ([], 401),
    ):
        response = await strict.http.post(
            path, data=build_request(7, 3), headers=[*PROTOBUF.items(), *sdk_headers.items(),
                                                      *headers],
        )  # fmt: skip
        assert response.status == status, headers
    assert await projects_by_trace(strict) == {trace_id_of(7): {"lf-project"}}


async def test_langfuse_style_exporter_reaches_the_alias(
    strict: CollectorUnderTest, database_url: str
) -> None:
    """The OpenTelemetry HTTP exporter configured exactly as the Langfuse SDK v3 configures it."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    pair = await add_key(database_url, "lf-project", is_langfuse=True)
    host = str(strict.http.make_url("")).rstrip("/")
    auth = base64.b64encode(f"{pair.display_id}:{pair.secret}".encode()).decode()
    exporter = OTLPSpanExporter(
        endpoint=f"{host}/api/public/otel/v1/traces",
        headers={"Authorization": f"Basic {auth}", "x_langfuse_sdk_name": "python",
                 "x_langfuse_public_key": pair.display_id},
    )  # fmt: skip

    def run() -> Any:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        with provider.get_tracer("langfuse-sdk").start_as_current_span("generation") as span:
            span.set_attribute("langfuse.observation.type", "generation")
            trace_id = span.get_span_context().trace_id
        provider.shutdown()
        return trace_id

    trace_id = await asyncio.to_thread(run)
    assert await projects_by_trace(strict) == {f"{trace_id:032x}": {"lf-project"}}
