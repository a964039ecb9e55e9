"""The keys under which the storage admin app holds the service's objects."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.storage.admin_auth import AdminAuthenticator
from services.storage.config import StorageConfig
from services.storage.consume import StreamConsumer
from services.storage.housekeeping import Housekeeper
from services.storage.ingest import Ingestor

POOL_KEY = web.AppKey("pool", AsyncConnectionPool)
REDIS_KEY = web.AppKey("redis", redis.Redis)
INGESTOR_KEY = web.AppKey("ingestor", Ingestor)
CONSUMER_KEY = web.AppKey("consumer", StreamConsumer)
HOUSEKEEPER_KEY = web.AppKey("housekeeper", Housekeeper)
CONFIG_KEY = web.AppKey("config", StorageConfig)
AUTH_KEY = web.AppKey("admin_auth", AdminAuthenticator)
