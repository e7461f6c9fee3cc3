"""Loading many rows at once (the generated worlds of seed_demo), as pg_restore does: a table's
secondary indexes, its exclusion constraints and its foreign keys are dropped before the load and
made again after it, in the same transaction. PostgreSQL builds an index in one pass (a B-tree sorted
on every core) instead of one insertion per row and per index, and checks a foreign key with one join
instead of one trigger per row — several times faster for millions of rows. Nothing wrong gets in:
the exclusion constraints and foreign keys are checked on every row when they are added back (the
load fails otherwise), and the indexes that back a primary key or a unique constraint stay in place
throughout."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

log = logging.getLogger("cnas.bulk")  # each statement's time, shown by ``seed_demo -v 2``


def execute(cursor, statement: str, params=None, *, label: str | None = None) -> None:
    """Run one statement of a bulk load and log its time (and the rows it wrote)."""
    started = time.monotonic()
    cursor.execute(statement, params)
    what = label or " ".join(statement.split()[:3])
    rows = f", {cursor.rowcount:,} lignes" if cursor.rowcount and cursor.rowcount > 0 else ""
    log.info("%s : %.1f s%s", what, time.monotonic() - started, rows)

SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef
FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
ORDER BY i.tablename, i.indexname
"""


# Foreign keys and exclusion constraints (a GiST index each, whose insertion row by row is the slowest
# part of a load): the exclusion constraints are made again first, then the foreign keys.
CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype IN ('f', 'x') AND c.conrelid::regclass::text = ANY(%s)
ORDER BY c.contype = 'f', 1, 2
"""


@contextmanager
def indexes_built_after(*tables: str) -> Iterator[None]:
    """Drop the secondary indexes, exclusion constraints and foreign keys of ``tables``, run the block,
    make them again (all or nothing)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SECONDARY_INDEXES, [list(tables)])
        indexes = cursor.fetchall()
        cursor.execute(CONSTRAINTS, [list(tables)])
        constraints = cursor.fetchall()
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # Django's foreign keys are checked at commit; a table with checks pending cannot be altered nor
        # indexed: the checks of what this transaction wrote so far are made now, and after the load.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, definition in indexes:
            execute(cursor, definition, label=f"index {name}")
        for table, name, definition in constraints:
            execute(cursor, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}', label=f"contrainte {name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's way for the rest of the transaction
