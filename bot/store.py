"""The shared store: Redis when REDIS_URL is set, otherwise an in-process stand-in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

import redis

#: `serve` without REDIS_URL runs its store in a process of its own (bot/embedded_store.py)
#: that the front and the worker reach on loopback; this says how this process reaches it.
embedded: Callable[[], redis.Redis] | None = None


def connect(url: str | None) -> redis.Redis:
    """A Redis client. Without a URL, fakeredis keeps `do` and `console` free of servers."""
    if url is None:
        if embedded is not None:
            return embedded()
        client: redis.Redis = fakeredis().FakeRedis()
        return client
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def fakeredis() -> ModuleType:
    """fakeredis, imported when first used and without numpy: only its vector-set commands
    need numpy (Dockhand sends none), and numpy's import alone would cost `dockhand do` about
    60 ms. A None in sys.modules makes fakeredis's optional `import numpy` fail as if numpy
    were absent; the entry goes again at once, so anything else still imports numpy."""
    if "fakeredis" in sys.modules or "numpy" in sys.modules:
        import fakeredis as module

        return module
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import fakeredis as module
    finally:
        del sys.modules["numpy"]
    return module
