"""CORS for the HTTP receiver, so that browser exporters may send from the allowed origins."""

from __future__ import annotations

from shared.cors import CorsPolicy

RECEIVER_CORS = CorsPolicy(
    methods=("POST", "PATCH", "OPTIONS"),
    headers=("Content-Type", "Content-Encoding", "Authorization", "x-api-key"),
    # What a browser script may read of a response: the wait of a 429 or 503.
    exposed=("Retry-After",),
)
