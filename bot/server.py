"""HTTP front door: /slack/events for Bolt, /healthz for probes. One thread a request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

log = logging.getLogger("dockhand.http")
MAX_BODY = 1 << 20  # Slack's payloads are far smaller; refuse anything huge unread


class DockhandHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of slash commands must not be refused by a short listen backlog.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        app: App | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        metrics: Callable[[], bytes] | None = None,
        ack_seconds: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.health = health
        self.metrics = metrics
        self.ack_seconds = ack_seconds


class _Handler(BaseHTTPRequestHandler):
    server: DockhandHTTPServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/slack/events" or self.server.app is None:
            self._send(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b"payload too large", "text/plain")
            return
        started = time.perf_counter()
        body = self.rfile.read(length).decode("utf-8", "replace")

        headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.app.dispatch(
            BoltRequest(body=body, query=url.query, headers=headers)
        )
        content_type = response.headers.get("content-type", ["text/plain"])[0]
        self._send(response.status, response.body.encode(), content_type)
        if self.server.ack_seconds is not None:
            self.server.ack_seconds(time.perf_counter() - started)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            healthy, detail = self.server.health()
            self._send(200 if healthy else 503, json.dumps(detail).encode(), "application/json")
        elif path == "/metrics" and self.server.metrics is not None:
            self._send(200, self.server.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
