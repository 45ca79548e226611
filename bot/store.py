"""The shared store: Redis when REDIS_URL is set, otherwise an in-process stand-in."""

from __future__ import annotations

import fakeredis
import redis


def connect(url: str | None) -> redis.Redis:
    """A Redis client. Without a URL, fakeredis keeps `do` and `console` free of servers."""
    if url is None:
        return fakeredis.FakeRedis()
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
