"""CORS for the query API: browser dashboards on the allowed origins may read its answers."""

from __future__ import annotations

from shared.cors import CorsPolicy

API_CORS = CorsPolicy(
    methods=("GET", "POST", "DELETE", "OPTIONS"),
    headers=("Content-Type", "Authorization", "x-api-key"),
    exposed=(
        "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
        "RateLimit-Policy", "X-Cache",
    ),
)  # fmt: skip
