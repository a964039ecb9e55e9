"""`/` and `/explorer/{name}`: the trace explorer, static files read once at startup.

Every file is answered with an ETag of its content hash and `Cache-Control: no-cache` (the
browser revalidates and gets 304 while the file is unchanged: ES modules import each other by
plain names, so the names cannot carry hashes without a build step). A strict
Content-Security-Policy admits only the explorer's own scripts and styles and no inline code,
and Trusted Types forbid assigning strings to `innerHTML`: text from telemetry can only ever be
rendered as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

EXPLORER_DIR = Path(__file__).resolve().parents[1] / "explorer"
CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
    "img-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'", "require-trusted-types-for 'script'", "trusted-types 'none'",
))  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the explorer: its bytes, content type and ETag."""

    body: bytes
    content_type: str
    etag: str


def load_assets(directory: Path = EXPLORER_DIR) -> dict[str, Asset]:
    """Every servable file of the explorer by name (`index.html`, `main.js`, ...)."""
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path.name] = Asset(body, content_type, etag)
    return assets


def explorer_routes(assets: dict[str, Asset]) -> list[web.RouteDef]:
    """The page at `/` and its assets at `/explorer/{name}`; unknown names are 404."""

    async def index(request: web.Request) -> web.StreamResponse:
        return _answer(request, assets["index.html"])

    async def asset(request: web.Request) -> web.StreamResponse:
        found = assets.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(reason=f"no explorer file {request.match_info['name']!r}")
        return _answer(request, found)

    return [web.get("/", index), web.get("/explorer/{name}", asset)]


def _answer(request: web.Request, asset: Asset) -> web.StreamResponse:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag}
    if asset.etag in _etags(request.headers.get("If-None-Match", "")):
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, content_type=asset.content_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
