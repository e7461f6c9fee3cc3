"""`make pytest` runs the suite in two processes (pytest-xdist): each has its own Redis database
(broker, results, cache) and its own folder of private files (tests/conftest.py)."""

import os
from pathlib import Path

import redis
from django.core.cache import cache

from cnas.celery import app
from tests.conftest import worker_environment


def test_each_worker_gets_the_next_redis_database_and_a_folder_of_its_own():
    assert worker_environment("gw0", "redis://127.0.0.1:6379/10", Path("/tmp/private")) == {
        "REDIS_URL": "redis://127.0.0.1:6379/10", "PRIVATE_MEDIA_ROOT": "/tmp/private-gw0"}
    assert worker_environment("gw1", "redis://127.0.0.1:6379/10", Path("/tmp/private")) == {
        "REDIS_URL": "redis://127.0.0.1:6379/11", "PRIVATE_MEDIA_ROOT": "/tmp/private-gw1"}
    assert worker_environment("gw2", "redis://:secret@redis:6379", "/p")["REDIS_URL"] == "redis://:secret@redis:6379/2"


def test_broker_results_and_cache_of_this_process_are_in_its_own_database(settings):
    assert os.environ["REDIS_URL"] == settings.REDIS_URL  # what a `celery worker` process started here reads
    assert app.conf.broker_url == app.conf.result_backend == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    database = int(settings.REDIS_URL.rsplit("/", 1)[1])
    with app.connection_for_write() as broker:
        assert broker.default_channel.client.connection_pool.connection_kwargs["db"] == database
    cache.set("parallel-probe", 1)
    assert redis.Redis.from_url(settings.REDIS_URL).exists("cnas:1:parallel-probe")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert Path(os.environ["PRIVATE_MEDIA_ROOT"]) == settings.PRIVATE_MEDIA_ROOT
        assert settings.PRIVATE_MEDIA_ROOT.name.endswith(f"-{worker}")
