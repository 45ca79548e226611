"""Supervised background work against the rig: the alert watcher and sender live through
Redis and Slack outages, show as down on /healthz meanwhile, and still say each alert once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig, free_port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)


class Gate:
    """A TCP relay on a fixed loopback port to the fake Slack: closed, it refuses connections
    (nothing listens), as a Slack that cannot be reached does."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.open()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def open(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def close(self) -> None:
        if self.listener is not None:
            # shutdown wakes the thread blocked in accept(): close alone leaves it accepting
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def alerts_saying(fake: FakeSlack, text: str) -> list[Call]:
    return fake.find(
        lambda c: (
            c.method == "chat.postMessage"
            and c.body.get("channel") == "C_ALERTS"
            and text in c.body.get("text", "")
        )
    )


def last_words(bot: Bot) -> str:
    """The bot's log without the probes' own noise, to see why a test failed."""
    noise = ("_ping", "dockhand.http", "DEBUG redis", "GET /v1")
    lines = [line for line in bot.log.read_text().splitlines() if not any(n in line for n in noise)]
    return "\n".join(lines[-80:])


def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    answer = requests.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=10)
    return answer.status_code, answer.json()


def component(bot: Bot, name: str) -> str:
    time.sleep(0.2)  # polled: keep the bot's log readable
    return str(health(bot)[1].get("components", {}).get(name, "missing"))


def metric(bot: Bot, line_start: str) -> float:
    text = requests.get(f"http://127.0.0.1:{bot.port}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rpartition(" ")[2])
    return -1.0


@pytest.fixture
def watched_engine(rig: Rig) -> Iterator[Engine]:
    engine = rig.engine(f"supervised-{time.monotonic_ns()}")
    engine.import_busybox()
    yield engine
    engine.stop()


@pytest.fixture
def own_redis(rig: Rig) -> Iterator[RedisServer]:
    store = RedisServer(rig.root / f"redis-supervised-{time.monotonic_ns()}")
    store.start()
    yield store
    store.stop()


def test_watcher_survives_redis_dying_as_a_container_dies(
    watched_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    bot = start_bot(
        log_dir,
        DOCKER_HOST=watched_engine.url,
        REDIS_URL=own_redis.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_ALERT_CHANNEL="C_ALERTS",
    )
    try:
        wait_until(lambda: component(bot, "events-local") == "ok", 10, "watcher up")
        assert metric(bot, 'dockhand_component_up{name="events-local"}') == 1.0
        assert own_redis.process is not None
        os.kill(own_redis.process.pid, signal.SIGKILL)
        own_redis.process.popen.wait(10)
        own_redis.process = None
        watched_engine.cli("run", "-d", "--name", "gone", TEST_IMAGE, "sh", "-c", "exit 3")

        wait_until(lambda: component(bot, "events-local") != "ok", 15, "watcher shown down")
        status, detail = health(bot)
        assert status == 503 and "Redis unreachable" in detail["components"]["events-local"]
        assert metric(bot, 'dockhand_component_up{name="events-local"}') == 0.0
        time.sleep(2.0)  # a few retries while Redis stays down
        assert not alerts_saying(fake_slack, "gone died")

        own_redis.start()  # same port, empty: no persistence
        wait_until(lambda: component(bot, "events-local") == "ok", 20, "watcher up again")
        fake_slack.wait_for(
            lambda c: (
                c.body.get("channel") == "C_ALERTS"
                and "gone died (exit code 3)" in c.body.get("text", "")
            ),
            15,
        )
        wait_until(lambda: health(bot)[0] == 200, 20, "healthy again")
        # The watcher still works, and nothing was said twice.
        watched_engine.cli("run", "-d", "--name", "later", TEST_IMAGE, "sh", "-c", "exit 4")
        fake_slack.wait_for(lambda c: "later died (exit code 4)" in c.body.get("text", ""), 15)
        time.sleep(1.5)
        assert len(alerts_saying(fake_slack, "gone died")) == 1
        assert len(alerts_saying(fake_slack, "later died")) == 1
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()


def test_sender_survives_slack_refusing_connections(
    watched_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    host, port = fake_slack.server.server_address[:2]
    gate = Gate((str(host), int(port)))
    bot = start_bot(
        log_dir,
        DOCKER_HOST=watched_engine.url,
        REDIS_URL=own_redis.url,
        SLACK_API_URL=gate.api_url,
        DOCKHAND_ALERT_CHANNEL="C_ALERTS",
    )
    try:
        wait_until(lambda: component(bot, "outbox") == "ok", 10, "outbox up")
        time.sleep(0.5)
        gate.close()
        watched_engine.cli("run", "-d", "--name", "unsaid", TEST_IMAGE, "sh", "-c", "exit 6")
        # The alert waits in the outbox, which shows as down while Slack cannot be reached.
        wait_until(lambda: component(bot, "outbox") != "ok", 20, "outbox shown down")
        assert health(bot)[0] == 503
        time.sleep(4.0)  # Slack stays unreachable a while longer
        gate.open()
        fake_slack.wait_for(lambda c: "unsaid died (exit code 6)" in c.body.get("text", ""), 20)
        wait_until(lambda: component(bot, "outbox") == "ok", 10, "outbox up again")
        # Still alive: the next alert goes out too, and each was said once.
        watched_engine.cli("run", "-d", "--name", "next", TEST_IMAGE, "sh", "-c", "exit 2")
        fake_slack.wait_for(lambda c: "next died (exit code 2)" in c.body.get("text", ""), 15)
        time.sleep(1.5)
        said = json.dumps([c.body.get("text") for c in alerts_saying(fake_slack, "died")])
        assert said.count("unsaid died") == 1 and said.count("next died") == 1
        assert metric(bot, "dockhand_slack_retries_total") >= 1
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()
        gate.close()
