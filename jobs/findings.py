"""One finding per container, condition and episode, whoever sees it first: the event
watcher, the reconcile after a gap, or a scheduled health pass.

A death's episode is its FinishedAt, the same from every side. Ill health and a restart loop
are spells: claimed once with no episode, and released when the spell ends (the container is
healthy again, the loop is over), so the next spell is news. Claims live in Redis (SET NX,
shared by every replica) and always in this process too, so a Redis outage neither repeats
a finding nor loses one: the process's own window answers meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

log = logging.getLogger("dockhand.findings")
KEY = "dockhand:finding:{host}:{container}:{condition}:{episode}"
#: a death is remembered this long (a gap longer than this is reported from scratch)
EPISODE_TTL = 7 * 86400
#: a spell not ended by anyone (the container removed while unhealthy) is news again after
SPELL_TTL = 6 * 3600
#: claims the process keeps for itself at most (oldest dropped first)
LOCAL_LIMIT = 10_000

_local: dict[str, float] = {}
_local_lock = threading.Lock()


def _key(host: str, container: str, condition: str, episode: str) -> str:
    return KEY.format(host=host, container=container, condition=condition, episode=episode)


def claim(store: redis.Redis, host: str, container: str, condition: str, episode: str) -> bool:
    """True for the first to claim this finding (it says it); False for everyone after."""
    key = _key(host, container, condition, episode)
    ttl = EPISODE_TTL if episode else SPELL_TTL
    now = time.monotonic()
    with _local_lock:
        expires = _local.get(key)
        if expires is not None and expires > now:
            return False
        _local[key] = now + ttl
        if len(_local) > LOCAL_LIMIT:
            for old in sorted(_local, key=_local.__getitem__)[: len(_local) - LOCAL_LIMIT]:
                del _local[old]
    try:
        return bool(store.set(key, 1, nx=True, ex=ttl))
    except redis.RedisError as exc:
        log.warning("findings: Redis unreachable (%s); this process's claims decide", exc)
        return True


def open_spell(store: redis.Redis, host: str, container: str, condition: str) -> bool:
    """Is a spell (a crash loop, ill health) of this container claimed and not yet over?"""
    key = _key(host, container, condition, "")
    with _local_lock:
        if _local.get(key, 0.0) > time.monotonic():
            return True
    try:
        return bool(store.exists(key))
    except redis.RedisError:
        return False


def release(store: redis.Redis, host: str, container: str, condition: str) -> None:
    """A spell is over (healthy again, a loop ended): the next one is news."""
    key = _key(host, container, condition, "")
    with _local_lock:
        _local.pop(key, None)
    try:
        store.delete(key)
    except redis.RedisError as exc:
        log.warning("findings: could not release %s (%s)", key, exc)


def forget_local() -> None:
    """Tests: a fresh process's memory."""
    with _local_lock:
        _local.clear()
