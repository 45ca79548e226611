"""Near-immediate alerts from each engine's event stream.

A watcher thread per host follows the stream, remembers the last event's time in Redis and
resumes from it after a reconnect (the engine restarting, say). The engine keeps no events
across its own restart, so each (re)connect first compares the containers with the last
known state (handlers/reconcile.py) and alerts the deaths of the gap. Each finding is said
once per container, condition and episode, whoever sees it first: a replayed event, the
reconcile or a health pass (jobs/findings.py). A burst of events within a second goes out
as one message, so the channel stays within Slack's rate limit; a crash loop is one message,
edited as deaths add up, and one recovery message once the container stays up. Muted
containers stay quiet.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import docker
import docker.errors
import redis
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot import messages
from bot.outbox import message_key
from bot.render import Reply, fallback_text
from bot.runtime import Runtime
from bot.text import clip, join, safe, trusted
from handlers.errors import DockhandError
from handlers.events import Alert, alert_of, follow, with_details
from handlers.reconcile import Snapshot, epoch, reconcile
from jobs import findings
from jobs.alert_log import remember_alerts
from jobs.mutes import is_muted

log = logging.getLogger("dockhand.alerts")
SINCE = "dockhand:events:{}:since"
#: the engine's containers as last seen (handlers/reconcile.py's Snapshot), for after a gap
LAST_KNOWN = "dockhand:events:{}:containers"
#: a death this soon after the container's previous one continues a crash loop (the
#: engine's restart backoff doubles up to a minute)
LOOP_WINDOW = 90.0
#: restart policies under which a death is followed by a restart
RESTARTING_POLICIES = frozenset({"always", "unless-stopped", "on-failure"})
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
        #: the last known state when Redis has none (down, or emptied)
        self._snapshot: Snapshot | None = None
        #: containers that died lately under a restart policy, by ID: a crash loop's record
        self._loops: dict[str, Loop] = {}
        #: a loop ends once its container stays up this long
        self.quiet = runtime.settings.restart_loop_seconds
        #: the ts of the last message sent
        self._said: str | None = None

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
                self._reconcile(client)
                self._report(self.follower, True)
                backoff = 0.5
                for event in follow(client, since):
                    self._take(client, event)
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

    def _reconcile(self, client: docker.DockerClient) -> None:
        """After a gap (the first connect of this process included): what died while
        nobody watched, from one listing and an inspect of each container that changed."""
        previous = self._load_snapshot()
        found, snapshot, requests = reconcile(client, previous, time.time())
        log.info(
            "reconcile of %s: %d container(s), %d finding(s), %d request(s)%s",
            self.host,
            len(snapshot.containers),
            len(found),
            requests,
            "" if previous is not None else " (first sight: the baseline)",
        )
        for alert in found:
            if not self._muted(alert) and self._fresh(alert):
                self._queue(alert)
        self._snapshot = snapshot
        try:
            self.runtime.store.set(LAST_KNOWN.format(self.host), snapshot.model_dump_json())
        except redis.RedisError as exc:  # kept in memory meanwhile
            log.warning("could not keep the containers of %s (%s)", self.host, exc)

    def _load_snapshot(self) -> Snapshot | None:
        try:
            raw = self.runtime.store.get(LAST_KNOWN.format(self.host))
        except redis.RedisError:
            raw = None
        kept = Snapshot.model_validate_json(raw) if raw else None
        if kept is None or (self._snapshot is not None and self._snapshot.taken > kept.taken):
            return self._snapshot
        return kept

    def _take(self, client: docker.DockerClient, event: dict[str, object]) -> None:
        time_nano = int(str(event.get("timeNano") or 0))
        store = self.runtime.store
        alert = alert_of(event)
        if alert is not None and alert.action in {"die", "healthy"}:
            # A death or a good check ends a spell of ill health: the next one is news.
            findings.release(store, self.host, alert.container, "unhealthy")
        if alert is not None and alert.action in {"die", "oom"}:
            alert = with_details(client, alert)  # its FinishedAt: the death's episode
        # The mark moves only once the event is taken: if Redis fails half way, the engine
        # replays this event when we reconnect. The claim (last of the Redis calls before
        # the alert is queued) keeps a replay to one alert.
        if (
            alert is not None
            and alert.action != "healthy"
            and not self._muted(alert)
            and self._fresh(alert)
            and not self._in_loop(alert)
        ):
            self._queue(alert)
        if time_nano:
            store.set(SINCE.format(self.host), time_nano)
            self._since = max(self._since, time_nano)

    def _queue(self, alert: Alert) -> None:
        with self._lock:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append(alert)

    def _fresh(self, alert: Alert) -> bool:
        """First to say this finding (not replayed, not said by the reconcile or a pass)."""
        return findings.claim(
            self.runtime.store, self.host, alert.container, alert.condition, alert.occurrence
        )

    def _in_loop(self, alert: Alert) -> bool:
        """A death that continues a crash loop: counted in the loop's one message instead
        of an alert of its own. The first death is alerted as usual."""
        if alert.condition != "exit" or alert.policy not in RESTARTING_POLICIES:
            return False
        now = time.time()
        with self._lock:
            loop = self._loops.get(alert.container)
            if loop is None or now - loop.last > LOOP_WINDOW:
                self._loops[alert.container] = Loop(alert.container, alert.name, now, now)
                self._loops[alert.container].exit_code = alert.exit_code
                return False
            loop.deaths += 1
            loop.last, loop.exit_code, loop.dirty = now, alert.exit_code, True
        return True

    def _muted(self, alert: Alert) -> bool:
        return is_muted(self.runtime.store, self.host, alert.name, alert.labels)

    def _flush_loop(self) -> None:
        tended = 0.0
        while not self._stop.wait(0.1):
            with self._lock:
                due = self._pending and time.monotonic() - self._first_at >= BATCH_SECONDS
            if due:
                self._flush()
            if time.monotonic() - tended >= 0.5:
                tended = time.monotonic()
                self._tend_loops()

    def _first_deaths_said(self, batch: list[Alert], ts: str | None) -> None:
        """The first death of a possible crash loop is out (the loop's message waits for
        it); said in a message of its own (`ts`), that message becomes the loop's."""
        with self._lock:
            for alert in batch:
                loop = self._loops.get(alert.container)
                if loop is not None and not loop.first_said:
                    loop.first_said, loop.first_ts = True, ts

    def _tend_loops(self) -> None:
        """Crash loops: post the loop's message at its second death, edit it as deaths add
        up (at most once a second), and end it once the container stays up for `quiet`
        seconds (a recovery message) or stays down (a last edit)."""
        now = time.time()
        with self._lock:
            loops = list(self._loops.values())
        for loop in loops:
            if loop.deaths >= 2 and loop.ts is None and loop.first_said:
                if not findings.claim(self.runtime.store, self.host, loop.container, "loop", ""):
                    loop.ts = ""  # a health pass said it first: no message of ours to edit
                    continue
                self.runtime.metrics.alerts.labels(kind="restart-loop").inc()
                if loop.first_ts:  # the first death's own message becomes the loop's
                    loop.ts = loop.first_ts
                    self.runtime.notify(self.channel, loop_reply(loop), edit_ts=loop.ts)
                else:
                    loop.ts = self.runtime.notify(self.channel, loop_reply(loop)) or ""
                loop.dirty, loop.edited = False, now
            elif loop.dirty and loop.ts and now - loop.edited >= 1.0:
                loop.dirty, loop.edited = False, now
                self.runtime.notify(self.channel, loop_reply(loop), edit_ts=loop.ts)
            if now - loop.last >= self.quiet and now - loop.checked >= 1.0:
                loop.checked = now
                self._end_loop(loop, now)

    def _end_loop(self, loop: Loop, now: float) -> None:
        try:
            client = self.runtime.pipeline.engines.client(self.host)
            state = client.api.inspect_container(loop.container).get("State") or {}
        except docker.errors.NotFound:
            state = {"Status": "removed"}
        except Exception as exc:  # the engine is away: look again later
            log.debug("loop of %s: cannot look (%s)", loop.name, type(exc).__name__)
            return
        up = now - epoch(str(state.get("StartedAt") or ""))
        if state.get("Restarting") or (state.get("Running") and up < self.quiet):
            return  # between two deaths, or not up long enough yet
        with self._lock:
            self._loops.pop(loop.container, None)
        if loop.deaths < 2:
            return  # one death, said as such: no loop
        over = "recovered" if state.get("Running") else "stopped"
        if loop.ts:
            self.runtime.notify(self.channel, loop_reply(loop, over), edit_ts=loop.ts)
        if over == "recovered":
            self._send(line_reply(messages.loop_recovered(loop.name, loop.deaths, int(up))))
        findings.release(self.runtime.store, self.host, loop.container, "loop")

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        lines = [messages.alert_text(a) for a in batch]
        try:
            remember_alerts(self.runtime.store, lines)
        except redis.RedisError as exc:  # the App Home's list only: the alert still goes
            self.runtime.metrics.alert_failures.labels(stage="recent").inc()
            log.warning("could not keep recent alerts (%s)", exc)
        # One key per burst: handed to the outbox again after a hiccup, it is still one post.
        key = message_key("alert", self.host, *(a.key for a in batch))
        self._said = None
        if self._send(alert_reply(self.host, batch), key):
            for alert in batch:
                self.runtime.metrics.alerts.labels(kind=alert.action).inc()
        self._first_deaths_said(batch, self._said if len(batch) == 1 else None)

    def _send(self, reply: Reply, key: str | None = None) -> bool:
        """Post, retrying for SEND_PATIENCE seconds while Slack is unreachable or refuses;
        the sender shows as down meanwhile. False when the alert was given up (logged)."""
        runtime = self.runtime
        delay = 1.0
        deadline = time.monotonic() + SEND_PATIENCE
        while True:
            try:
                # Handed to the outbox, it is delivered (retried for minutes) or its loss is
                # logged and counted there: the key keeps a second hand-over to one post.
                said = runtime.notify(self.channel, reply, None, key)
                self._said = said or None  # a crash loop's first death: edited as it goes on
                if said is not None or runtime.notifier is None or key is not None:
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
    lines = [messages.alert_text(a) for a in batch]
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


@dataclass
class Loop:
    """A container dying again and again under its restart policy: one message (`ts`)."""

    container: str
    name: str
    first: float
    last: float
    deaths: int = 1
    exit_code: int = 0
    #: the loop's message; "" when another part said it (no message of ours to edit)
    ts: str | None = None
    #: the first death was said; in a message of its own (`first_ts`), which becomes the loop's
    first_said: bool = False
    first_ts: str | None = None
    dirty: bool = False
    edited: float = 0.0
    checked: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)


def loop_reply(loop: Loop, over: str = "") -> Reply:
    """The crash loop's one message, as it stands."""
    seconds = int(loop.last - loop.first)
    return line_reply(messages.restart_loop(loop.name, loop.deaths, loop.exit_code, seconds, over))


def line_reply(text: str) -> Reply:
    """One line in the channel; the container's name in it is the engine's text: escaped."""
    shown = safe(text)
    blocks = [SectionBlock(text=MarkdownTextObject(text=clip(shown, 1_000))).to_dict()]
    return Reply(ok=True, text=text, blocks=blocks, ephemeral=False, chat_text=fallback_text(text))
