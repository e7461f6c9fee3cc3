"""Every form that creates something carries an idempotency key: two POSTs of the same page make
one thing. The key's row is inserted in the transaction of the creation; a second request with the
same key waits on PostgreSQL's unique index until the first commits, then answers with its result
(if the first failed, its row is gone and the second does the work)."""

import uuid
from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from cnas.models import IdempotencyKey

FIELD = "idempotency_key"


def new_key() -> str:
    return uuid.uuid4().hex


def key_of(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get(FIELD, ""))
    except ValueError:
        return None  # an old page, or a hand-made request: no protection, no harm


def once(request, *, scope: str, create: Callable):
    """``create()`` once per key; returns (the object, True) or (the first object, False)."""
    key = key_of(request)
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    if key is None:
        return create(), True
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cnas_idempotencykey (key, scope, user_id, object_id, created_at) "
                "VALUES (%s, %s, %s, '', %s) ON CONFLICT (key) DO NOTHING RETURNING id",
                [key, scope, user.pk if user else None, timezone.now()])
            inserted = cursor.fetchone()
        if inserted is None:  # the same page posted before (and committed: the insert waited for it)
            first = IdempotencyKey.objects.filter(key=key).first()
            if first is not None and first.scope == scope and first.user_id == (user.pk if user else None) \
                    and first.target is not None:
                return first.target, False
            return create(), True
        created = create()
        IdempotencyKey.objects.filter(pk=inserted[0]).update(
            content_type=ContentType.objects.get_for_model(created), object_id=str(created.pk))
        return created, True
