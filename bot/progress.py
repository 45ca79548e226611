"""Live progress in Slack: one message edited in place, never more than once a second."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.text import clip, safe
from handlers.progress import ProgressReport
from handlers.units import human_size

log = logging.getLogger("dockhand.progress")
BAR_WIDTH = 12


def progress_text(report: ProgressReport) -> str:
    """One progress line for chat.update: the action and the engine's message are the
    engine's (and the registry's) words, escaped like every other foreign text."""
    parts = [f":hourglass_flowing_sand: {safe(report.action)}"]
    fraction = report.fraction
    if fraction is not None:
        filled = round(fraction * BAR_WIDTH)
        parts.append(f"`{'▰' * filled}{'▱' * (BAR_WIDTH - filled)}` {fraction:.0%}")
        parts.append(f"{human_size(report.current, 3)} / {human_size(report.total, 3)}")
    if report.layers:
        parts.append(f"layers {report.layers_done}/{report.layers}")
    elif report.message:
        parts.append(clip(report.message, 200))
    return " · ".join(parts)


class MessageProgress:
    """A Progress callback that edits one Slack message, throttled to `interval` seconds."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
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
            if now - self._last < self.interval:
                return
            self._last = now
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=progress_text(report))
            self.edits += 1
        except SlackApiError as exc:
            log.warning("progress edit failed: %s", exc.response.get("error"))

    def wait_turn(self) -> None:
        """Before the final edit: keep to the one-edit-a-second rhythm."""
        with self._lock:
            left = self.interval - (self.clock() - self._last)
        if left > 0:
            time.sleep(left)
