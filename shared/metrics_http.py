"""Serving a Prometheus registry on its own port, as each service does."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def build_metrics_app(registry: CollectorRegistry) -> web.Application:
    """An aiohttp app answering GET /metrics with the registry's exposition."""

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


async def start_site(
    app: web.Application,
    host: str,
    port: int,
    *,
    auto_decompress: bool = True,
    reuse_port: bool = False,
) -> web.AppRunner:
    """Start serving `app` on host:port; the caller cleans the returned runner up.

    With `reuse_port`, other processes may listen on the same port (SO_REUSEPORT) and the
    kernel spreads new connections among them.
    """
    runner = web.AppRunner(app, access_log=None, auto_decompress=auto_decompress)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
    return runner
