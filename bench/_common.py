"""What the benchmarks share: the world's sizes on the command line, the header they print, timings
alternated with a baseline, logged-in clients that leave nothing behind, a Celery worker of their own,
and, with --check-world, the proof that a run left the world as it found it.

Every benchmark runs in the world of bench/world.py (the national one by default, built once and
reused); none builds a database of its own.
"""

import argparse
import atexit
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import world

BENCH = Path(__file__).resolve().parent

PAGES_REDIS = "redis://127.0.0.1:6379/13"  # cache of the page benchmarks (nobody else's)
WORKER_REDIS = "redis://127.0.0.1:6379/14"  # broker and results of the benchmark workers (flushed)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The benchmark's options, with the world's sizes (default: the national world)."""
    result = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for key, value in world.NATIONAL.items():
        result.add_argument(f"--{key}", type=int, default=value, help=f"the world's {key} (default {value:,})")
    result.add_argument("--check-world", action="store_true",
                        help="count the rows of every table before and after: the run must leave the world as it "
                             "found it (exact counts: a few seconds in the national world)")
    return result


def start(options, *, redis: str = PAGES_REDIS, private_files: bool = False, prepare=None):
    """Build or reuse the world of the options' sizes, set Django up in it and print what it is and the
    machine's load. ``private_files``: files the run writes (PDFs, uploads, exports) go to a temporary
    directory removed at the end, the worker's included. ``prepare``: called first (the leftovers of an
    interrupted run cleaned up before anything looks at the world). Returns the sizes and the world's
    people (made once, the first time, by bench/world.py)."""
    sizes = {key: getattr(options, key) for key in world.NATIONAL}
    info = world.ensure(sizes)
    os.environ["REDIS_URL"] = redis
    if private_files:
        directory = tempfile.mkdtemp(prefix="cnas-bench-")
        os.environ["PRIVATE_MEDIA_ROOT"] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    world.setup_django()
    if prepare:
        prepare()
    people = world.people()
    print(world.describe(sizes, info))
    print(f"  load at the start: {world.uptime()}", flush=True)
    if options.check_world:
        start.counts = table_counts()
    return sizes, people


def finish(options) -> None:
    """Log the clients out (their sessions deleted), print the load and, with --check-world, compare."""
    for client in _clients:
        client.logout()
    _clients.clear()
    print(f"  load at the end:   {world.uptime()}")
    if options.check_world:
        after = table_counts()
        changed = {t: (start.counts.get(t), n) for t, n in after.items() if start.counts.get(t) != n}
        if changed:
            print("  world NOT left as found: " + ", ".join(f"{t} {a} -> {b}" for t, (a, b) in sorted(changed.items())))
        else:
            print(f"  world left as found: the same number of rows in each of its {len(after)} tables")


def table_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


# --- Timing -------------------------------------------------------------------------------------

def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def get(client, path: str) -> float:
    """One GET in-process (server time, no network), which must answer 200; its time in ms."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = ms(started)
    assert response.status_code == 200, (path, response.status_code)
    if getattr(response, "streaming", False):  # a streamed export: its rows are written as it is read
        started = time.perf_counter()
        for _chunk in response.streaming_content:
            pass
        elapsed += ms(started)
    return elapsed


def alternate(client, path: str, baseline: str, repeat: int) -> tuple[list, list]:
    """``path`` and the baseline with the same client one after the other (measured, baseline, measured,
    baseline…), ``repeat`` times each after a warm-up of both: their timings in ms."""
    return rotate([(client, path), (client, baseline)], repeat)


def rotate(requests: list[tuple], repeat: int) -> list[list[float]]:
    """Each (client, path) in turn, ``repeat`` rounds after a warm-up round: the timings of each in ms."""
    for client, path in requests:
        get(client, path)
    timings = [[] for _ in requests]
    for _ in range(repeat):
        for (client, path), into in zip(requests, timings, strict=True):
            into.append(get(client, path))
    return timings


def queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get(client, path)
    return len(captured.captured_queries)


_clients: list = []


def client_for(user):
    """Django's test client logged in as ``user`` without writing his last login (a tracked change); its
    session is deleted by ``finish``."""
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    try:
        client.force_login(user)
    finally:
        user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")
    _clients.append(client)
    return client


# --- Writing in the world, and cleaning up ------------------------------------------------------

def sql(statement: str, params=None) -> int:
    """Run one statement; returns the rows it touched."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@contextlib.contextmanager
def deleting():
    """A transaction for deleting the run's rows, its foreign keys checked at each statement: they are
    deferred to the commit in the portal, and PostgreSQL then deletes tens of thousands of referenced rows
    far slower (20,000 agents: 23.6 s against 3.0 s here)."""
    from django.db import transaction

    with transaction.atomic():
        sql("SET CONSTRAINTS ALL IMMEDIATE")
        yield


def forget_history(table: str, ids: list[int]) -> None:
    """Deleting tracked rows leaves their « suppression » event in the history table: removed too (the
    rows were the benchmark's own)."""
    if ids:
        sql(f"DELETE FROM {table}history WHERE pgh_obj_id = ANY(%s)", [list(ids)])


def forget_audit(model_label: str, ids: list[int]) -> None:
    """The audit entries about these objects of the benchmark's own."""
    if ids:
        sql("""DELETE FROM cnas_auditentry WHERE content_type_id = (
                   SELECT id FROM django_content_type WHERE app_label = %s AND model = %s)
               AND object_id = ANY(%s)""", [*model_label.split("."), [str(pk) for pk in ids]])


# --- A Celery worker of the benchmark's own -----------------------------------------------------

@contextlib.contextmanager
def outbox_cleaned():
    """Every outbox item created inside the block (the run's own work: its imports' checks and
    applications…) is deleted at its end."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(max(id), 0) FROM cnas_outboxitem")
        before = cursor.fetchone()[0]
    try:
        yield before
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cnas_outboxitem WHERE id > %s", [before])


class Worker:
    """A real ``celery worker`` in a process of its own, on the benchmark's broker, in the world's database,
    with the portal's tasks but not the sweeps a worker runs at its start (bench/_worker.py); started and
    stopped by ``with``, ready when it answers a ping."""

    def __init__(self, *, concurrency: int = 1, pool: str = "prefork", queues: str = "celery"):
        self.concurrency, self.pool, self.queues = concurrency, pool, queues
        self.name = f"bench-{pool}{concurrency}-{queues}-{os.getpid()}@{socket.gethostname()}"

    def __enter__(self) -> "Worker":
        from cnas.celery import app

        command = [str(world.ROOT / ".venv/bin/celery"), "-A", "_worker", "worker", f"--pool={self.pool}",
                   f"--concurrency={self.concurrency}", "-Q", self.queues, "-n", self.name, "--loglevel=WARNING",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")]))}
        self.log = tempfile.TemporaryFile(mode="w+")  # its warnings and errors, shown if it fails
        self.process = subprocess.Popen(command, cwd=world.ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.log, start_new_session=True, preexec_fn=_end_with_parent)
        started = time.monotonic()
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() - started > 120:
                self.__exit__(None, None, None)
                raise SystemExit(f"the worker {self.name} did not start (its errors above)")
        self.start_seconds = time.monotonic() - started
        return self

    def errors(self) -> str:
        """What the worker wrote on its standard error, but the warning about running as root."""
        self.log.seek(0)
        lines = [line for line in self.log.read().splitlines() if line.strip()]
        if any("superuser privileges" in line for line in lines):
            lines = [line for line in lines if not any(word in line for word in (
                "SecurityWarning", "absolutely not recommended", "--uid", "User information", "_warn_or_raise"))]
        return "\n".join(lines[-40:])

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        errors = self.errors()
        if errors:
            print(f"  the worker {self.name} wrote:\n" + "\n".join("    " + line for line in errors.splitlines()))
        self.log.close()


def _end_with_parent() -> None:
    """In the worker's process, before it runs: SIGTERM to it if the benchmark dies (Linux), so that a
    benchmark killed leaves no worker behind in the world."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(WORKER_REDIS).flushdb()
