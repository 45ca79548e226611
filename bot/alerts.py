"""Near-immediate alerts from each engine's event stream.

A watcher thread per host follows the stream, remembers the last event's time in Redis and
resumes from it after a reconnect (the engine restarting, say); each event is posted at most
once (a Redis SET NX on its id); a burst of events within a second goes out as one message,
so the channel stays within Slack's rate limit. Muted containers stay quiet.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot import messages
from bot.render import Reply, fallback_text
from bot.runtime import Runtime
from bot.text import clip, join, safe, trusted
from handlers.errors import DockhandError
from handlers.events import Alert, alert_of, follow
from jobs.alert_log import remember_alerts
from jobs.mutes import is_muted

log = logging.getLogger("dockhand.alerts")
SINCE = "dockhand:events:{}:since"
SEEN = "dockhand:events:seen:{}"
BATCH_SECONDS = 0.25  # events this close together go out as one message


class EventWatcher:
    def __init__(self, runtime: Runtime, host: str, channel: str) -> None:
        self.runtime = runtime
        self.host = host
        self.channel = channel
        self._stop = threading.Event()
        self._pending: list[Alert] = []
        self._lock = threading.Lock()
        self._first_at = 0.0
        self._threads = [
            threading.Thread(target=self._follow, name=f"events-{host}", daemon=True),
            threading.Thread(target=self._flush_loop, name=f"alerts-{host}", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._flush()

    def _follow(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            since_raw = self.runtime.store.get(SINCE.format(self.host))
            since = int(since_raw) if since_raw else time.time_ns()
            try:
                client = self.runtime.pipeline.engines.client(self.host)
                for event in follow(client, since):
                    backoff = 0.5
                    self._take(event)
                    if self._stop.is_set():
                        return
            except (DockhandError, OSError, ValueError) as exc:
                log.info("event stream of %s broke (%s); reconnecting", self.host, exc)
            except Exception as exc:  # requests/docker errors: the engine went away
                log.info(
                    "event stream of %s ended (%s); reconnecting", self.host, type(exc).__name__
                )
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _take(self, event: dict[str, object]) -> None:
        time_nano = int(str(event.get("timeNano") or 0))
        store = self.runtime.store
        if time_nano:
            store.set(SINCE.format(self.host), time_nano)
        alert = alert_of(event)
        if alert is None:
            return
        if not store.set(SEEN.format(alert.key), 1, nx=True, ex=86400):
            return  # replayed after a reconnect: already said
        if is_muted(store, self.host, alert.name, alert.labels):
            return
        with self._lock:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append(alert)

    def _flush_loop(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                due = self._pending and time.monotonic() - self._first_at >= BATCH_SECONDS
            if due:
                self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        for alert in batch:
            self.runtime.metrics.alerts.labels(kind=alert.action).inc()
        lines = [messages.alert_line(a.action, a.name, a.exit_code) for a in batch]
        remember_alerts(self.runtime.store, lines)

        self.runtime.notify(self.channel, alert_reply(self.host, batch))


#: alerts one message lists; a bigger burst says how many more there were
ALERT_LINES = 50


def alert_reply(host: str, batch: list[Alert]) -> Reply:
    """One message for a burst of alerts. An alert's words carry the container's name (the
    engine's text), so each line is escaped; the burst is cut with a count to stay within
    Slack's limits."""
    lines = [messages.alert_line(a.action, a.name, a.exit_code) for a in batch]
    if len(batch) == 1:
        title = safe(lines[0])
        body: list[str] = []
    else:
        title = trusted(f":rotating_light: {len(batch)} alerts on {safe(host)}")
        body = lines[:ALERT_LINES]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(title, 1_000)))]
    if body:
        shown = clip(join("\n", body), 2_900)
        if len(batch) > ALERT_LINES:
            shown = trusted(f"{shown}\n… and {len(batch) - ALERT_LINES:,} more")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=shown)))
    mute = trusted(f"{clip(host, 200)} · `/docker mute NAME 1h` to quiet one")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=mute)]))
    text = "\n".join(
        [lines[0]]
        if len(batch) == 1
        else [f":rotating_light: {len(batch)} alerts on {host}", *lines]
    )
    return Reply(
        ok=True,
        text=text,
        blocks=[b.to_dict() for b in blocks],
        ephemeral=False,
        chat_text=fallback_text(text),
    )
