"""The Celery application of the benchmark workers (``celery -A _worker worker``, bench/ on the path):
the portal's own application and tasks, without the sweeps a worker runs when it starts — the outbox's
relay, the unfinished campaigns and imports, and the decisions without their letters. In the world
those would put the world's own pending work on its way (a letter for each of the millions of generated
decisions, one outbox item at a time), changing the world and loading the machine while the benchmark
measures; the benchmark sends its tasks itself."""

import os

import django
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cnas.settings")
django.setup()

from adhesions import tasks as adhesions_tasks  # noqa: E402 - the receivers exist once the apps are ready
from cnas import tasks as cnas_tasks  # noqa: E402
from cnas.celery import app  # noqa: E402
from prestations import tasks as prestations_tasks  # noqa: E402

for receiver in (cnas_tasks._relay_after_start, adhesions_tasks._resume_after_start,
                 prestations_tasks._letters_after_start):
    assert worker_ready.disconnect(receiver), receiver

__all__ = ("app",)
