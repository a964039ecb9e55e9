"""Bytes on disk: a table with its indexes and TOAST (every partition of a partitioned one),
and a whole database."""

from __future__ import annotations

import psycopg

# pg_partition_tree lists a partitioned table's partitions, and nothing for a plain table.
_TABLE_BYTES = """
SELECT CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_total_relation_size(relid)), 0)
                  FROM pg_partition_tree(c.oid))
            ELSE pg_total_relation_size(c.oid) END
FROM pg_class c WHERE c.oid = %s::regclass
"""


def table_bytes(database_url: str, table: str) -> int:
    """Heap, indexes and TOAST of `table` and of all its partitions."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(_TABLE_BYTES, (table,)).fetchone()
    return int(row[0]) if row else 0


def bytes_per_span(database_url: str, spans: int, table: str = "spans") -> float:
    """Bytes of the spans table per stored span."""
    return table_bytes(database_url, table) / max(1, spans)


def database_bytes(database_url: str) -> int:
    """The size of the whole database the URL names."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0
