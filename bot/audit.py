"""The audit: every attempt, allowed or denied, appended to a Redis stream that outlives the bot."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger("dockhand.audit")
STREAM = "dockhand:audit"
MAXLEN = 100_000

_SECRET_FLAG = re.compile(r"(?P<flag>(?:^|\s)(?:-p|--password)(?:=|\s+))(?P<value>\S+)")
_SECRET_ENV = re.compile(
    r"(?P<name>\b\w*(?:PASS|TOKEN|SECRET|KEY|CREDENTIAL)\w*=)(?P<value>\S+)", re.IGNORECASE
)
_SLACK_TOKEN = re.compile(r"\bx(?:ox[abpr]|app)-[\w-]+")


def redact(text: str) -> str:
    """Command text fit for the audit and logs: passwords, secret-looking env values and
    Slack tokens replaced by ***."""
    text = _SECRET_FLAG.sub(lambda m: f"{m.group('flag')}***", text)
    text = _SECRET_ENV.sub(lambda m: f"{m.group('name')}***", text)
    return _SLACK_TOKEN.sub("***", text)


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
    def __init__(self, store: redis.Redis) -> None:
        self.store = store
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
        fields = {
            "time": f"{time.time():.3f}",
            "user": user,
            "channel": channel,
            "host": host,
            "text": redact(text),
            "verb": verb,
            "decision": decision,
            "rule": rule,
            "outcome": outcome,
            "duration_ms": str(duration_ms),
        }
        try:
            self.store.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)  # type: ignore[arg-type]
        except redis.RedisError as exc:
            # The command has run (or been refused) already; losing its record is logged.
            log.error("audit write failed (%s): %s", exc, fields)
        if self.mirror is not None:
            self.mirror(fields)

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
