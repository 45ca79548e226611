"""Rate budgets kept under Slack's limits (bot/slack_limits.py): token buckets shared by every
message of the process, so edits and posts from many commands at once stay within them.

`RateBudget` is one bucket. Progress edits `take()` a token or are skipped (the next report
carries newer news); messages that must arrive (a final edit, a result) `wait_for()` their
token instead: they are never dropped and never borrow beyond the budget, and while one
waits, progress edits step aside so it is next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateBudget:
    def __init__(
        self,
        per_minute: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60
        self.burst = burst
        self.clock = clock
        self._tokens = burst
        self._at = clock()
        self._lock = threading.Lock()
        self._owed = 0  # messages that must go, waiting for a token
        self._reserved_until = float("-inf")  # the next token is promised to one of them
        #: tokens spent, for tests and /metrics-minded callers
        self.spent = 0

    def _refill(self) -> float:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return now

    def take(self) -> bool:
        """A token for something that may be skipped (a progress edit), if one is free and
        nothing that must go is waiting."""
        with self._lock:
            now = self._refill()
            if self._tokens >= 1 and self._owed == 0 and now >= self._reserved_until:
                self._tokens -= 1
                self.spent += 1
                return True
            return False

    def delay(self) -> float:
        """Seconds until a token is free: 0 means one was taken now (for a message that must
        go: the caller tries again after the delay instead of sleeping on a thread)."""
        with self._lock:
            now = self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                self.spent += 1
                return 0.0
            wait = (1 - self._tokens) / self.rate
            self._reserved_until = max(self._reserved_until, now + wait + 0.5)
            return wait

    def wait_for(self, sleep: Callable[[float], object] = time.sleep) -> None:
        """Block until a token is ours; progress edits step aside meanwhile."""
        with self._lock:
            self._owed += 1
        try:
            while (left := self.delay()) > 0:
                sleep(min(left, 1.0))
        finally:
            with self._lock:
                self._owed -= 1


class ChannelBudgets:
    """chat.postMessage: about one message a second per channel (short bursts allowed), one
    bucket per channel, made on first use."""

    def __init__(
        self, per_minute: float = 60, burst: float = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, RateBudget] = {}
        self._lock = threading.Lock()

    def of(self, channel: str) -> RateBudget:
        with self._lock:
            bucket = self._buckets.get(channel)
            if bucket is None:
                bucket = self._buckets[channel] = RateBudget(
                    self.per_minute, self.burst, self.clock
                )
            return bucket
