"""The scheduler lease on the store `serve` uses without REDIS_URL (fakeredis, no script
engine): the leader keeps its lease across renewals, a standby waits, and takes over when the
leader hands it back."""

from __future__ import annotations

import time

import fakeredis

from jobs.leader import KEY, LeaderLease


def test_the_lease_holds_and_hands_over_without_a_script_engine() -> None:
    store = fakeredis.FakeRedis()
    events: list[str] = []
    first = LeaderLease(
        store,
        ttl=0.6,
        on_elected=lambda: events.append("first"),
        on_demoted=lambda: events.append("first lost"),
    )
    second = LeaderLease(
        store,
        ttl=0.6,
        on_elected=lambda: events.append("second"),
        on_demoted=lambda: events.append("second lost"),
    )
    first.start()
    time.sleep(0.1)
    second.start()
    try:
        time.sleep(1.5)  # several renewals (every ttl/3)
        assert events == ["first"], events
        assert first.is_leader and not second.is_leader
        first.stop()
        assert store.get(KEY) in (None, second.token.encode())
        deadline = time.monotonic() + 2
        while not second.is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.is_leader and events == ["first", "second"], events
    finally:
        first.stop()
        second.stop()
    assert store.get(KEY) is None
