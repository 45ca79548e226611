"""The audit: every attempt, allowed or denied, appended to a Redis stream that outlives the bot."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from bot.redaction import redact_command, redact_text, scrub
from bot.spool import Spool

log = logging.getLogger("dockhand.audit")
STREAM = "dockhand:audit"
MAXLEN = 100_000
#: a stored command is cut here, after redaction (a 400 KB text is an attack, not a record)
MAX_TEXT = 4000

__all__ = ["Audit", "Entry", "redact"]


def redact(text: str) -> str:
    """Command text fit for the audit and logs: read by its structure (bot/redaction.py),
    passwords, secret-named values, URL userinfo and Slack tokens replaced by ***."""
    return redact_command(text)


@dataclass(frozen=True)
class Entry:
    id: str
    time: float
    user: str
    channel: str
    host: str
    text: str
    verb: str
    decision: str
    rule: str
    outcome: str
    duration_ms: int


class Audit:
    def __init__(self, store: redis.Redis, spool: Spool | None = None) -> None:
        self.store = store
        #: entries Redis could not take, written (oldest first) once it is back; `serve`
        #: puts it on disk with DOCKHAND_SPOOL_DIR
        self.spool = spool if spool is not None else Spool(None, 10_000, "audit")
        self._spooled = len(self.spool) > 0
        self._flushing = threading.Lock()  # one writer of spooled entries at a time
        #: called with each entry's fields after it is stored (the audit channel's mirror)
        self.mirror: Callable[[dict[str, str]], None] | None = None

    def record(
        self,
        *,
        user: str,
        channel: str,
        host: str,
        text: str,
        verb: str,
        decision: str,
        rule: str,
        outcome: str,
        duration_ms: int = 0,
    ) -> None:
        # Secrets go before anything is stored or mirrored: the text by its structure, and
        # the outcome (an error may quote what was typed) by the values found in it.
        redacted = redact_text(text)
        shown = redacted.text
        if len(shown) > MAX_TEXT:
            shown = shown[:MAX_TEXT] + "…"
        fields = {
            "time": f"{time.time():.3f}",
            "user": user,
            "channel": channel,
            "host": host,
            "text": shown,
            "verb": verb,
            "decision": decision,
            "rule": rule,
            "outcome": scrub(outcome, redacted.secrets),
            "duration_ms": str(duration_ms),
        }
        try:
            if self._spooled:
                self.flush()  # the older entries first
            if self._spooled:
                raise redis.ConnectionError("entries still spooled")
            self.store.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)  # type: ignore[arg-type]
        except redis.RedisError as exc:
            # The command has run (or been refused) already: its record waits for Redis.
            if self.spool.put(fields) is None:
                log.error("audit spool full; entry lost (%s): %s", exc, fields)
            else:
                self._spooled = True
                log.warning("audit write failed (%s); entry spooled until Redis is back", exc)
        if self.mirror is not None:
            self.mirror(fields)

    def use_spool(self, spool: Spool) -> None:
        """Spool into `spool` from now on (entries left there by an earlier run are written
        at the next flush)."""
        self.spool = spool
        self._spooled = len(spool) > 0

    def flush(self) -> int:
        """Write spooled entries to the stream, oldest first; how many are still waiting.
        Each keeps the time it was recorded at."""
        if not self._spooled:
            return 0
        with self._flushing:
            waiting = self.spool.items()
            for n, (handle, fields) in enumerate(waiting):
                try:
                    self.store.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)  # type: ignore[arg-type]
                except redis.RedisError:
                    return len(waiting) - n
                self.spool.remove(handle)
            if waiting:
                log.info("%d spooled audit entries written", len(waiting))
            self._spooled = len(self.spool) > 0
            return 0

    def query(
        self,
        *,
        user: str | None = None,
        verb: str | None = None,
        since: float | None = None,
        limit: int = 50,
    ) -> list[Entry]:
        found: list[Entry] = []
        last = "+"
        while len(found) < limit:
            batch = self.store.xrevrange(STREAM, max=last, min="-", count=500)
            if not batch:
                break
            for raw_id, raw in batch:
                entry = _entry(raw_id, raw)
                if since is not None and entry.time < since:
                    return found
                if (user is None or entry.user == user) and (verb is None or entry.verb == verb):
                    found.append(entry)
                    if len(found) >= limit:
                        return found
            last = "(" + _text(batch[-1][0])
        return found


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(raw_id: object, raw: Any) -> Entry:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return Entry(
        id=_text(raw_id),
        time=float(fields.get("time", 0)),
        user=fields.get("user", ""),
        channel=fields.get("channel", ""),
        host=fields.get("host", ""),
        text=fields.get("text", ""),
        verb=fields.get("verb", ""),
        decision=fields.get("decision", ""),
        rule=fields.get("rule", ""),
        outcome=fields.get("outcome", ""),
        duration_ms=int(fields.get("duration_ms", 0) or 0),
    )
