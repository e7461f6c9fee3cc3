"""The cache (rate limits, progress bars) in Redis, kept answering when Redis is not.

Nothing the portal must not lose lives in the cache: sessions are in the database, work to do
is in the outbox. So when Redis is unreachable, the cache falls back to a memory cache of the
process for a while (a circuit breaker: one short timeout, then 30 seconds without trying) —
rate limits still count (per process), progress bars read their figure from the database, and
no request waits or fails because of Redis."""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_AFTER = 30.0


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._fallback = LocMemCache("cnas-fallback", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_until = 0.0

    @property
    def redis_is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name, *args, **kwargs):
        if not self.redis_is_down:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except RedisError as exc:
                self._down_until = time.monotonic() + RETRY_AFTER
                log.warning("Redis unreachable (%s): the cache answers from memory for %s s", exc, RETRY_AFTER)
        return getattr(self._fallback, name)(*args, **kwargs)


def _delegate(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "decr", "set_many",
              "delete_many", "clear", "get_or_set"):
    setattr(ResilientRedisCache, _name, _delegate(_name))
