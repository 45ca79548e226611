"""A fake Slack Web API on 127.0.0.1 that records every call and enforces Slack's limits.

It answers the Web API methods Dockhand uses, response_url posts (/response/<id>) and
the files upload v2 flow. A payload over Slack's limits is refused the way Slack refuses
it, so a test sees what a real workspace would.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_response_urls import ResponseUrls

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_MESSAGE_TEXT = 40000
#: chat.update is Tier 3: "50+ per minute" per workspace (docs: rate limits, Tier 3)
UPDATES_PER_MINUTE = 50
#: chat.postMessage: about 1 a second per channel, "short bursts" allowed
POSTS_PER_SECOND = 1.0
POST_BURST = 5


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)
    #: the HTTP status and `ok` it was answered with (0 until answered)
    status: int = 0
    ok: bool = False
    #: the answer sent back (set once answered)
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.path.removeprefix("/api/")


def limit_error(body: dict[str, Any]) -> str | None:
    """Slack's error code for a message over its limits, or None."""
    text = body.get("text") or ""
    if len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    blocks = body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        section = block.get("text") or {}
        if block.get("type") == "section" and len(section.get("text", "")) > MAX_SECTION_TEXT:
            return "invalid_blocks"
    return None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        # method -> answers to give before the real one: (status, headers)
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        #: what usergroups.list answers: [{"id": "S1", "users": ["U1"]}]
        self.usergroups: list[dict[str, Any]] = []
        #: what apps.connections.open answers (a FakeSocketMode's url)
        self.socket_mode_url: str | None = None
        #: channels the bot is not a member of: posting there is `not_in_channel`
        self.not_in: set[str] = set()
        #: answer 429 (with Retry-After) past Slack's documented rates, as Slack does
        self.rate_limits = False
        self._updates: list[float] = []
        self._posts: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        #: calls answered 429 by the rate limits (not by queued failures)
        self.limited: list[Call] = []
        self._refusing: threading.Timer | None = None
        #: response_urls as Slack documents them (5 posts, 30 minutes, replace only on a
        #: click) and the ephemeral messages the user sees
        self.responses = ResponseUrls(limit_error)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        """A slash command's response_url (issued now)."""
        self.responses.command(key)
        return f"{self.url}/response/{key}"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._refusing is not None:
            self._refusing.cancel()
        self.server.shutdown()
        self.server.server_close()

    def refuse_for(self, seconds: float) -> None:
        """Close the port for `seconds`: every connection is refused, as for a Slack that
        cannot be reached; then listen again on the same port."""
        host, port = self.server.server_address[:2]
        self.server.shutdown()
        self.server.server_close()

        def reopen() -> None:
            self.server = ThreadingHTTPServer((str(host), int(port)), _handler_for(self))
            self.server.daemon_threads = True
            self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self._thread.start()

        self._refusing = threading.Timer(seconds, reopen)
        self._refusing.start()

    def fail_many(
        self, method: str, status: int, count: int, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `count` calls of `method` with `status`; `response_url` stands
        for every response_url."""
        for _ in range(count):
            self.fail_next(method, status, headers)

    def rate_limited(self, call: Call) -> tuple[int, dict[str, str]] | None:
        """429 and its Retry-After for a call over Slack's documented rates, else None."""
        if not self.rate_limits:
            return None
        with self._lock:
            now = time.monotonic()
            if call.method == "chat.update":
                self._updates = [t for t in self._updates if now - t < 60]
                if len(self._updates) >= UPDATES_PER_MINUTE:
                    wait = 60 - (now - self._updates[0])
                    return 429, {"Retry-After": str(max(1, round(wait)))}
                self._updates.append(now)
            elif call.method == "chat.postMessage":
                channel = str(call.body.get("channel"))
                tokens, at = self._posts.get(channel, (POST_BURST, now))
                tokens = min(POST_BURST, tokens + (now - at) * POSTS_PER_SECOND)
                if tokens < 1:
                    self._posts[channel] = (tokens, now)
                    return 429, {"Retry-After": "1"}
                self._posts[channel] = (tokens - 1, now)
        return None

    def record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def find(self, predicate: Callable[[Call], bool]) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if predicate(c)]

    def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 20.0) -> Call:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self.calls:
                    if predicate(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    paths = [c.path for c in self.calls]
                    raise AssertionError(f"no matching Slack call within {timeout} s; saw {paths}")
                self._changed.wait(left)

    def fail_next(self, method: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next call of `method` with `status` (429 with Retry-After, a 500...)."""
        with self._lock:
            self.failures.setdefault(method, []).append((status, headers or {}))

    def drop_next(self, method: str, after: float) -> None:
        """Hold the next call of `method` for `after` seconds, then close the connection
        without an answer and without doing anything (a gateway timing out before Slack
        had it): the caller cannot tell, and must try again."""
        with self._lock:
            self.failures.setdefault(method, []).append((0, {"hold": str(after)}))

    def take_failure(self, path: str) -> tuple[int, dict[str, str]] | None:
        method = "response_url" if path.startswith("/response/") else path.removeprefix("/api/")
        with self._lock:
            queued = self.failures.get(method)
            return queued.pop(0) if queued else None

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.startswith("/response/"):
            return self.responses.post(path.removeprefix("/response/"), body)
        if path.startswith("/upload/"):
            return 200, {"ok": True}
        method = path.removeprefix("/api/")
        if method == "auth.test":
            return 200, {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T1",
                "user": "dockhand",
                "team": "test",
                "url": f"{self.url}/",
            }
        if method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            if method == "chat.postMessage" and body.get("channel") in self.not_in:
                return 200, {"ok": False, "error": "not_in_channel"}
            error = limit_error(body)
            if error:
                return 200, {"ok": False, "error": error}
            ts = body.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            if method == "chat.postEphemeral":
                self.responses.show(
                    f"ephemeral:{body.get('user')}",
                    body.get("text") or "",
                    body.get("blocks") or [],
                )
            return 200, {
                "ok": True,
                "channel": body.get("channel"),
                "ts": ts,
                "message": {"text": body.get("text"), "ts": ts},
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return 200, {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.url}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            return 200, {"ok": True, "files": body.get("files")}
        if method == "apps.connections.open" and self.socket_mode_url:
            return 200, {"ok": True, "url": self.socket_mode_url}
        if method == "conversations.open":
            # The bot's DM with a user: D + the user's id, as stable as Slack's.
            return 200, {"ok": True, "channel": {"id": f"D{body.get('users', '')}"}}
        if method == "usergroups.list":
            return 200, {"ok": True, "usergroups": self.usergroups}
        if method in {"views.open", "views.publish", "views.update"}:
            return 200, {"ok": True, "view": {"id": f"V{next(self._ts):08d}"}}

        return 200, {"ok": False, "error": "unknown_method"}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            kind = self.headers.get("Content-Type", "")
            body: dict[str, Any]
            if self.path.startswith("/upload/"):
                body = {"raw": raw}
            elif "json" in kind:
                body = json.loads(raw or b"{}")
            elif "x-www-form-urlencoded" in kind:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            else:
                body = {"raw": raw}
            path = urlsplit(self.path).path
            call = Call(path, body, {k.lower(): v for k, v in self.headers.items()})
            fake.record(call)
            failure = fake.take_failure(path)
            extra: dict[str, str] = {}
            limited = None if failure is not None else fake.rate_limited(call)
            if limited is not None:
                fake.limited.append(call)
                failure = limited
            if failure is not None and failure[0] == 0:
                time.sleep(float(failure[1]["hold"]))
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if failure is not None:
                status, extra = failure
                answer = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
            else:
                status, answer = fake.answer(path, body)
            call.answer = answer  # what Slack said: the ts a later edit must name
            call.status, call.ok = status, bool(answer.get("ok"))
            data = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
