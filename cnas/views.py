import datetime

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from cnas import outbox
from cnas.models import Heartbeat, OutboxItem


@require_GET
def home(request):
    """The public page that presents the offer."""
    return render(request, "home.html")


WORKER_SILENCE = datetime.timedelta(minutes=2)
OUTBOX_PATIENCE = datetime.timedelta(minutes=10)


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_redis() -> dict:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True}


def _check_heartbeat(name: str) -> dict:
    beat = Heartbeat.objects.filter(name=name).first()
    if beat is None:
        return {"ok": False, "error": "aucun signe de vie"}
    age = timezone.now() - beat.at
    return {"ok": age <= WORKER_SILENCE, "last_seen_seconds": int(age.total_seconds())}


def _check_outbox() -> dict:
    age = outbox.oldest_waiting_age()
    failed = OutboxItem.objects.filter(failed_at__isnull=False, completed_at__isnull=True).count()
    waiting = OutboxItem.objects.filter(completed_at__isnull=True, failed_at__isnull=True).count()
    return {"ok": (age is None or age <= OUTBOX_PATIENCE) and not failed, "waiting": waiting, "failed": failed,
            "oldest_waiting_seconds": int(age.total_seconds()) if age else 0}


@never_cache
@require_GET
def health(request):
    """Readiness of the whole portal: the database, Redis, a worker and beat alive (their heartbeats),
    and the outbox moving (nothing waiting for more than ten minutes, nothing abandoned). 503 when any
    is unhealthy, with each check's figures."""
    checks = {"database": _check_database(), "redis": _check_redis(), "worker": _check_heartbeat("worker"),
              "beat": _check_heartbeat("beat"), "outbox": _check_outbox()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def liveness(request):
    """The web process answers and reaches its database (the container's probe)."""
    _check_database()
    return JsonResponse({"status": "ok"})


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for whatever the page says: to the static icon (its hashed
    name changes with it, hence a temporary redirect)."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


def rate_limited(request, exception=None):
    """django-ratelimit's answer when a limit is reached (used by views that block)."""
    return render(request, "429.html", status=429)
