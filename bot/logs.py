"""Logging set-up: one line an event, JSON if asked, secrets never written."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from contextvars import ContextVar

#: the request being served: set per Slack request, shown in every log line and as the
#: reference an apology gives the user, so one id finds the whole story in the log
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex[:10]


class WithRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class SeenSecrets:
    """Secret values lately found in commands (bot/redaction.py), kept a while so that no
    log line repeats them: Bolt's and slack_sdk's DEBUG traces print request and response
    bodies, which may quote a command. Bounded in number and age; values shorter than
    `shortest` are not kept, as masking them would garble every line."""

    def __init__(self, capacity: int = 256, ttl: float = 900.0, shortest: int = 4) -> None:
        self.capacity, self.ttl, self.shortest = capacity, ttl, shortest
        self._values: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for value in values:
                if len(value) >= self.shortest:
                    self._values[value] = now + self.ttl
                    self._values.move_to_end(value)
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)

    def current(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            for value in [v for v, until in self._values.items() if until < now]:
                del self._values[value]
            return list(self._values)


#: the process's remembered command secrets, masked by every handler `setup` installs
SEEN_SECRETS = SeenSecrets()


def remember_secrets(values: Iterable[str]) -> None:
    SEEN_SECRETS.add(values)


class Redact(logging.Filter):
    """Replace every configured secret's value, and every secret lately found in a
    command, in the formatted message."""

    def __init__(self, secrets: Iterable[str], seen: SeenSecrets | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]
        self.seen = SEEN_SECRETS if seen is None else seen

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # Longest first, so a secret that contains another is masked whole.
        secrets = sorted(self.secrets + self.seen.current(), key=len, reverse=True)
        if any(s in message for s in secrets):
            for secret in secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup(level: str, as_json: bool, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(WithRequest())
    handler.addFilter(Redact(secrets))
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
