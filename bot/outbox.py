"""The outbox: everything Slack must get (results, final progress edits, alerts, job notices,
audit mirrors) is written down first and then delivered, each exactly once.

Written to a Redis stream (`dockhand:outbox`, read through a consumer group so replicas share
the work) while Redis is up, to a bounded local spool (bot/spool.py) while it is not. One
sender thread (the supervised component `outbox`) delivers them through bot/delivery.py:

- retried for `deadline` seconds (DOCKHAND_DELIVERY_DEADLINE, minutes by default), waiting
  what a 429's Retry-After asks (and holding back the same channel's later messages, which
  keeps their order), backing off on 5xx and refused connections;
- within the rate budgets (bot/budget.py): chat.postMessage about once a second per channel,
  chat.update within the workspace's Tier 3 budget, shared with progress edits;
- exactly once: Slack has no idempotency key, so each message carries ours; the key's state
  (queued, then the ts Slack returned, or why it failed) is kept in Redis and in the process,
  and a key already queued or delivered is never posted again;
- what cannot be delivered (the channel refuses, or the deadline passes) goes to
  `on_failed`, which tells the requester another way (bot/slack_app.py: ephemeral, DM).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from pydantic import BaseModel, Field

from bot.budget import ChannelBudgets, RateBudget
from bot.delivery import Outcome, SlackCalls
from bot.metrics import Metrics
from bot.spool import Spool

log = logging.getLogger("dockhand.outbox")
STREAM = "dockhand:outbox"
GROUP = "senders"
STATE = "dockhand:outbox:key:"
LOCK = "dockhand:outbox:sending:"
STATE_TTL = 7 * 86400  # a key is remembered a week: far past any retry or replay
STREAM_MAXLEN = 50_000
#: a message another (dead) replica took but did not finish is taken over after this long
CLAIM_IDLE_MS = 120_000
BACKOFF_CAP = 5.0
#: what a Redis call may raise: its own errors, and a socket another part of the process
#: closed under it (APScheduler's job store disconnects the shared pool at shutdown)
STORE_ERRORS = (redis.RedisError, OSError, ValueError)


def message_key(*parts: object) -> str:
    """An idempotency key from what identifies a message (hashed: parts may hold text)."""
    encoded = json.dumps([str(p) for p in parts], ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


class Message(BaseModel):
    """One thing Slack must get. `method` is a Web API method, `response_url` (a post to
    `url`), or `dm` (conversations.open for `user`, then chat.postMessage there)."""

    key: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: str  # result, final, alert, notice, audit, note, upload
    method: str
    args: dict[str, Any] = Field(default_factory=dict)
    created: float = Field(default_factory=time.time)
    #: what the front end does once it is delivered, or about a failure (data: it outlives
    #: a restart): {"clear": response_url, "upload": {...}, "schedule": id, "requester": ...}
    after: dict[str, Any] = Field(default_factory=dict)

    @property
    def channel(self) -> str:
        return str(self.args.get("channel") or self.args.get("url") or self.args.get("user") or "")


@dataclass
class _Pending:
    message: Message
    source: str  # "stream" or "spool"
    handle: str
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""


@dataclass
class Outbox:
    calls: SlackCalls
    store: redis.Redis | None
    spool: Spool
    metrics: Metrics = field(default_factory=Metrics)
    deadline: float = 600.0
    edit_budget: RateBudget = field(default_factory=lambda: RateBudget(45, 5))
    channel_budgets: ChannelBudgets = field(default_factory=ChannelBudgets)
    #: called after a delivery (the front end clears a "running…" note, uploads, ...)
    on_delivered: Callable[[Message, Outcome], None] | None = None
    #: called when a message is given up: the requester is told another way
    on_failed: Callable[[Message, Outcome], None] | None = None
    #: housekeeping run about once a second on the sender (audit spool flush, epoch check)
    chores: list[Callable[[], None]] = field(default_factory=list)
    #: the supervisor's report(name, up, detail): down while messages wait on Slack
    report: Callable[[str, bool, str], None] | None = None
    name: str = "outbox"

    def __post_init__(self) -> None:
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._pending: dict[str, _Pending] = {}
        self._done: OrderedDict[str, Outcome] = OrderedDict()  # this process's memory
        self._unrecorded: dict[str, str] = {}  # states Redis could not take yet
        self._blocked: dict[tuple[str, str], float] = {}  # (method, channel) -> until
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._group_ready = False
        self._last_claim = 0.0
        self._last_chores = 0.0
        self._reported: tuple[bool, str] = (True, "ok")
        self._spooled_handles: set[str] = set()

    # --- writing down ----------------------------------------------------------------

    def put(self, message: Message) -> bool:
        """Write `message` down for delivery. False when its key is queued or delivered
        already (then nothing is sent again)."""
        with self._lock:
            if message.key in self._done or message.key in self._pending:
                return False
        if self.store is not None:
            try:
                if not self.store.set(STATE + message.key, "queued", nx=True, ex=STATE_TTL):
                    log.info("message %s is queued or delivered already", message.key[:12])
                    return False
                self.store.xadd(
                    STREAM,
                    {"m": message.model_dump_json()},
                    maxlen=STREAM_MAXLEN,
                    approximate=True,
                )
                self._wake.set()
                return True
            except STORE_ERRORS as exc:
                log.warning("outbox: Redis unavailable (%s); spooling %s", exc, message.kind)
        handle = self.spool.put(message.model_dump(mode="json"))
        if handle is None:
            self.metrics.slack_errors.labels(method="spool_full").inc()
            log.error(
                "outbox spool full (%d): %s to %s not kept",
                self.spool.capacity,
                message.kind,
                message.channel,
            )
            return False
        with self._lock:
            self._pending[message.key] = _Pending(message, "spool", handle)
            self._spooled_handles.add(handle)
        self._wake.set()
        return True

    def send(self, message: Message, wait: float = 0.0) -> Outcome | None:
        """Put `message` and wait up to `wait` seconds for its outcome (None: still on its
        way; it will be delivered or reported all the same)."""
        self.put(message)
        return self.wait(message.key, wait)

    def wait(self, key: str, timeout: float) -> Outcome | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while key not in self._done:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self._done[key]

    def outcome(self, key: str) -> Outcome | None:
        with self._lock:
            return self._done.get(key)

    def backlog(self) -> int:
        with self._lock:
            return len(self._pending)

    # --- the sender --------------------------------------------------------------------

    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def drain(self, timeout: float) -> int:
        """Give messages on their way up to `timeout` seconds (a shutdown); how many are left."""
        deadline = time.monotonic() + timeout
        while self.backlog() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        return self.backlog()

    def run(self) -> None:
        """The sender loop (run under the supervisor: an exception restarts it)."""
        while not self._stop.is_set():
            now = time.monotonic()
            if now - self._last_chores >= 1.0:
                self._last_chores = now
                self._do_chores()
            self._read_stream()
            wait = self._deliver_due()
            self._report_state()
            self._wake.wait(min(wait, 1.0))
            self._wake.clear()

    def _report_state(self) -> None:
        with self._lock:
            stuck = [p for p in self._pending.values() if p.attempts and p.last_error]
        state = (
            (False, f"{len(stuck)} message(s) waiting for Slack: {stuck[0].last_error}")
            if stuck
            else (True, "ok")
        )
        if self.report is not None and state != self._reported:
            self._reported = state
            self.report(self.name, *state)

    def _scan_spool(self) -> None:
        """Spooled messages this sender does not hold yet: left by an earlier run, or put
        by another process of this Dockhand (the front process of `serve`)."""
        for handle, raw in self.spool.items():
            if handle in self._spooled_handles:
                continue
            try:
                message = Message.model_validate(raw)
            except ValueError as exc:
                log.error("spooled message %s unreadable, dropped: %s", handle, exc)
                self.spool.remove(handle)
                continue
            with self._lock:
                if message.key in self._pending or message.key in self._done:
                    continue
                self._pending[message.key] = _Pending(message, "spool", handle)
                self._spooled_handles.add(handle)

    def _do_chores(self) -> None:
        self._scan_spool()
        self._record_unrecorded()
        for chore in self.chores:
            try:
                chore()
            except Exception:
                log.exception("outbox chore %s failed", getattr(chore, "__name__", chore))

    def _read_stream(self) -> None:
        if self.store is None:
            return
        try:
            if not self._group_ready:
                try:
                    self.store.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
                except redis.ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
                self._group_ready = True
                self._take_over_predecessors()
            entries: list[tuple[Any, dict[Any, Any]]] = []
            now = time.monotonic()
            if now - self._last_claim > 10:
                # Messages of a replica that died half way (and our own from before a
                # restart, under another consumer name) are taken over once idle long.
                self._last_claim = now
                claimed: Any = self.store.xautoclaim(
                    STREAM, GROUP, self.consumer, CLAIM_IDLE_MS, "0-0", count=100
                )
                if isinstance(claimed, list | tuple) and len(claimed) > 1:
                    entries.extend(claimed[1])
            answer: Any = self.store.xreadgroup(GROUP, self.consumer, {STREAM: ">"}, count=100)
            for _stream, found in answer or []:
                entries.extend(found)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis came back empty: make the group again
                self._group_ready = False
            log.warning("outbox stream unreadable: %s", exc)
            return
        except STORE_ERRORS as exc:
            log.debug("outbox stream unreachable: %s", exc)
            return
        self._take_entries(entries)

    def _take_entries(self, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        for entry_id, fields in entries:
            handle = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            raw = fields.get(b"m") or fields.get("m")
            if raw is None:
                self._ack(handle)
                continue
            message = Message.model_validate_json(raw)
            with self._lock:
                if message.key in self._pending:
                    continue
                if message.key in self._done:
                    done = True
                else:
                    self._pending[message.key] = _Pending(message, "stream", handle)
                    done = False
            if done:
                self._ack(handle)

    def _take_over_predecessors(self) -> None:
        """Messages an earlier run of this Dockhand on this host (same host name, another
        pid: the process restarted) had taken but not finished: ours at once, rather than
        after CLAIM_IDLE_MS. They reach `_pending` through the next XREADGROUP of our own
        pending entries."""
        assert self.store is not None
        prefix = self.consumer.rsplit("-", 1)[0] + "-"
        claimed = 0
        consumers: Any = self.store.xinfo_consumers(STREAM, GROUP)
        for consumer in consumers or []:
            name = consumer.get("name")
            name = name.decode() if isinstance(name, bytes) else str(name)
            if not name.startswith(prefix) or name == self.consumer:
                continue
            pending: Any = self.store.xpending_range(
                STREAM, GROUP, min="-", max="+", count=1000, consumername=name
            )
            ids = [entry["message_id"] for entry in pending or []]
            if ids:
                self.store.xclaim(STREAM, GROUP, self.consumer, 1000, ids)
                claimed += len(ids)
            self.store.xgroup_delconsumer(STREAM, GROUP, name)
        if claimed:
            log.info("outbox: %d message(s) of an earlier run taken over", claimed)
        found: Any = self.store.xreadgroup(GROUP, self.consumer, {STREAM: "0"}, count=1000)
        for _stream, entries in found or []:
            self._take_entries(entries)

    def _deliver_due(self) -> float:
        """One pass over what is due, oldest first and in order per channel; returns how
        long until the next is due."""
        with self._lock:
            queue = sorted(self._pending.values(), key=lambda p: (p.message.created, p.handle))
        held: set[str] = set()  # channels with an earlier message not yet delivered
        soonest = 1.0
        for pending in queue:
            if self._stop.is_set():
                break
            message = pending.message
            channel = message.channel
            if channel in held:
                continue
            now = time.monotonic()
            blocked = self._blocked.get((message.method, channel), 0.0)
            due = max(pending.next_at, blocked)
            if due > now:
                held.add(channel)
                soonest = min(soonest, due - now)
                continue
            wait = self._budget_delay(message)
            if wait > 0:
                held.add(channel)
                pending.next_at = now + wait
                soonest = min(soonest, wait)
                continue
            try:
                finished = self._attempt(pending)
            except Exception:  # never lose the sender over one message: try it again later
                log.exception("delivering a %s to %s failed", message.kind, channel)
                pending.next_at = time.monotonic() + BACKOFF_CAP
                finished = False
            if not finished:
                held.add(channel)
                soonest = min(soonest, max(0.0, pending.next_at - time.monotonic()))
        return max(soonest, 0.01)

    def _budget_delay(self, message: Message) -> float:
        if message.method == "chat.update":
            return self.edit_budget.delay()
        if message.method in ("chat.postMessage", "dm"):
            return self.channel_budgets.of(message.channel).delay()
        return 0.0

    def _attempt(self, pending: _Pending) -> bool:
        """Try `pending` once. True when it is finished with (delivered or given up)."""
        message = pending.message
        if not self._claim(message.key):
            return False  # another replica is sending it right now
        try:
            recorded = self._recorded(message.key)
            if recorded is not None and recorded.startswith(("ts:", "failed:")):
                # Delivered (or given up) by someone else, or by us before a restart.
                self._finish(pending, _outcome_of(recorded), report=False)
                return True
            outcome = self._call(message)
        finally:
            self._unclaim(message.key)
        pending.attempts += 1
        if outcome.ok:
            self._finish(pending, outcome)
            return True
        age = time.time() - message.created
        pending.last_error = outcome.error
        if outcome.retryable and age < self.deadline and not self._stop.is_set():
            delay = min(BACKOFF_CAP, 0.5 * 2 ** min(pending.attempts - 1, 6))
            if outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
                self._blocked[(message.method, message.channel)] = time.monotonic() + delay
            pending.next_at = time.monotonic() + delay
            self.metrics.slack_retries.inc()
            log.info(
                "%s %s to %s: %s (try %d); again in %.1f s",
                message.kind,
                message.method,
                message.channel,
                outcome.error,
                pending.attempts,
                delay,
            )
            return False
        if outcome.retryable:
            outcome = Outcome(
                ok=False, error=f"gave_up:{outcome.error}", status=outcome.status, data=None
            )
        log.error(
            "%s to %s not delivered after %d tries: %s",
            message.kind,
            message.channel,
            pending.attempts,
            outcome.error,
        )
        self._finish(pending, outcome)
        return True

    def _call(self, message: Message) -> Outcome:
        args = dict(message.args)
        if message.method == "response_url":
            return self.calls.respond(str(args.pop("url")), args.get("payload") or {})
        if message.method in ("dm", "dm.upload"):
            # The requester's DM with Dockhand (conversations.open; scope im:write).
            opened = self.calls.call("conversations.open", users=args.pop("user"))
            if not opened.ok:
                return opened
            direct = str(((opened.data or {}).get("channel") or {}).get("id") or "")
            method = "chat.postMessage" if message.method == "dm" else "files.upload"
            return self.calls.call(method, channel=direct, **args)
        return self.calls.call(message.method, **args)

    def _finish(self, pending: _Pending, outcome: Outcome, *, report: bool = True) -> None:
        message = pending.message
        state = f"ts:{outcome.ts or ''}" if outcome.ok else f"failed:{outcome.error}"
        self._record(message.key, state)
        if pending.source == "spool":
            self.spool.remove(pending.handle)
            self._spooled_handles.discard(pending.handle)
        else:
            self._ack(pending.handle)
        with self._changed:
            self._pending.pop(message.key, None)
            self._done[message.key] = outcome
            while len(self._done) > 20_000:
                self._done.popitem(last=False)
            self._changed.notify_all()
        if not report:
            return
        hook = self.on_delivered if outcome.ok else self.on_failed
        if hook is not None:
            try:
                hook(message, outcome)
            except Exception:
                log.exception(
                    "after %s of %s", "delivery" if outcome.ok else "failure", message.kind
                )

    # --- the key's state in Redis (best effort: the process remembers too) ---------------

    def _recorded(self, key: str) -> str | None:
        if self.store is None:
            return None
        try:
            raw = self.store.get(STATE + key)
        except STORE_ERRORS:
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    def _record(self, key: str, state: str) -> None:
        if self.store is None:
            return
        try:
            self.store.set(STATE + key, state, ex=STATE_TTL)
        except STORE_ERRORS:
            self._unrecorded[key] = state  # written when Redis is back

    def _record_unrecorded(self) -> None:
        if self.store is None or not self._unrecorded:
            return
        for key, state in list(self._unrecorded.items()):
            try:
                self.store.set(STATE + key, state, ex=STATE_TTL)
            except STORE_ERRORS:
                return
            self._unrecorded.pop(key, None)

    def _claim(self, key: str) -> bool:
        if self.store is None:
            return True
        try:
            return bool(self.store.set(LOCK + key, self.consumer, nx=True, px=30_000))
        except STORE_ERRORS:
            return True  # nobody can see Redis either: the spool is this process's alone

    def _unclaim(self, key: str) -> None:
        if self.store is None:
            return
        with contextlib.suppress(*STORE_ERRORS):
            self.store.delete(LOCK + key)

    def _ack(self, handle: str) -> None:
        if self.store is None:
            return
        try:
            self.store.xack(STREAM, GROUP, handle)
            self.store.xdel(STREAM, handle)
        except STORE_ERRORS:
            pass  # the key's state says it is done: a re-read finds it and drops it


def _outcome_of(state: str) -> Outcome:
    kind, _, value = state.partition(":")
    if kind == "ts":
        return Outcome(ok=True, ts=value or None)
    return Outcome(ok=False, error=value)
