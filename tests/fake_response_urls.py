"""response_url as Slack documents it, for the fake Web API (tests/fake_slack.py).

- A response_url takes 5 posts within 30 minutes (https://api.slack.com/interactivity/slash-commands,
  "Delayed responses and multiple responses"); the 6th post, or one after 30 minutes, is
  refused. Slack documents the limit, not its refusal: the fake answers 404 with
  `used_url` / `expired_url`, which Dockhand must treat as "not delivered".
- `replace_original` / `delete_original` act on the message the user clicked, for a
  response_url that came with that click (https://api.slack.com/messaging/modifying,
  "Updating messages using response_url" and "Deleting messages using response_url").
  A slash command's response_url only ever adds a message: the flags are not documented
  there, and bolt-python #1268 / bolt-js #2287 show them doing nothing.

The fake keeps what the user sees: the ephemeral messages of each conversation with the app,
in order, so a test can say "no running… note is left" instead of inspecting bodies.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

USES = 5
LIFETIME = 30 * 60.0


@dataclass
class Shown:
    """One ephemeral message on the user's screen."""

    id: int
    #: the key of the response_url (or slash command ack) that put it there
    origin: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def words(self) -> str:
        """Everything the message says, for assertions."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def actions(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b["elements"]]


@dataclass
class _Url:
    created: float
    #: the message clicked, for a response_url that came with a click; None for a command
    clicked: int | None = None
    uses: int = 0


class ResponseUrls:
    def __init__(self, limit_error: Callable[[dict[str, Any]], str | None]) -> None:
        self._limit_error = limit_error
        self._lock = threading.Lock()
        self._urls: dict[str, _Url] = {}
        self._ids = itertools.count(1)
        self._offset = 0.0
        #: what the user sees (ephemeral), in order
        self.shown: list[Shown] = []
        #: in_channel posts through a response_url
        self.in_channel: list[dict[str, Any]] = []
        #: refused posts: (key, error)
        self.refused: list[tuple[str, str]] = []

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Let time pass for every response_url (30 minutes without waiting them)."""
        with self._lock:
            self._offset += seconds

    def command(self, key: str) -> None:
        """A slash command's response_url, issued now."""
        with self._lock:
            self._urls.setdefault(key, _Url(self.now()))

    def click(self, key: str, on: Shown) -> None:
        """The response_url of a click on the message `on`, issued now."""
        with self._lock:
            self._urls[key] = _Url(self.now(), clicked=on.id)

    def show_ack(self, key: str, answer: dict[str, Any]) -> Shown | None:
        """A slash command's acknowledgement with text or blocks is shown ephemeral to its
        user (an empty ack shows nothing)."""
        if not (answer.get("text") or answer.get("blocks")):
            return None
        return self.show(f"ack:{key}", answer.get("text") or "", answer.get("blocks") or [])

    def show(self, origin: str, text: str, blocks: list[dict[str, Any]] | str) -> Shown:
        """An ephemeral message (an ack, chat.postEphemeral) on the user's screen."""
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        with self._lock:
            shown = Shown(next(self._ids), origin, text, list(blocks))
            self.shown.append(shown)
            return shown

    def post(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            url = self._urls.setdefault(key, _Url(self.now()))
            if self.now() - url.created > LIFETIME:
                return self._refuse(key, "expired_url")
            if url.uses >= USES:
                return self._refuse(key, "used_url")
            url.uses += 1
            error = self._limit_error(body)
            if error:
                return 400, {"ok": False, "error": error}
            blocks = body.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            clicked = next((s for s in self.shown if s.id == url.clicked), None)
            if clicked is not None and body.get("delete_original"):
                self.shown.remove(clicked)
            elif clicked is not None and body.get("replace_original"):
                clicked.text, clicked.blocks, clicked.origin = body.get("text") or "", blocks, key
            elif body.get("response_type") == "in_channel":
                self.in_channel.append(body)
            elif body.get("text") or blocks:
                # A slash command's response_url adds a message, whatever the flags say.
                self.shown.append(Shown(next(self._ids), key, body.get("text") or "", blocks))
            return 200, {"ok": True}

    def _refuse(self, key: str, error: str) -> tuple[int, dict[str, Any]]:
        self.refused.append((key, error))
        return 404, {"ok": False, "error": error}

    def uses(self, key: str) -> int:
        with self._lock:
            url = self._urls.get(key)
            return url.uses if url else 0
