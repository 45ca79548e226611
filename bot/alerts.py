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

import redis
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
#: the longest wait between two attempts to reach the engine, Redis or Slack
RETRY_CAP = 5.0
#: how long an alert Slack will not take is retried before it is logged as lost
SEND_PATIENCE = 300.0


class EventWatcher:
    """Two supervised components per engine: `events-HOST` follows the stream, `alerts-HOST`
    sends the batches. Either reports itself down while it cannot do its work (engine, Redis
    or Slack unreachable) and keeps retrying; an event is taken only once Redis has recorded
    it, so one that arrives while Redis is down is replayed from the engine afterwards."""

    def __init__(self, runtime: Runtime, host: str, channel: str) -> None:
        self.runtime = runtime
        self.host = host
        self.channel = channel
        self.follower = f"events-{host}"
        self.sender = f"alerts-{host}"
        self._stop = threading.Event()
        self._pending: list[Alert] = []
        self._lock = threading.Lock()
        self._first_at = 0.0
        #: the last event fully taken: a resume point when Redis has none (down, or emptied)
        self._since = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        spawn = self.runtime.supervisor.spawn
        self._threads = [
            spawn(self.follower, self._follow, self._stop.is_set),
            spawn(self.sender, self._flush_loop, self._stop.is_set),
        ]

    def stop(self) -> None:
        self._stop.set()
        self._flush()

    def _report(self, name: str, up: bool, detail: str = "ok") -> None:
        self.runtime.supervisor.report(name, up, detail)

    def _follow(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                since = self._resume_point()
                client = self.runtime.pipeline.engines.client(self.host)
                client.ping()
                self._report(self.follower, True)
                backoff = 0.5
                for event in follow(client, since):
                    self._take(event)
                    if self._stop.is_set():
                        return
            except redis.RedisError as exc:
                self.runtime.metrics.alert_failures.labels(stage="store").inc()
                log.warning("event watcher of %s: Redis unreachable (%s); retrying", self.host, exc)
                self._report(self.follower, False, f"Redis unreachable: {type(exc).__name__}")
            except (DockhandError, OSError, ValueError) as exc:
                log.info("event stream of %s broke (%s); reconnecting", self.host, exc)
                self._report(self.follower, False, f"engine unreachable: {type(exc).__name__}")
            except Exception as exc:  # requests/docker errors: the engine went away
                log.info(
                    "event stream of %s ended (%s); reconnecting", self.host, type(exc).__name__
                )
                self._report(self.follower, False, f"engine unreachable: {type(exc).__name__}")
            self._stop.wait(backoff)
            backoff = min(backoff * 2, RETRY_CAP)

    def _resume_point(self) -> int:
        """Where to follow from: the later of Redis's mark and our own, or now."""
        raw = self.runtime.store.get(SINCE.format(self.host))
        # Kept from the first connect on: an event that arrives while Redis is down is
        # replayed from here, even if Redis comes back empty.
        self._since = max(int(raw) if raw else 0, self._since) or time.time_ns()
        return self._since

    def _take(self, event: dict[str, object]) -> None:
        time_nano = int(str(event.get("timeNano") or 0))
        store = self.runtime.store
        alert = alert_of(event)
        # The mark moves only once the event is taken: if Redis fails half way, the engine
        # replays this event when we reconnect. The SET NX (last of the Redis calls before
        # the alert is queued) keeps a replay to one alert.
        if alert is not None and not self._muted(alert) and self._fresh(alert):
            with self._lock:
                if not self._pending:
                    self._first_at = time.monotonic()
                self._pending.append(alert)
        if time_nano:
            store.set(SINCE.format(self.host), time_nano)
            self._since = max(self._since, time_nano)

    def _fresh(self, alert: Alert) -> bool:
        # replayed after a reconnect: already said
        return bool(self.runtime.store.set(SEEN.format(alert.key), 1, nx=True, ex=86400))

    def _muted(self, alert: Alert) -> bool:
        return is_muted(self.runtime.store, self.host, alert.name, alert.labels)

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
        lines = [messages.alert_line(a.action, a.name, a.exit_code) for a in batch]
        try:
            remember_alerts(self.runtime.store, lines)
        except redis.RedisError as exc:  # the App Home's list only: the alert still goes
            self.runtime.metrics.alert_failures.labels(stage="recent").inc()
            log.warning("could not keep recent alerts (%s)", exc)
        if self._send(alert_reply(self.host, batch)):
            for alert in batch:
                self.runtime.metrics.alerts.labels(kind=alert.action).inc()

    def _send(self, reply: Reply) -> bool:
        """Post, retrying for SEND_PATIENCE seconds while Slack is unreachable or refuses;
        the sender shows as down meanwhile. False when the alert was given up (logged)."""
        runtime = self.runtime
        delay = 1.0
        deadline = time.monotonic() + SEND_PATIENCE
        while True:
            try:
                if runtime.notify(self.channel, reply) is not None or runtime.notifier is None:
                    self._report(self.sender, True)
                    return True
                cause = "Slack did not take it"
            except Exception as exc:  # slack_sdk's errors, connection errors
                cause = f"{type(exc).__name__}: {exc}"
            runtime.metrics.alert_failures.labels(stage="send").inc()
            if self._stop.is_set() or time.monotonic() >= deadline:
                log.error("alert to %s not delivered (%s): %s", self.channel, cause, reply.text)
                self._report(self.sender, True, "ok")
                return False
            log.warning(
                "alert to %s not delivered (%s); retrying in %g s", self.channel, cause, delay
            )
            self._report(self.sender, False, f"alerts undelivered: {cause[:200]}")
            self._stop.wait(delay)
            delay = min(delay * 2, RETRY_CAP)


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
