"""Typed keys for what the API application holds: pool, Redis, auth, limiters, cache, config."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.api.auth import Authenticator
from services.api.budgets.evaluator import BudgetEvaluator
from services.api.cache import ResponseCache
from services.api.config import ApiConfig
from services.api.limits.service import UsageLimiter
from services.api.ratelimit import RateLimiter

CONFIG = web.AppKey("config", ApiConfig)
POOL = web.AppKey("pool", AsyncConnectionPool)
REDIS = web.AppKey("redis", redis.Redis)
AUTH = web.AppKey("auth", Authenticator)
LIMITER = web.AppKey("limiter", RateLimiter)
CACHE = web.AppKey("cache", ResponseCache)
USAGE_LIMITER = web.AppKey("usage_limiter", UsageLimiter)
BUDGETS = web.AppKey("budgets", BudgetEvaluator)
