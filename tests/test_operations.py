"""Operating Dockhand: /metrics, /healthz, SIGTERM in the middle of work, Slack's 429s."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from jobs.leader import KEY as LEASE
from tests.fake_slack import FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig, free_port


def command(bot: Bot, fake: FakeSlack, text: str, key: str) -> None:
    body = slash_body(text, fake.response_url(key))
    assert bot.post(body, signed_headers(body)).status_code == 200


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


@pytest.fixture
def bot(
    engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> Iterator[Bot]:
    started = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
    )
    yield started
    started.stop()


def test_metrics_move_after_commands(bot: Bot, fake_slack: FakeSlack) -> None:
    before = requests.get(f"http://127.0.0.1:{bot.port}/metrics", timeout=5).text
    for n in range(3):
        command(bot, fake_slack, "version", f"m{n}")
    command(bot, fake_slack, "pss", "typo")
    for n in range(3):
        fake_slack.wait_for(lambda c, n=n: c.path == f"/response/m{n}")
    time.sleep(0.3)
    after = requests.get(f"http://127.0.0.1:{bot.port}/metrics", timeout=5).text
    ok = ("dockhand_commands_total", {"verb": "system:version", "outcome": "ok"})
    assert metric(after, ok[0], **ok[1]) - metric(before, ok[0], **ok[1]) == 3
    assert metric(after, "dockhand_commands_total", outcome="invalid") >= 1
    assert (
        metric(after, "dockhand_ack_seconds_count") - metric(before, "dockhand_ack_seconds_count")
        >= 4
    )
    assert metric(after, "dockhand_execution_seconds_count", verb="system:version") >= 3


def test_healthz_follows_redis(
    rig: Rig, engine: Engine, fake_slack: FakeSlack, log_dir: Path
) -> None:
    own = RedisServer(rig.root / "redis-health")
    own.start()
    bot = start_bot(
        log_dir, DOCKER_HOST=engine.url, REDIS_URL=own.url, SLACK_API_URL=fake_slack.api_url
    )
    url = f"http://127.0.0.1:{bot.port}/healthz"
    try:
        healthy = requests.get(url, timeout=10)
        assert healthy.status_code == 200 and healthy.json()["engines"] == {"local": "ok"}
        own.stop()
        down = requests.get(url, timeout=20)
        assert down.status_code == 503 and down.json()["store"].startswith("unreachable")
        own.start()
        deadline = time.monotonic() + 20
        while requests.get(url, timeout=10).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert requests.get(url, timeout=10).status_code == 200
    finally:
        bot.stop()
        own.stop()


class StallingRegistry:
    """Accepts connections and never answers: a pull from it hangs for as long as we like."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_sigterm_during_a_long_pull(
    engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    stall = StallingRegistry()
    bot = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_SHUTDOWN_GRACE="2",
    )
    try:
        command(bot, fake_slack, f"pull 127.0.0.1:{stall.port}/slow/image:1.0", "pull")
        fake_slack.wait_for(lambda c: c.method == "chat.postMessage")
        time.sleep(1.0)  # the pull is now waiting on the registry
        assert redis.Redis.from_url(redis_server.url).get(LEASE) is not None  # it leads
        sent = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)

        bot.process.wait(timeout=15)
        took = time.monotonic() - sent
        assert took < 2 + 5, took
        edit = fake_slack.wait_for(
            lambda c: c.method == "chat.update" and "interrupted" in c.body.get("text", ""), 5
        )
        assert "pull 127.0.0.1" in edit.body["text"]
        # The scheduler lease went back on the way out: a standby can take over at once.
        assert redis.Redis.from_url(redis_server.url).get(LEASE) is None
    finally:
        bot.stop()
        stall.close()


def test_rate_limited_reply_arrives_once_after_the_wait(
    bot: Bot, fake_slack: FakeSlack, engine: Engine
) -> None:

    fake_slack.fail_next("chat.postMessage", 429, {"Retry-After": "1"})
    command(bot, fake_slack, f"run -d --name ratelimited {TEST_IMAGE} sleep 30", "rl")
    first = fake_slack.wait_for(lambda c: c.method == "chat.postMessage")
    posted = fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and c is not first, 15)
    assert posted.at - first.at >= 0.95
    time.sleep(1.5)
    attempts = fake_slack.find(lambda c: c.method == "chat.postMessage")
    assert len(attempts) == 2  # the refused one and the one that landed: exactly one reply
    assert "started ratelimited" in json.dumps(posted.body)
    requests.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=5)
    metrics = requests.get(f"http://127.0.0.1:{bot.port}/metrics", timeout=5).text
    assert metric(metrics, "dockhand_slack_retries_total") >= 1
    engine.cli("rm", "-f", "ratelimited")
