"""Entry point: `python -m services.storage` runs the service; `migrate` applies migrations;
`projects`, `keys` and `quotas` are operator commands (services/storage/admin.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from contextlib import AsyncExitStack

import redis.asyncio as redis

from services.storage import admin
from services.storage.config import StorageConfig, load_config
from services.storage.consume import StreamConsumer
from services.storage.housekeeping import Housekeeper
from services.storage.http import build_app
from services.storage.ingest import Ingestor
from services.storage.metrics import StorageMetrics
from services.storage.migrations import apply_migrations
from shared.background import cancel_and_wait
from shared.config import redact_url
from shared.db import open_pool, toast_compression
from shared.errors import ConfigError
from shared.log import configure_logging
from shared.metrics_http import build_metrics_app, start_site

log = logging.getLogger("services.storage")


async def serve(config: StorageConfig) -> None:
    """Run the ingest loop and the admin and metrics servers until SIGINT or SIGTERM."""
    if config.migrate_on_start:
        applied = await asyncio.to_thread(apply_migrations, config.database_url)
        log.info("migrations checked", extra={"applied": applied})
    metrics = StorageMetrics()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        pool = await open_pool(
            config.database_url, config.db_pool_min_size, config.db_pool_max_size,
            application_name="llmobs-storage",
            configure=toast_compression(config.toast_compression),
        )  # fmt: skip
        stack.push_async_callback(pool.close)
        client = redis.Redis.from_url(config.redis_url)
        stack.push_async_callback(client.aclose)
        consumer = StreamConsumer(
            client, config.stream, config.group, config.consumer_name,
            claim_idle_ms=config.claim_idle_seconds * 1000,
        )  # fmt: skip
        ingestor = Ingestor(config, consumer, pool, metrics)
        housekeeper = Housekeeper(config, pool, consumer, metrics)
        admin = await start_site(
            build_app(config, pool, client, ingestor, consumer, housekeeper),
            config.host, config.http_port,
        )  # fmt: skip
        stack.push_async_callback(admin.cleanup)
        exporter = await start_site(
            build_metrics_app(metrics.registry), config.host, config.metrics_port
        )
        stack.push_async_callback(exporter.cleanup)
        task = asyncio.create_task(ingestor.run(), name="ingest")
        housekeeping = asyncio.create_task(housekeeper.run(), name="housekeeping")
        log.info(
            "storage started",
            extra={"database": redact_url(config.database_url), "http_port": config.http_port,
                   "consumer": config.consumer_name},
        )  # fmt: skip
        await asyncio.wait(
            {task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        ingestor.stop()
        housekeeper.stop()
        await cancel_and_wait(housekeeping)  # retention commits batch by batch: safe to interrupt
        await task  # finishes the batch in hand; raises if the loop died
        log.info("storage stopped")


def main(argv: list[str]) -> int:
    """Load the config once, then run the command."""
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        print(f"storage: {exc}", file=sys.stderr)
        return 2
    configure_logging("storage", config.log_level)
    if argv[1:] == ["migrate"]:
        applied = apply_migrations(config.database_url)
        log.info("migrations applied", extra={"applied": applied})
        return 0
    if argv[1:2] and argv[1] in admin.COMMANDS:
        return admin.main(argv[1:], config)
    if argv[1:]:
        print(f"usage: python -m services.storage [migrate|{'|'.join(admin.COMMANDS)}]",
              file=sys.stderr)  # fmt: skip
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
