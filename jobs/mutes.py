"""Muted alerts: `mute NAME 1h` or `mute label=team=web 1h` quiets a container's alerts on
one host for a while. One Redis key per mute, expiring with it; health passes and the event
watcher both ask `is_muted` before they speak."""

from __future__ import annotations

from typing import Any

import redis

MUTE = "dockhand:mute:{}:{}"


def mute(store: redis.Redis, host: str, target: str, seconds: int) -> None:
    """Quiet alerts about `target` (a name, `label=K=V` or `label=K`) on `host`."""
    store.set(MUTE.format(host, target), "1", ex=seconds)


def is_muted(store: Any, host: str, name: str, labels: dict[str, str]) -> bool:
    """Muted by name (`mute web 1h`) or by label (`mute label=team=web 1h`, `label=team`)."""
    keys = [MUTE.format(host, name)]
    for key, value in labels.items():
        keys += [MUTE.format(host, f"label={key}={value}"), MUTE.format(host, f"label={key}")]
    return bool(store.exists(*keys))
