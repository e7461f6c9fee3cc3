"""Faults made real: a broker that refuses or never answers, a worker process killed with SIGKILL,
rows locked by another PostgreSQL session."""

import socket
import threading

import psycopg
import pytest
from django.db import connection

from cnas import outbox
from cnas.celery import app


def _point_at(url: str) -> None:
    app.conf.broker_url = url
    app._pool = None  # the producer pool holds connections to the old address
    app.amqp._producer_pool = None


class SilentServer:
    """A TCP port that accepts connections and never answers (a Redis that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.closed.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self):
        self.closed.set()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there: connections are refused
    return port


@pytest.fixture(params=["refused", "silent"])
def redis_down(request, settings):
    """Redis, as broker and as cache, unreachable: connections refused, or accepted and never
    answered. Yields a function that brings it back."""
    silent = SilentServer() if request.param == "silent" else None
    dead = f"redis://127.0.0.1:{silent.port if silent else _closed_port()}/0"
    real_broker, real_cache = app.conf.broker_url, settings.CACHES
    app.conf.task_always_eager = False
    _point_at(dead)
    settings.CACHES = {"default": {**real_cache["default"], "LOCATION": dead}}
    outbox.breaker.reset()

    def back():
        _point_at(real_broker)
        settings.CACHES = real_cache
        outbox.breaker.reset()

    back.mode = request.param
    yield back
    back()
    app.conf.task_always_eager = True
    if silent:
        silent.close()


class OtherSession:
    """Another PostgreSQL session (another web process, another worker), in a transaction held
    until released."""

    def __init__(self):
        self.conn = psycopg.connect(dbname=connection.settings_dict["NAME"], host="127.0.0.1",
                                    user=connection.settings_dict["USER"] or "postgres",
                                    port=connection.settings_dict["PORT"] or 5432)

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def release(self):
        self.conn.rollback()
        # its session-level locks now: a closed connection's are freed when its server process has
        # ended, a moment later (what the next line of a test must not race with)
        self.conn.execute("SELECT pg_advisory_unlock_all()")
        self.conn.close()


class RowLock(OtherSession):
    """``SELECT … FOR UPDATE`` on one row from another session, held until released."""

    def __init__(self, table: str, pk: int):
        super().__init__()
        self.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [pk])
