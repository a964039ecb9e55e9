"""Typed keys for what the API application holds: pool, Redis client, resolver, config."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.api.config import ApiConfig
from services.api.projects import ProjectResolver

CONFIG = web.AppKey("config", ApiConfig)
POOL = web.AppKey("pool", AsyncConnectionPool)
REDIS = web.AppKey("redis", redis.Redis)
PROJECTS = web.AppKey("projects", ProjectResolver)
