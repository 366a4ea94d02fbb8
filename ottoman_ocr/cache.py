"""A Redis cache that keeps the site up when Redis is not.

The cache holds nothing that must last (allauth's rate-limit counters, mostly), so when Redis
does not answer, each web process counts in its own memory for a while (the limits stay on,
per process) and logs a warning, instead of answering every sign-in with a server error. It
tries Redis again after RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
_DOWN = (ConnectionError, TimeoutError, OSError)


class _FallbackClient(RedisCacheClient):
    """RedisCacheClient whose every call falls back to local memory while Redis is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A Redis that is down must cost a request a fraction of a second, not a hang.
        kwargs.setdefault("socket_connect_timeout", 0.5)
        kwargs.setdefault("socket_timeout", 1.0)
        super().__init__(*args, **kwargs)
        self._local = LocMemCache("redis-fallback", {})
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except _DOWN as exc:
                with self._lock:
                    if time.monotonic() >= self._down_until:
                        logger.warning(
                            "Redis cache unreachable (%s); counting in this process's memory "
                            "for %.0f s",
                            exc,
                            RETRY_SECONDS,
                        )
                    self._down_until = time.monotonic() + RETRY_SECONDS
        return getattr(self._local, name)(*args, **kwargs)

    def add(self, key: Any, value: Any, timeout: Any) -> Any:
        return self._call("add", key, value, timeout)

    def get(self, key: Any, default: Any) -> Any:
        return self._call("get", key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._call("set", key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> Any:
        return self._call("touch", key, timeout)

    def delete(self, key: Any) -> Any:
        return self._call("delete", key)

    def get_many(self, keys: Any) -> Any:
        return self._call("get_many", keys)

    def has_key(self, key: Any) -> Any:
        return self._call("has_key", key)

    def incr(self, key: Any, delta: Any) -> Any:
        return self._call("incr", key, delta)

    def set_many(self, data: Any, timeout: Any) -> None:
        self._call("set_many", data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._call("delete_many", keys)

    def clear(self) -> Any:
        return self._call("clear")


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _FallbackClient
