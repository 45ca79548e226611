"""The scheduler's witness job, for tests only: it touches nothing but counters, so the
leader election can be watched from outside (one run per tick, one process running them).
Scheduled by reference, "tests.tick_job:tick", as production jobs are; the bot under test
runs from the repository root, so it can load it."""

from __future__ import annotations

import os
import time

from jobs.context import current

TICK = "tests.tick_job:tick"


def tick(schedule_id: str) -> None:
    """Counts its runs in Redis, per second and per process."""
    store = current().store
    second = int(time.time())
    pipe = store.pipeline()
    pipe.incr(f"dockhand:ticks:{schedule_id}:{second}")
    pipe.expire(f"dockhand:ticks:{schedule_id}:{second}", 3600)
    pipe.hincrby(f"dockhand:ticks:{schedule_id}:by-pid", str(os.getpid()), 1)
    pipe.execute()
