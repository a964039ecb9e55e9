"""HTTP routes of the API, one module per resource; ENDPOINTS lists every declared endpoint."""

from __future__ import annotations

from services.api.routes import (
    budgets,
    calls,
    langfuse,
    limits,
    metrics,
    overview,
    people,
    projects,
    traces,
)
from services.api.spec import Endpoint

ENDPOINTS: tuple[Endpoint, ...] = (
    *traces.ENDPOINTS,
    *calls.ENDPOINTS,
    *people.ENDPOINTS,
    *metrics.ENDPOINTS,
    *overview.ENDPOINTS,
    *langfuse.ENDPOINTS,
    *projects.ENDPOINTS,
    *limits.ENDPOINTS,
    *budgets.ENDPOINTS,
)
