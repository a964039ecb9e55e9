"""`/v1/projects`: projects, their API keys (the secret shown once) and model price overrides.

The operator's admin key (LLMOBS_ADMIN_KEY) manages every project; a project key with the
`admin` scope manages its own project. Another project is answered 404, as if it did not exist.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from aiohttp import web

from services.api.bodies import Field
from services.api.context import CONFIG, POOL
from services.api.errors import ConflictError
from services.api.queries import query
from services.api.reads import fetch_row, fetch_rows
from services.api.routing import json_reply
from services.api.schemas import INSTANT, STRING, nullable, obj
from services.api.spec import Call, Endpoint, Param
from shared.apikeys import SCOPES, generate_key, generate_langfuse_pair
from shared.errors import BadInputError, NotFoundError
from shared.keystore import create_key

PROJECT_ID_PATTERN = "[a-z0-9][a-z0-9_-]{0,62}"
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
PRICE_FIELDS = (
    "input_usd_per_million_tokens", "output_usd_per_million_tokens",
    "cache_read_usd_per_million_tokens", "cache_write_usd_per_million_tokens",
)  # fmt: skip


async def own_project(call: Call) -> str:
    """The path's project, if the caller may manage it and it exists; else 404."""
    project_id: str = call.args["project_id"]
    principal = call.principal
    if not principal.is_admin_key and principal.project_id != project_id:
        raise NotFoundError(f"project {project_id!r} not found")
    if await fetch_row(call, query("project_exists"), {"project_id": project_id}) is None:
        raise NotFoundError(f"project {project_id!r} not found")
    return project_id


async def create_project(call: Call) -> web.StreamResponse:
    """Create a project; 409 when its id is taken."""
    body = call.body or {}
    row = await fetch_row(
        call, query("create_project"),
        {"project_id": body["project_id"], "name": body["name"] or body["project_id"]},
    )  # fmt: skip
    if row is None:
        raise ConflictError(f"project {body['project_id']!r} already exists")
    return json_reply(row, status=201)


async def create_project_key(call: Call) -> web.StreamResponse:
    """Create a key of the project; its secret is in this answer and nowhere else, ever."""
    project_id = await own_project(call)
    body = call.body or {}
    is_langfuse = bool(body["langfuse"])
    new_key = generate_langfuse_pair() if is_langfuse else generate_key()
    scopes = body["scopes"] or ("read",)
    pepper = call.request.app[CONFIG].key_pepper
    async with call.request.app[POOL].connection() as conn:
        key_id = await create_key(conn, new_key, project_id, body["name"] or "", scopes, pepper)
    answer: dict[str, Any] = {
        "key_id": key_id, "project_id": project_id, "name": body["name"] or "",
        "scopes": list(scopes), "display_id": new_key.display_id, "secret": new_key.secret,
    }  # fmt: skip
    if is_langfuse:
        answer.update(public_key=new_key.display_id, secret_key=new_key.secret)
    return json_reply(answer, status=201)


async def list_project_keys(call: Call) -> web.StreamResponse:
    """The project's keys without their secrets."""
    project_id = await own_project(call)
    rows = await fetch_rows(call, query("list_project_keys"), {"project_id": project_id})
    return json_reply({"data": rows, "next_cursor": None})


async def revoke_project_key(call: Call) -> web.StreamResponse:
    """Revoke a key of the project (idempotent)."""
    project_id = await own_project(call)
    row = await fetch_row(
        call, query("revoke_project_key"),
        {"project_id": project_id, "key_id": call.args["key_id"]},
    )  # fmt: skip
    if row is None:
        raise NotFoundError(f"key {call.args['key_id']} not found")
    return json_reply({"key_id": row["key_id"], "revoked_at": row["revoked_at"]})


async def list_prices(call: Call) -> web.StreamResponse:
    """The project's price overrides, in the order the collector tries them."""
    project_id = await own_project(call)
    rows = await fetch_rows(call, query("list_prices"), {"project_id": project_id})
    return json_reply({"data": [_price(row) for row in rows], "next_cursor": None})


async def create_price(call: Call) -> web.StreamResponse:
    """Add a price override for the project's custom models."""
    project_id = await own_project(call)
    body = dict(call.body or {})
    body["match"] = body["match"] or "exact"
    if body["match"] == "regex":
        try:
            re.compile(body["model"])
        except re.error as exc:
            raise BadInputError(f"field 'model' is not a valid regular expression: {exc}") from exc
    row = await fetch_row(call, query("create_price"), {"project_id": project_id, **body})
    assert row is not None
    return json_reply(_price(row), status=201)


async def delete_price(call: Call) -> web.StreamResponse:
    """Delete a price override of the project."""
    project_id = await own_project(call)
    row = await fetch_row(
        call, query("delete_price"),
        {"project_id": project_id, "override_id": call.args["override_id"]},
    )  # fmt: skip
    if row is None:
        raise NotFoundError(f"price override {call.args['override_id']} not found")
    return json_reply({"override_id": row["override_id"], "deleted": True})


def _price(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        **{name: None if row[name] is None else _text(row[name]) for name in PRICE_FIELDS},
    }


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


PROJECT = Param(
    "project_id", "string", "Project id.", location="path", is_required=True,
    pattern=PROJECT_ID_PATTERN, pattern_hint="lowercase letters, digits, - and _",
    max_length=63,
)  # fmt: skip
KEY_ID = Param(
    "key_id", "string", "Key id (a UUID).", location="path", is_required=True,
    pattern=UUID_PATTERN, pattern_hint="a UUID", max_length=36,
)  # fmt: skip
OVERRIDE_ID = Param(
    "override_id", "integer", "Price override id.", location="path", is_required=True,
    minimum=1, maximum=2**62,
)  # fmt: skip
PROJECT_BODY = (
    Field("project_id", "string", "Id: lowercase letters, digits, - and _.", is_required=True,
          pattern=PROJECT_ID_PATTERN, pattern_hint="lowercase letters, digits, - and _"),
    Field("name", "string", "Display name (default: the id)."),
)  # fmt: skip
KEY_BODY = (
    Field("name", "string", "What the key is for."),
    Field("scopes", "enums", "Scopes (default: read).", choices=SCOPES),
    Field("langfuse", "boolean", "A Langfuse pair (pk-lf-... public, sk-lf-... secret)."),
)  # fmt: skip
PRICE_BODY = (
    Field("model", "string", "Model name, prefix or regular expression.", is_required=True),
    Field("match", "enum", "How `model` matches (default exact).",
          choices=("exact", "prefix", "regex")),
    Field("provider", "string", "Only calls of this provider (gen_ai.provider.name)."),
    Field("input_usd_per_million_tokens", "decimal", "USD per million input tokens.",
          is_required=True),
    Field("output_usd_per_million_tokens", "decimal", "USD per million output tokens.",
          is_required=True),
    Field("cache_read_usd_per_million_tokens", "decimal", "USD per million cache-read tokens."),
    Field("cache_write_usd_per_million_tokens", "decimal",
          "USD per million cache-write tokens."),
    Field("version", "string", "Version of this price, recorded on every call it prices.",
          is_required=True),
)  # fmt: skip
KEY = obj({
    "key_id": STRING, "project_id": STRING, "name": STRING,
    "scopes": {"type": "array", "items": STRING}, "display_id": STRING,
})  # fmt: skip
NEW_KEY = obj({**KEY["properties"], "secret": STRING})
PRICE = obj({
    "override_id": {"type": "integer"}, "model": STRING, "match": STRING,
    "provider": nullable("string"), "input_usd_per_million_tokens": STRING,
    "output_usd_per_million_tokens": STRING, "version": STRING, "created_at": INSTANT,
})  # fmt: skip


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return obj({"data": {"type": "array", "items": item}, "next_cursor": {"type": "null"}})


ENDPOINTS = (
    Endpoint(
        "POST", "/v1/projects", "createProject", "Create a project (admin key).", "projects",
        create_project, scope="operator", body=PROJECT_BODY, status=201,
        response=obj({"project_id": STRING, "name": STRING, "created_at": INSTANT}),
    ),
    Endpoint(
        "GET", "/v1/projects/{project_id}/keys", "listProjectKeys",
        "The project's API keys, without secrets.", "projects", list_project_keys,
        scope="admin", params=(PROJECT,), response=_list(KEY),
    ),
    Endpoint(
        "POST", "/v1/projects/{project_id}/keys", "createProjectKey",
        "Create an API key; the secret is returned once.", "projects", create_project_key,
        scope="admin", params=(PROJECT,), body=KEY_BODY, status=201, response=NEW_KEY,
    ),
    Endpoint(
        "DELETE", "/v1/projects/{project_id}/keys/{key_id}", "revokeProjectKey",
        "Revoke an API key.", "projects", revoke_project_key, scope="admin",
        params=(PROJECT, KEY_ID), response=obj({"key_id": STRING, "revoked_at": INSTANT}),
    ),
    Endpoint(
        "GET", "/v1/projects/{project_id}/prices", "listPrices",
        "Model price overrides, in the order the collector tries them.", "projects",
        list_prices, scope="admin", params=(PROJECT,), response=_list(PRICE),
    ),
    Endpoint(
        "POST", "/v1/projects/{project_id}/prices", "createPrice",
        "Add a model price override (USD per million tokens).", "projects", create_price,
        scope="admin", params=(PROJECT,), body=PRICE_BODY, status=201, response=PRICE,
    ),
    Endpoint(
        "DELETE", "/v1/projects/{project_id}/prices/{override_id}", "deletePrice",
        "Delete a model price override.", "projects", delete_price, scope="admin",
        params=(PROJECT, OVERRIDE_ID),
        response=obj({"override_id": {"type": "integer"}, "deleted": {"type": "boolean"}}),
    ),
)  # fmt: skip
