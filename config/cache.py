"""Django's Redis cache, made to fail soft: Redis down never stops a page.

Everything this project keeps in the cache can be recomputed or skipped
(availability answers, allauth's login counters), so while Redis does not
answer, reads miss, writes are dropped and a warning is logged (once a
minute per process, not per call). incr() is the exception: it raises
CacheUnavailable, so each rate limiter decides for itself whether to fail
open (most throttles) or closed (offer-code validation, config.throttling).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


class CacheUnavailable(Exception):
    """The shared cache did not answer."""


def _warn(op: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        log.warning("Redis cache unavailable (%s: %s); carrying on without it", op, exc)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis.Redis per connection pool instead of building one per call.

    redis-py's constructor sets up its tables on every call: about 0.1 ms of each cache read or
    write, several a page (the day view's version, its cached body). A redis.Redis is safe to share
    between threads (its pool hands each command a connection) and its pool reconnects after a fork.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except DOWN as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except DOWN as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except DOWN as exc:
            _warn("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except DOWN as exc:
            _warn("add", exc)
            return True  # as if stored: callers that lock with add() (allauth's rate limits) go ahead

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except DOWN as exc:
            _warn("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except DOWN as exc:
            _warn("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except DOWN as exc:
            _warn("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except DOWN as exc:
            _warn("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except DOWN as exc:
            _warn("delete_many", exc)

    def get_or_set(self, key, default, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().get_or_set(key, default, timeout, version)
        except DOWN as exc:
            _warn("get_or_set", exc)
            return default() if callable(default) else default

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except DOWN as exc:
            _warn("incr", exc)
            raise CacheUnavailable(str(exc)) from exc
