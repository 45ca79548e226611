"""Live progress in Slack: one message edited in place, never more than once a second."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.budget import RateBudget
from bot.text import clip
from handlers.progress import ProgressReport
from handlers.units import human_size

log = logging.getLogger("dockhand.progress")
BAR_WIDTH = 12


def progress_text(report: ProgressReport) -> str:
    """One progress line for chat.update: the action and the engine's message are the
    engine's (and the registry's) words, escaped like every other foreign text."""
    parts = [f":hourglass_flowing_sand: {clip(report.action, 600)}"]
    fraction = report.fraction
    if fraction is not None:
        # A registry may report more bytes than its total: the bar stays a bar (an
        # unclamped fraction made a string as long as the byte count).
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * BAR_WIDTH)
        parts.append(f"`{'▰' * filled}{'▱' * (BAR_WIDTH - filled)}` {fraction:.0%}")
        parts.append(f"{human_size(report.current, 3)} / {human_size(report.total, 3)}")
    if report.layers:
        parts.append(f"layers {report.layers_done}/{report.layers}")
    elif report.message:
        parts.append(clip(report.message, 200))
    return " · ".join(parts)


class EditBudget(RateBudget):
    """chat.update is a Tier 3 method (about 50 calls a minute for the workspace): every
    progress message of the process draws on one bucket, so three pulls at once cannot
    edit three times a second. A progress edit without a token is skipped (the next report
    carries the newer state); a final edit waits for its token (bot/budget.py) and so is
    always delivered without going over the budget."""

    def __init__(
        self,
        per_minute: float = 45,
        burst: float = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(per_minute, burst, clock)
        # Progress messages heard from lately: the budget is shared out among them evenly.
        self._heard: dict[int, float] = {}

    def spacing(self, who: int) -> float:
        """Seconds between `who`'s edits so that all recent askers fit the rate together."""
        with self._lock:
            now = self.clock()
            self._heard[who] = now
            for other, at in list(self._heard.items()):
                if now - at > 5:
                    del self._heard[other]
            return len(self._heard) / self.rate


class Calls(Protocol):
    """bot/delivery.py's SlackCalls, as far as progress needs it."""

    def call(self, method: str, **arguments: Any) -> Any: ...


class MessageProgress:
    """A Progress callback that edits one Slack message, throttled to `interval` seconds
    and to the workspace's shared `budget`."""

    def __init__(
        self,
        client: Calls,
        channel: str,
        ts: str,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        budget: EditBudget | None = None,
    ) -> None:
        self.budget = budget
        self.client = client
        self.channel = channel
        self.ts = ts
        self.interval = interval
        self.clock = clock
        self.edits = 0
        self._last = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, report: ProgressReport) -> None:
        with self._lock:
            now = self.clock()
            interval = self.interval
            if self.budget is not None:
                interval = max(interval, self.budget.spacing(id(self)))
            if now - self._last < interval:
                return
            # A refused try waits its turn too: no message grabs every token as it refills.
            self._last = now
            if self.budget is not None and not self.budget.take():
                return
        outcome = self.client.call(
            "chat.update", channel=self.channel, ts=self.ts, text=progress_text(report)
        )
        with self._lock:
            # Counted from the edit's end: the next (the final one included) starts a full
            # interval after Slack had this one, however slow the call was.
            self._last = self.clock()
        if outcome.ok:
            self.edits += 1
        else:  # the next report carries newer news; the final edit goes through the outbox
            log.warning("progress edit failed: %s", outcome.error)

    def wait_turn(self) -> None:
        """Before the final edit: keep to the one-edit-a-second rhythm."""
        with self._lock:
            left = self.interval - (self.clock() - self._last)
        if left > 0:
            time.sleep(left)
