from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    """The public page that presents the offer."""
    return render(request, "home.html")


@never_cache
@require_GET
def health(request):
    """Liveness and readiness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def rate_limited(request, exception=None):
    """django-ratelimit's answer when a limit is reached (used by views that block)."""
    return render(request, "429.html", status=429)
