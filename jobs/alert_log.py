"""The last alerts said, from health passes and the event watcher alike, kept for the App
Home overview."""

from __future__ import annotations

import time

import redis

RECENT_ALERTS = "dockhand:alerts:recent"


def remember_alerts(store: object, lines: list[str]) -> None:
    """Keep `lines` as the newest of the last twenty alerts."""
    assert isinstance(store, redis.Redis)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    pipe = store.pipeline()
    for line in lines:
        pipe.lpush(RECENT_ALERTS, f"{stamp} {line}")
    pipe.ltrim(RECENT_ALERTS, 0, 19)
    pipe.execute()
