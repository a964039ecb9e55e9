"""`/openapi.json` and `/docs`: the OpenAPI 3.1 document of the declared endpoints, rendered."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
