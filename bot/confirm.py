"""Pending confirmations: a destructive command waits, previewed, until its requester (or,
under the two-person rule, someone else with the role) confirms. Each can be used once and
expires; taking one is a single atomic GETDEL, so a double click cannot run it twice."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass

import redis

KEY = "dockhand:confirm:{}"
THREAD_KEY = "dockhand:confirm:{}:thread"


@dataclass(frozen=True)
class Pending:
    id: str
    text: str
    user: str
    channel: str
    verb: str
    two_person: bool
    expires: float


class ConfirmStore:
    def __init__(self, store: redis.Redis) -> None:
        self.store = store

    def create(
        self, *, text: str, user: str, channel: str, verb: str, two_person: bool, ttl: int
    ) -> Pending:
        pending = Pending(
            id=secrets.token_urlsafe(12),
            text=text,
            user=user,
            channel=channel,
            verb=verb,
            two_person=two_person,
            expires=time.time() + ttl,
        )
        self.store.set(KEY.format(pending.id), json.dumps(asdict(pending)), ex=ttl)
        return pending

    def peek(self, pending_id: str) -> Pending | None:
        raw = self.store.get(KEY.format(pending_id))
        return _load(raw)

    def take(self, pending_id: str) -> Pending | None:
        """The pending command, removed in the same step; None if gone, used or expired."""
        raw = self.store.getdel(KEY.format(pending_id))
        pending = _load(raw)
        if pending is not None and pending.expires < time.time():
            return None
        return pending

    def keep_thread(self, pending_id: str, thread_ts: str) -> None:
        """The thread the confirmed command answers in (a button's on a channel message),
        kept as long as the confirmation."""
        key = KEY.format(pending_id)
        ttl = self.store.ttl(key)
        if isinstance(ttl, int) and ttl > 0:
            self.store.set(THREAD_KEY.format(pending_id), thread_ts, ex=ttl)

    def thread_of(self, pending_id: str) -> str | None:
        raw = self.store.get(THREAD_KEY.format(pending_id))
        if not raw:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)


def _load(raw: object) -> Pending | None:
    if not raw:
        return None
    data = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    return Pending(**data)
