"""HTTP front door: /slack/events for Bolt, /healthz and /metrics for probes. One thread a
request. Bodies are taken only with a sane Content-Length, read to exactly that length; the
operations endpoints show detail only to this machine or to holders of the ops token. While
a shutdown drains, the port stays open: /healthz says 503 and new commands are refused."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger("dockhand.http")
MAX_BODY = 1 << 20  # Slack's payloads are far smaller; refuse anything huge unread
# Seconds a client may take to send its request: a stalled sender must not hold a thread.
READ_TIMEOUT = 15.0
#: threads serving connections (more wait in the listen backlog)
CONNECTION_THREADS = 128
# Set by a reverse proxy: a request relayed from elsewhere is not local, whatever the peer.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


#: said to whoever sends a command while the bot drains for a shutdown
# (belongs in bot/messages.py; kept here until that file's other edits have landed)
SHUTTING_DOWN = (
    ":hourglass: Dockhand is restarting and takes no new commands; "
    "work already running is finishing. Try again in a minute."
)


def refuse_while_draining(
    draining: Callable[[], bool],
) -> Callable[..., BoltResponse | None]:
    """Bolt middleware (after the signature check): during a shutdown's grace period a slash
    command is answered with SHUTTING_DOWN and nothing runs; a click or form is acknowledged
    and its requester told the same through its response_url."""

    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse | None]) -> Any:
        if not draining():
            return next()
        if body.get("command"):
            log.info("command refused: shutting down")
            answer = {"response_type": "ephemeral", "text": SHUTTING_DOWN}
            return BoltResponse(
                status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
            )
        if body.get("type") in ("block_actions", "view_submission", "shortcut"):
            log.info("%s refused: shutting down", body.get("type"))
            url = body.get("response_url") or next_url(body)
            if url:  # off the ack path: Slack wants the ack within 3 s
                threading.Thread(target=_tell, args=(url,), daemon=True).start()
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def next_url(body: dict[str, Any]) -> str:
    urls = body.get("response_urls") or []
    return str(urls[0].get("response_url", "")) if urls else ""


def _tell(url: str) -> None:
    from slack_sdk.webhook import WebhookClient

    try:
        WebhookClient(url, timeout=5).send_dict(
            {"response_type": "ephemeral", "replace_original": False, "text": SHUTTING_DOWN}
        )
    except Exception as exc:  # the refusal is a courtesy; the ack already went
        log.warning("could not tell a requester of the shutdown: %s", exc)


def is_loopback(peer: str) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped forms; false for anything else."""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def bearer_matches(authorization: str | None, token: str | None) -> bool:
    """`Authorization: Bearer TOKEN` with the configured token, compared in constant time."""
    if not token or not authorization:
        return False
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_see_detail(
    peer: str, headers: Message, token: str | None, *, trust_loopback: bool = True
) -> bool:
    """Whether a client may see engine names, versions, errors and the metrics: the ops
    token, or a loopback peer (a compose healthcheck inside the container, an admin on the
    host) that no proxy relayed."""
    if bearer_matches(headers.get("Authorization"), token):
        return True
    if not trust_loopback or any(headers.get(name) for name in PROXY_HEADERS):
        return False
    return is_loopback(peer)


class Dispatcher(Protocol):
    """What answers /slack/events: a Bolt App, or bot/front.py's CommandsFirst before one."""

    def dispatch(self, req: BoltRequest) -> BoltResponse: ...


class DockhandHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of slash commands must not be refused by a short listen backlog.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        app: Dispatcher | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        metrics: Callable[[], bytes] | None = None,
        ack_seconds: Callable[[float], None] | None = None,
        ops_token: str | None = None,
        *,
        trust_loopback: bool = True,
    ) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.health = health
        self.metrics = metrics
        self.ack_seconds = ack_seconds
        self.ops_token = ops_token
        #: False only in tests: they must stay on loopback yet play a client from elsewhere.
        self.trust_loopback = trust_loopback
        # Connections are served by threads that stay: starting a thread for each one makes
        # the accepting thread wait for the new one to get the interpreter lock, behind
        # every ack of a burst (measured: docs/bench-ack.md). A fixed set, far above the
        # listen backlog; a stalled client is cut after READ_TIMEOUT.
        self._accepted: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._connection_threads = [
            threading.Thread(target=self._serve_connections, name=f"dockhand-http-{n}", daemon=True)
            for n in range(CONNECTION_THREADS)
        ]
        for thread in self._connection_threads:
            thread.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._accepted.put((request, client_address))

    def _serve_connections(self) -> None:
        while (accepted := self._accepted.get()) is not None:
            self.process_request_thread(*accepted)

    def server_close(self) -> None:
        super().server_close()
        for _ in self._connection_threads:
            self._accepted.put(None)


class _Handler(BaseHTTPRequestHandler):
    server: DockhandHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/slack/events" or self.server.app is None:
            self._refuse(404, "not found")
            return
        length = self._content_length()
        if length is None:
            return
        started = time.perf_counter()
        raw = self.rfile.read(length)
        if len(raw) < length:
            self._refuse(400, "body shorter than Content-Length")
            return
        body = raw.decode("utf-8", "replace")

        headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.app.dispatch(
            BoltRequest(body=body, query=url.query, headers=headers)
        )
        content_type = response.headers.get("content-type", ["text/plain"])[0]
        self._send(response.status, response.body.encode(), content_type)
        if self.server.ack_seconds is not None:
            self.server.ack_seconds(time.perf_counter() - started)

    def _content_length(self) -> int | None:
        """The body's length, or None after refusing the request. Decided on the headers
        alone, before a byte of the body is read: a client cannot make us wait or buffer."""
        if self.headers.get("Transfer-Encoding") is not None:
            # Slack always sends a length; a chunked body could be endless.
            self._refuse(411, "chunked bodies are not accepted; send Content-Length")
            return None
        values = self.headers.get_all("Content-Length") or []
        if not values:
            self._refuse(411, "Content-Length required")
            return None
        if len(set(values)) > 1:
            self._refuse(400, "conflicting Content-Length headers")
            return None
        text = values[0].strip()
        # isdigit() alone takes "²" and other digits int() cannot read or Slack never sends.
        if not (text.isascii() and text.isdigit()):
            self._refuse(400, "Content-Length must be a non-negative integer")
            return None
        length = int(text)
        if length > MAX_BODY:
            self._refuse(413, f"payload too large (at most {MAX_BODY} bytes)")
            return None
        return length

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        server = self.server
        trusted = may_see_detail(
            self.client_address[0],
            self.headers,
            server.ops_token,
            trust_loopback=server.trust_loopback,
        )
        if path == "/healthz":
            healthy, detail = server.health()
            status = "ok" if healthy else "unavailable"
            shown = {"status": status, **detail} if trusted else {"status": status}
            self._send(200 if healthy else 503, json.dumps(shown).encode(), "application/json")
        elif path == "/metrics" and server.metrics is not None:
            if trusted:
                self._send(200, server.metrics(), "text/plain; version=0.0.4; charset=utf-8")
            elif server.ops_token:
                self._send(
                    401,
                    b"bearer token required (DOCKHAND_OPS_TOKEN)",
                    "text/plain",
                    {"WWW-Authenticate": 'Bearer realm="dockhand"'},
                )
            else:
                self._send(403, b"metrics are served to loopback clients only", "text/plain")
        else:
            self._send(404, b"not found", "text/plain")

    def _refuse(self, status: int, reason: str) -> None:
        # The body was not read: the connection cannot carry another request after it.
        self.close_connection = True
        self._send(status, reason.encode(), "text/plain", {"Connection": "close"})

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
