"""`/openapi.json` and `/docs`: the OpenAPI document of the declared endpoints, and a page of it
rendered on the server (no scripts, nothing fetched from elsewhere)."""

from __future__ import annotations

import html
from typing import Any

import orjson
from aiohttp import web

from services.api.context import CONFIG
from services.api.openapi import TITLE, build_document

routes = web.RouteTableDef()
_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2em} .op{margin:1.2em 0;padding:.6em 1em;
border-left:4px solid #4a7;background:#f7faf8} .m{font-weight:bold;font-family:monospace}
code,pre{font-family:ui-monospace,monospace;font-size:13px} pre{background:#f4f4f4;padding:.6em;
overflow:auto;max-height:18em} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e4e4e4;text-align:left;padding:.2em .5em;vertical-align:top}
"""


def _document(request: web.Request) -> dict[str, Any]:
    from services.api.routes import ENDPOINTS

    return build_document(ENDPOINTS, request.app[CONFIG].dev_mode)


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document."""
    return web.Response(body=orjson.dumps(_document(request)), content_type="application/json")


@routes.get("/docs")
async def docs_page(request: web.Request) -> web.Response:
    """The document as a static HTML page."""
    return web.Response(text=render(_document(request)), content_type="text/html")


def render(document: dict[str, Any]) -> str:
    """HTML of an OpenAPI document: operations by tag, their parameters and answer schemas."""
    by_tag: dict[str, list[str]] = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            by_tag.setdefault(operation["tags"][0], []).append(
                _render_operation(path, method, operation)
            )
    sections = "".join(
        f"<h2>{html.escape(tag)}</h2>{''.join(items)}" for tag, items in by_tag.items()
    )
    info = document["info"]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(TITLE)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(info['title'])} "
        f"<small>{html.escape(info['version'])}</small></h1><p>{html.escape(info['description'])}"
        "</p><p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>"
        f"{sections}</body></html>"
    )


def _render_operation(path: str, method: str, operation: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{html.escape(p['in'])}</td>"
        f"<td>{'yes' if p['required'] else ''}</td><td><code>{html.escape(_type(p['schema']))}"
        f"</code></td><td>{html.escape(p['description'])}</td></tr>"
        for p in operation["parameters"]
    )
    table = (
        "<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
        f"<th>meaning</th></tr>{rows}</table>"
        if rows
        else ""
    )
    success = next(iter(operation["responses"].items()))
    schema = success[1]["content"]["application/json"]["schema"]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    request_body = f"<p>Request body:</p><pre>{_json(body['schema'])}</pre>" if body else ""
    return (
        f"<div class='op' id='{html.escape(operation['operationId'])}'><p><span class='m'>"
        f"{method.upper()}</span> <code>{html.escape(path)}</code> — "
        f"{html.escape(operation['summary'])}</p>{table}{request_body}<details><summary>"
        f"{success[0]} answer</summary><pre>"
        f"{_json(schema)}</pre>"
        "</details></div>"
    )


def _type(schema: dict[str, Any]) -> str:
    if schema.get("type") == "array":
        return f"{_type(schema['items'])}, repeatable"
    if "enum" in schema:
        return " | ".join(schema["enum"])
    kind = str(schema.get("format") or schema.get("type", "any"))
    return f"{kind} (default {schema['default']})" if "default" in schema else kind


def _json(value: Any) -> str:
    return html.escape(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
