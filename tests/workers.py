"""Real Celery worker processes for the tests that kill them, and a patient wait."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def wait(condition, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_worker(**env_extra) -> subprocess.Popen:
    """A real `celery worker` process on this test's database and the real Redis broker."""
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
           "REDIS_URL": settings.REDIS_URL, "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT), **env_extra}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "cnas", "worker", "--pool=solo",
                             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.environ.get("WORKER_LOG", os.devnull), "a"))


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def at_the_same_moment(call, arguments: list) -> tuple[list, list[Exception]]:
    """``call(argument)`` for each argument, each in its own thread (its own database connection),
    all released at once; returns (the results, the exceptions), each in the order they came."""
    import threading

    from django.db import connection as thread_connection

    barrier = threading.Barrier(len(arguments))
    results, errors = [], []

    def run(argument):
        try:
            barrier.wait(timeout=10)
            results.append(call(argument))
        except Exception as exc:  # reported to the caller
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
