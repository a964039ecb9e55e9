"""The OpenAPI 3.1 document, generated from the same endpoint specs that validate requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.api.bodies import body_schema
from services.api.schemas import ERROR
from services.api.spec import Endpoint, Param

TITLE = "LLM Observatory query API"
VERSION = "1.0.0"
_ERRORS = {
    "400": "A parameter is invalid; the message names it.",
    "401": "No valid credentials.",
    "403": "The key lacks the scope, or the project is not the key's.",
    "404": "Not found in the caller's project.",
    "422": "The query is too wide for the raw tables; the message says how to narrow it.",
    "429": "Over the key's rate limit, or (acquire) a usage limit; see Retry-After.",
    "503": "A dependency is unavailable or the query timed out; retry after Retry-After.",
}
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "read": [{"bearerAuth": []}, {"apiKeyAuth": []}, {"basicAuth": []}],
    "ingest": [{"bearerAuth": []}, {"apiKeyAuth": []}],
    "admin": [{"bearerAuth": []}, {"apiKeyAuth": []}],
    "operator": [{"bearerAuth": []}, {"apiKeyAuth": []}],
    "none": [],
}


def build_document(endpoints: Sequence[Endpoint], is_dev_mode: bool) -> dict[str, Any]:
    """The whole document; in dev mode reads are documented as possible without credentials."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, is_dev_mode
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Reads over an OpenTelemetry-native LLM observability store. Every answer is "
                "confined to the project of the API key; lists are cursor-paginated."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Langfuse-style public:secret key pair.",
                },
            },
            "schemas": {"Error": ERROR},
        },
    }


def _operation(endpoint: Endpoint, is_dev_mode: bool) -> dict[str, Any]:
    security = list(_SECURITY[endpoint.scope])
    if is_dev_mode and endpoint.scope == "read":
        security.append({})
    responses: dict[str, Any] = {
        str(endpoint.status): {
            "description": "Success.",
            "content": {"application/json": {"schema": endpoint.response}},
        }
    }
    for status, description in _ERRORS.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": [_parameter(param) for param in endpoint.params],
        "responses": responses,
        "security": security,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema(endpoint.body)}},
        }
    return operation


def _parameter(param: Param) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": param.name,
        "in": param.location,
        "required": param.location == "path" or param.is_required,
        "description": param.description,
        "schema": param.schema(),
    }
    if param.is_multiple:
        parameter.update(style="form", explode=True)
    return parameter
