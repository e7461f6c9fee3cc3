"""The Celery application: configuration comes from Django's settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cnas.settings")

app = Celery("cnas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
