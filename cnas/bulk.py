"""Loading many rows at once (the generated worlds of seed_demo): a table's secondary indexes are
dropped before the load and built again after it, in the same transaction, which PostgreSQL does
in one sorted pass (on every core) instead of one index insertion per row and per index — several
times faster for millions of rows. Indexes that back a constraint (primary keys, unique
constraints) stay, so nothing that should be refused is accepted meanwhile."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef
FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
ORDER BY i.tablename, i.indexname
"""


@contextmanager
def indexes_built_after(*tables: str) -> Iterator[None]:
    """Drop the secondary indexes of ``tables``, run the block, build them again (all or nothing)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SECONDARY_INDEXES, [list(tables)])
        indexes = cursor.fetchall()
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        # Django's foreign keys are checked at commit: check them now, as an index cannot be built
        # on a table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in indexes:
            cursor.execute(definition)
