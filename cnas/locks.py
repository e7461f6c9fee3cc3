"""Short locks on scarce things (a yearly ceiling, places, stock), as pretix locks its quotas:
taken in the caller's transaction, released at its end, and never a long wait — past the
timeout the person is asked to try again."""

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext as _

# One namespace per kind of scarce thing, so that two kinds never share a lock by chance.
NAMESPACES = {"roster": 4201, "ceiling": 4202, "places": 4203, "stock": 4204, "quota": 4205}
BUSY = "busy"


class Busy(ValidationError):
    """The lock is held by someone else for longer than the timeout."""

    def __init__(self):
        super().__init__(_("Trop de demandes en même temps sur cet élément : réessayez dans un instant."),
                         code=BUSY)


def lock(kind: str, key: str, *, timeout_ms: int = 3000) -> None:
    """Take the transaction-level advisory lock of ``key`` (e.g. "agent:12/prestation:3") in the
    namespace of ``kind``; raise Busy after ``timeout_ms``. Call it inside transaction.atomic."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock() must be called inside a transaction")
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a timeout undoes only this
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(timeout_ms)}ms"])
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [NAMESPACES[kind], key])
            cursor.execute("SET LOCAL lock_timeout = DEFAULT")
    except OperationalError as exc:
        if getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "55P03":  # lock_not_available
            raise Busy() from exc
        raise
