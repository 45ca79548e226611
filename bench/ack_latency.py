"""Ack latency of `dockhand serve` under load: N signed slash commands sent at once over HTTP,
while M pulls from the local registry are in flight, beside a baseline with no pulls.

Prints p50/p99/max ack latency and checks every command got exactly one final reply.
Writes docs/bench-ack.md. Run: python3 bench/ack_latency.py [N] [M]
"""

from __future__ import annotations

import json
import multiprocessing
import os
import selectors
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish
from tests.fake_slack import FakeSlack
from tests.helpers import signed_headers, slash_body, start_bot
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, Rig

ROUNDS = 5


def final_edits(fake: FakeSlack) -> int:
    return len(fake.find(lambda c: c.method == "chat.update" and bool(c.body.get("blocks"))))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _raw_request(port: int, body: str) -> bytes:
    headers = signed_headers(body)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
        f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}"
    ).encode()


def _send_all(port: int, payloads: list[bytes], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """In a process of its own, so the load generator does not share the bot's GIL; and in
    one thread with a selector, so no client thread waits for a GIL of its own before it
    notes the time an answer arrived."""
    n = len(payloads)
    latencies: list[float] = [0.0] * n
    statuses: list[str] = [""] * n
    selector = selectors.DefaultSelector()
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(n)]
    sent: list[float] = [0.0] * n
    for i, conn in enumerate(conns):
        sent[i] = time.perf_counter()
        conn.sendall(payloads[i])
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ, i)
    pending = n
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1.0):
            now = time.perf_counter()
            i = key.data
            first = key.fileobj.recv(64)  # type: ignore[union-attr]
            latencies[i] = (now - sent[i]) * 1000
            statuses[i] = first.split(b" ")[1].decode() if b" " in first else "?"
            selector.unregister(key.fileobj)
            pending -= 1
    for conn in conns:
        conn.close()
    out.put((latencies, statuses))


def burst(port: int, fake: FakeSlack, n: int, tag: str) -> list[float]:
    """n signed commands sent at the same instant; the latency of each ack, in ms."""
    payloads = [
        _raw_request(port, slash_body("version", fake.response_url(f"{tag}-{i}"), user=f"U{i}"))
        for i in range(n)
    ]
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.get_context("fork").Process(
        target=_send_all, args=(port, payloads, queue)
    )
    child.start()
    latencies, statuses = queue.get(timeout=120)
    child.join()
    assert all(s == "200" for s in statuses), statuses
    return list(latencies)


def replies_per_command(fake: FakeSlack, tag: str, n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = [len(fake.find(lambda c, i=i: c.path == f"/response/{tag}-{i}")) for i in range(n)]
        if all(counts):
            time.sleep(1.0)  # a duplicate would arrive within this
            return [
                len(fake.find(lambda c, i=i: c.path == f"/response/{tag}-{i}")) for i in range(n)
            ]
        time.sleep(0.2)
    return counts


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rig = Rig()
    fake = FakeSlack().start()
    bot = None
    try:
        engine = rig.engine()
        registry = rig.registry()
        redis = rig.redis()
        references = []
        for i in range(m):
            reference = f"{registry.address}/bench/img{i}:1.0"
            engine.import_busybox(reference, extra=os.urandom(24 << 20))
            references.append(reference)
        engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
        for reference in references:
            engine.cli("push", reference)
            engine.cli("rmi", reference)
        credentials = {registry.address: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}}
        logs = rig.root / "logs"
        logs.mkdir()
        bot = start_bot(
            logs,
            DOCKER_HOST=engine.url,
            REDIS_URL=redis.url,
            SLACK_API_URL=fake.api_url,
            DOCKHAND_LOG_LEVEL="WARNING",
            DOCKHAND_REGISTRY_CREDENTIALS=json.dumps(credentials),
        )
        burst(bot.port, fake, n, "warm")  # fills thread and connection pools
        replies_per_command(fake, "warm", n)

        rounds: list[tuple[str, list[float], list[int]]] = []
        pulls_done = in_flight_all = 0
        for r in range(ROUNDS):
            tag = f"base{r}"
            rounds.append(
                (
                    "baseline (no pulls)",
                    burst(bot.port, fake, n, tag),
                    replies_per_command(fake, tag, n),
                )
            )
            for i, reference in enumerate(references):
                body = slash_body(f"pull {reference}", fake.response_url(f"pull-{r}-{i}"))
                assert bot.post(body, signed_headers(body)).status_code == 200
            time.sleep(0.3)
            done_before = final_edits(fake)
            tag = f"load{r}"
            rounds.append(
                (
                    f"with {m} pulls in flight",
                    burst(bot.port, fake, n, tag),
                    replies_per_command(fake, tag, n),
                )
            )
            in_flight_all += (m * (r + 1)) - done_before
            deadline = time.monotonic() + 120
            while final_edits(fake) < m * (r + 1) and time.monotonic() < deadline:
                time.sleep(0.2)
            pulls_done = final_edits(fake)
            for reference in references:
                engine.cli("rmi", reference, check=False)
            time.sleep(3.0)  # let the engine finish deleting layers before the next burst

    finally:
        if bot is not None:
            bot.stop()
        fake.stop()
        rig.stop()

    def row(name: str, values: list[float], replies: list[int]) -> str:
        exact = sum(1 for r in replies if r == 1)
        return (
            f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.99):.1f} | "
            f"{max(values):.1f} | {exact}/{len(replies)} |"
        )

    summary = []
    for kind in dict.fromkeys(name for name, _, _ in rounds):
        p99s = sorted(percentile(values, 0.99) for name, values, _ in rounds if name == kind)
        summary.append(
            f"| {kind} | {statistics.median(p99s):.1f} | {p99s[-1]:.1f} | "
            f"{sum(p < 100 for p in p99s)}/{len(p99s)} |"
        )

    text = "\n".join(
        [
            f"# Ack latency: {n} concurrent slash commands",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} by bench/ack_latency.py on this 2-core machine: "
            "`dockhand serve` (HTTP mode, Redis dedupe) with a private dockerd, a local "
            "registry and the fake Slack Web API. The load generator runs in a process of its "
            "own: it opens all connections first, writes the requests back to back from one "
            "thread, and times each from its send to the first byte of its answer with a "
            "selector, so no client thread queues for a GIL before it notes the time. Target: "
            f"p99 under 100 ms with {m} pulls in flight.",
            "",
            "| bursts | median p99 ms | worst p99 ms | rounds with p99 < 100 ms |",
            "| --- | ---: | ---: | ---: |",
            *summary,
            "",
            "| run | p50 ms | p99 ms | max ms | exactly one reply |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[
                row(f"{name}, round {k // 2 + 1}", values, replies)
                for k, (name, values, replies) in enumerate(rounds)
            ],
            "",
            f"Pulls finished with their final edit: {pulls_done}/{m * ROUNDS}; pulls still in "
            f"flight when their burst began: {in_flight_all}/{m * ROUNDS}.",
            "",
        ]
    )
    publish("bench-ack.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
