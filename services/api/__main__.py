"""Entry point: `python -m services.api` serves the query API and its metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from contextlib import AsyncExitStack

from services.api.app import create_app
from services.api.config import ApiConfig, load_config
from services.api.metrics import ApiMetrics
from shared.errors import ConfigError
from shared.log import configure_logging
from shared.metrics_http import build_metrics_app, start_site

log = logging.getLogger("services.api")


async def serve(config: ApiConfig) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    metrics = ApiMetrics()
    async with AsyncExitStack() as stack:
        runner = await start_site(create_app(config, metrics), config.host, config.port)
        stack.push_async_callback(runner.cleanup)
        exporter = await start_site(
            build_metrics_app(metrics.registry), config.host, config.metrics_port
        )
        stack.push_async_callback(exporter.cleanup)
        log.info("api started", extra={"port": config.port, "metrics_port": config.metrics_port})
        await stop.wait()
        log.info("api stopping")


def main() -> int:
    """Load the config once, then serve."""
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        print(f"api: {exc}", file=sys.stderr)
        return 2
    configure_logging("api", config.log_level)
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
