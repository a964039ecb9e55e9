"""The explorer's files as the API serves them: content types, ETags, the security headers, and
sources that can only build the page from text (no HTML strings, no eval, no inline code)."""

from __future__ import annotations

import dataclasses
import re

from aiohttp.test_utils import TestClient, TestServer

from services.api.app import create_app
from services.api.routes.explorer import EXPLORER_DIR
from tests.api.conftest import api_config

IMPORT = re.compile(r"""^import [^;]*? from "\./([a-z_]+\.js)";$""", re.MULTILINE)
# What would turn a string into markup or code.
FORBIDDEN = re.compile(
    r"\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
    r"setTimeout\(\s*['\"`]|setAttribute\(\s*['\"]on"
)


async def test_the_page_is_served_with_a_strict_policy(api: TestClient) -> None:
    response = await api.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    header = response.headers["Content-Security-Policy"]
    policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert policy["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = await response.text()
    assert '<script type="module" src="/explorer/main.js"></script>' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert " style=" not in page and "<style" not in page


async def test_every_asset_has_its_content_type_and_an_etag(api: TestClient) -> None:
    expected = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    files = [path for path in EXPLORER_DIR.iterdir() if path.suffix in expected]
    assert {path.name for path in files} >= {"main.js", "explorer.css", "favicon.svg"}
    for path in files:
        response = await api.get(f"/explorer/{path.name}")
        assert response.status == 200, path.name
        assert response.content_type == expected[path.suffix]
        assert await response.read() == path.read_bytes()
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Content-Security-Policy" in response.headers


async def test_an_unchanged_file_is_answered_304(api: TestClient) -> None:
    first = await api.get("/explorer/main.js")
    etag = first.headers["ETag"]
    again = await api.get("/explorer/main.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    other = await api.get("/explorer/main.js", headers={"If-None-Match": '"0000"'})
    assert other.status == 200
    assert (await api.get("/explorer/api.js")).headers["ETag"] != etag


async def test_unknown_files_are_not_found(api: TestClient) -> None:
    for path in ("/explorer/missing.js", "/explorer/..%2Fapp.py", "/explorer/%2E%2E%2Fconfig.py"):
        response = await api.get(path)
        assert response.status == 404, path
        assert (await response.json())["error"]["status"] == 404


async def test_the_page_needs_no_key_outside_dev_mode(database_url: str, redis_url: str) -> None:
    config = dataclasses.replace(api_config(database_url, redis_url), dev_mode=False)
    async with TestClient(TestServer(create_app(config))) as client:
        assert (await client.get("/")).status == 200
        assert (await client.get("/explorer/main.js")).status == 200
        assert (await client.get("/v1/traces")).status == 401


def test_every_module_import_is_served() -> None:
    names = {path.name for path in EXPLORER_DIR.glob("*.js")}
    for path in EXPLORER_DIR.glob("*.js"):
        for imported in IMPORT.findall(path.read_text()):
            assert imported in names, f"{path.name} imports {imported}, which is not there"


def test_no_source_turns_strings_into_markup_or_code() -> None:
    for path in EXPLORER_DIR.glob("*.js"):
        found = FORBIDDEN.findall(path.read_text())
        assert found == [], f"{path.name}: {found}"
