"""`dockhand serve` acks from a process of its own: with the worker process frozen (SIGSTOP),
signed commands are still acked within Slack's 3 s, refusals included, and the work runs once
the worker goes on. The two processes stop together, whichever goes first."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fake_slack import FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import Engine, RedisServer, wait_for

ACK_BUDGET = 3.0


def worker_of(bot: Bot) -> int:
    """The worker process `dockhand serve` started: named in its log, and its child."""
    pid = bot.process.pid
    assert str(bot.worker_pid) in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return bot.worker_pid


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


@pytest.fixture(params=["redis", "embedded"])
def bot(
    request: pytest.FixtureRequest,
    engine: Engine,
    redis_server: RedisServer,
    fake_slack: FakeSlack,
    log_dir: Path,
) -> Iterator[Bot]:
    store = {"REDIS_URL": redis_server.url} if request.param == "redis" else {}
    started = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_SHUTDOWN_GRACE="3",
        **store,
    )
    yield started
    started.stop()


def test_acks_come_while_the_worker_is_frozen(bot: Bot, fake_slack: FakeSlack) -> None:
    worker = worker_of(bot)
    assert worker != bot.process.pid
    os.kill(worker, signal.SIGSTOP)
    try:
        acks = {}
        for key, text in (("ps", "ps -a"), ("typo", "contianer ls"), ("denied", "system prune")):
            body = slash_body(
                text, fake_slack.response_url(key), user="U1" if key != "denied" else "U2"
            )
            sent = time.monotonic()
            answer = bot.post(body, signed_headers(body))
            assert time.monotonic() - sent < ACK_BUDGET, f"{text}: acked too late"
            assert answer.status_code == 200
            acks[key] = answer.json()
        assert acks["ps"]["response_type"] == "ephemeral" and "ps -a" in acks["ps"]["text"]
        # Refusals are still decided in the ack, without the worker.
        assert "unknown command" in acks["typo"]["text"] and "contianer" in acks["typo"]["text"]
        assert (
            "viewer" in json.dumps(acks["denied"])
            or "not allowed" in json.dumps(acks["denied"]).lower()
        )
        # A forged request is refused by the front alone.
        forged = slash_body("ps", fake_slack.response_url("forged"))
        assert bot.post(forged, signed_headers(forged, secret="wrong")).status_code == 401
        time.sleep(0.5)
        assert fake_slack.find(lambda c: c.path.startswith("/response/")) == []  # frozen
    finally:
        os.kill(worker, signal.SIGCONT)
    # The worker goes on: the acked command runs, once; the refused ones never do.
    reply = fake_slack.wait_for(lambda c: c.path == "/response/ps" and "blocks" in c.body, 30)
    assert "containers," in json.dumps(reply.body["blocks"])  # "N containers, M running"
    time.sleep(1.0)
    assert len(fake_slack.find(lambda c: c.path == "/response/ps")) == 1
    assert not fake_slack.find(lambda c: c.path in ("/response/typo", "/response/forged"))
    health = requests.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=15).json()
    assert health["worker"] == "ok"


def test_the_front_stops_when_its_worker_dies(bot: Bot) -> None:
    worker = worker_of(bot)
    os.kill(worker, signal.SIGKILL)
    # Not a front without a worker: it exits non-zero for the service manager to restart.
    assert bot.process.wait(timeout=20) == 1
    assert "worker process exited" in bot.log.read_text()


def test_the_worker_stops_when_its_front_dies(bot: Bot) -> None:
    worker = worker_of(bot)
    bot.process.send_signal(signal.SIGKILL)
    bot.process.wait(10)
    # End of file on its pipe: it drains (nothing in flight) and exits.
    wait_for(lambda: gone(worker), 20, "the worker's exit")
