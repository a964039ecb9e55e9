"""SQL of the API, one named .sql file per query, loaded once at import."""

from __future__ import annotations

from pathlib import Path

_DIRECTORY = Path(__file__).parent

QUERIES: dict[str, str] = {path.stem: path.read_text() for path in _DIRECTORY.glob("*.sql")}


def query(name: str) -> str:
    """Return the SQL text of a named query (KeyError for an unknown name: a programming error)."""
    return QUERIES[name]
