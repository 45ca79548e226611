"""The shared store: Redis when REDIS_URL is set, otherwise an in-process stand-in."""

from __future__ import annotations

import logging

import fakeredis
import redis

log = logging.getLogger("dockhand.store")


def connect(url: str | None) -> redis.Redis:
    """A Redis client. Without a URL, fakeredis keeps `do` and `console` free of servers."""
    if url is None:
        return fakeredis.FakeRedis()
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def first_sighting(store: redis.Redis, key: str, ttl: int = 3600) -> bool:
    """True the first time `key` is seen within `ttl` seconds (Slack retries resend requests).

    If the store is down we would rather run a command twice than lose it.
    """
    try:
        return bool(store.set(f"dockhand:seen:{key}", 1, nx=True, ex=ttl))
    except redis.RedisError as exc:
        log.warning("store unavailable for dedupe (%s); running the request", exc)
        return True
