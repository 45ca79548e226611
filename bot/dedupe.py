"""Run each Slack request once: slash commands and clicks that Slack resends, or that
someone replays, are recognised by a hash of what identifies them.

Keys are hashes, never the text: a command's text may hold a secret, and a key is stored.
They live in Redis with a TTL when Dockhand has one (so every replica agrees), otherwise,
and whenever Redis fails, in a bounded in-process set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import redis
from slack_bolt import BoltResponse

log = logging.getLogger("dockhand.dedupe")
TTL = 3600  # seconds: Slack retries within minutes; a replayed signature is stale after 5
PREFIX = "dockhand:seen:"


def request_key(*parts: object) -> str:
    """A stable hash of what identifies a request."""
    encoded = json.dumps([str(p) for p in parts], ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


class Seen:
    """First-sighting checks, shared through Redis when there is one."""

    def __init__(self, store: redis.Redis | None, ttl: int = TTL, capacity: int = 10_000) -> None:
        self.store = store
        self.ttl = ttl
        self.capacity = capacity
        self._local: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        """True the first time `key` is seen within the TTL."""
        # Always noted here too: a resend that arrives after Redis went down (or came back
        # empty) is still recognised by the process that saw the first delivery.
        here = self._first_here(key)
        if self.store is not None:
            try:
                return bool(self.store.set(PREFIX + key, 1, nx=True, ex=self.ttl)) and here
            except redis.RedisError as exc:
                # This process still remembers what it saw; better than running twice.
                log.warning("store unavailable for dedupe (%s); checking this process only", exc)
        return here

    def _first_here(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._local and next(iter(self._local.values())) < now:
                self._local.popitem(last=False)  # oldest first: entries expire in order
            if key in self._local:
                return False
            self._local[key] = now + self.ttl
            while len(self._local) > self.capacity:
                self._local.popitem(last=False)
            return True


def command_key(body: dict[str, Any]) -> str:
    """A slash command: its trigger_id is unique per invocation and kept by retries."""
    trigger = body.get("trigger_id")
    if trigger:
        return request_key("command", body.get("team_id"), body.get("user_id"), trigger)
    return request_key("command", body.get("team_id"), body.get("user_id"), body.get("text"))


def interaction_key(body: dict[str, Any]) -> str | None:
    """A click (block_actions) or a modal submission (view_submission), or None for
    payloads that carry nothing unique to one delivery (those are never deduplicated:
    two real clicks must both run)."""
    kind = body.get("type")
    user = (body.get("user") or {}).get("id")
    trigger = body.get("trigger_id")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        action = actions[0] if isinstance(actions[0], dict) else {}
        stamp = action.get("action_ts")
        if not (stamp or trigger):
            return None
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        return request_key(
            kind,
            stamp,
            trigger,
            user,
            action.get("action_id"),
            action.get("block_id"),
            value,
            body.get("response_url"),
            (body.get("container") or {}).get("message_ts"),
        )
    if kind == "view_submission":
        view = body.get("view") or {}
        if not (trigger or view.get("id")):
            return None
        return request_key(kind, trigger, user, view.get("id"), view.get("hash"))
    return None


def interactivity_middleware(
    seen: Seen,
) -> Callable[..., BoltResponse | None]:
    """A Bolt global middleware: a click or submission already seen is answered 200 and
    goes no further, so its listener (a restart, a stop) runs once."""

    def dedupe_interactivity(
        body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        key = interaction_key(body) if isinstance(body, dict) else None
        if key is not None and not seen.first(key):
            log.info("duplicate %s delivery %s ignored", body.get("type"), key[:16])
            return BoltResponse(status=200, body="")
        return next()

    return dedupe_interactivity
