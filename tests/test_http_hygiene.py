"""The HTTP front door against abusive requests, over raw sockets to a running `dockhand
serve` on 127.0.0.1: a bad or huge Content-Length, or a chunked body, is answered at once
from the headers alone, and the bot's memory does not grow with what a client sends."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.server import MAX_BODY
from tests.fake_slack import FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    # No engine or Redis needed: nothing here gets as far as Docker. Slack is the fake.
    fake = FakeSlack().start()
    started = start_bot(tmp_path_factory.mktemp("hygiene"), SLACK_API_URL=fake.api_url)
    yield started
    started.stop()
    fake.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(bot: Bot) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=5)
    sock.settimeout(2)  # "at once": a server waiting for a body would blow this
    return sock


def head(lines: list[str]) -> bytes:
    request = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", *lines]
    return ("\r\n".join(request) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([], 411),
        (["Content-Length: -1"], 400),
        (["Content-Length: abc"], 400),
        (["Content-Length: 1e3"], 400),
        (["Content-Length: ²"], 400),
        (["Content-Length: 10", "Content-Length: 20"], 400),
        ([f"Content-Length: {MAX_BODY + 1}"], 413),
        (["Content-Length: 1099511627776"], 413),
        (["Transfer-Encoding: chunked"], 411),
        (["Transfer-Encoding: chunked", "Content-Length: 5"], 411),
    ],
)
def test_refused_from_the_headers_at_once(bot: Bot, headers: list[str], status: int) -> None:
    with connect(bot) as sock:
        started = time.monotonic()
        # Headers only; the socket stays open, as a client that is about to send a body.
        sock.sendall(head(headers))
        got, data = read_response(sock)
        assert got == status, data
        assert time.monotonic() - started < 1.0
        assert b"Connection: close" in data
        # The server hung up: it will not take the body as another request.
        sock.recv(65536)
        assert sock.recv(1) == b""


def test_a_flood_after_a_bad_length_is_not_taken_in(bot: Bot) -> None:
    before = rss_kib(bot.process.pid)
    sent = 0
    block = b"x" * (1 << 20)
    for length in ("-1", str(1 << 40)):  # read(-1) would have read to EOF
        with connect(bot) as sock:
            sock.sendall(head([f"Content-Length: {length}"]))
            assert read_response(sock)[0] in (400, 413)
            try:
                for _ in range(64):  # offer 64 MiB
                    sock.sendall(block)
                    sent += len(block)
            except OSError:
                pass  # reset or broken pipe: the server closed without reading
    # At most what the socket buffers hold reached the server before it hung up.
    assert sent < 16 << 20
    assert rss_kib(bot.process.pid) - before < 8 << 10


def test_exactly_content_length_is_read(bot: Bot) -> None:
    """A request pipelined after a POST's body is answered as a request of its own: the
    POST consumed its Content-Length, no more."""
    body = slash_body("help", "http://127.0.0.1:9/unused")
    headers = signed_headers(body)
    lines = [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(body)}"]
    follow = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as sock:
        sock.sendall(head(lines) + body.encode() + follow)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    first, second = data.split(b"HTTP/1.1 ")[1:3]
    assert first.startswith(b"200") and b"container" in first  # help, in the ack
    assert second.split(b" ", 1)[0] in (b"200", b"503") and b'"status"' in second
