"""Loading many rows at once (the generated worlds of seed_demo), as pg_restore does: a table's
secondary indexes and its foreign keys are dropped before the load and made again after it, in
the same transaction. PostgreSQL builds an index in one sorted pass (on every core) instead of one
insertion per row and per index, and checks a foreign key with one join instead of one trigger per
row — several times faster for millions of rows. Nothing wrong gets in: the foreign keys are
checked on every row when they are added back (the load fails otherwise), and the indexes that
back a constraint (primary keys, unique constraints) stay in place throughout."""

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


FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
ORDER BY 1, 2
"""


@contextmanager
def indexes_built_after(*tables: str) -> Iterator[None]:
    """Drop the secondary indexes and the foreign keys of ``tables``, run the block, make them again
    (all or nothing)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SECONDARY_INDEXES, [list(tables)])
        indexes = cursor.fetchall()
        cursor.execute(FOREIGN_KEYS, [list(tables)])
        foreign_keys = cursor.fetchall()
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # Django's foreign keys are checked at commit; a table with checks pending cannot be altered nor
        # indexed: the checks of what this transaction wrote so far are made now, and after the load.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's way for the rest of the transaction
