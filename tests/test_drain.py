"""SIGTERM drains: /healthz turns 503 at once while the port stays open, new commands are
refused with a message, work in flight gets its grace; an attached run that outlives it is
detached (left running) and its requester told the container ID and how to follow it; the
scheduler lease goes back."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import redis
import requests

from jobs.leader import KEY as LEASE
from tests.fake_slack import FakeSlack
from tests.helpers import signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer

GRACE = 4.0


def test_sigterm_during_a_long_run_drains_with_the_port_open(
    clean_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    bot = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_SHUTDOWN_GRACE=str(GRACE),
    )
    healthz = f"http://127.0.0.1:{bot.port}/healthz"
    try:
        assert requests.get(healthz, timeout=10).status_code == 200
        body = slash_body(f"run --name slow {TEST_IMAGE} sleep 30", fake_slack.response_url("run"))
        assert bot.post(body, signed_headers(body)).status_code == 200
        deadline = time.monotonic() + 10
        while "slow" not in clean_engine.cli("ps", "--format", "{{.Names}}").stdout:
            assert time.monotonic() < deadline, "the container never started"
            time.sleep(0.2)
        assert redis.Redis.from_url(redis_server.url).get(LEASE) is not None  # it leads

        sent = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # During the grace: the port answers, and says 503 with why (loopback sees detail).
        draining = requests.get(healthz, timeout=5)
        assert draining.status_code == 503
        assert draining.json()["status"] == "unavailable"
        assert "draining" in draining.json()["shutdown"]
        # A new command is refused in its ack, with a message; nothing of it runs.
        body = slash_body("ps -a", fake_slack.response_url("late"))
        refused = bot.post(body, signed_headers(body))
        assert refused.status_code == 200
        assert "takes no new commands" in refused.json()["text"]
        assert refused.json()["response_type"] == "ephemeral"
        time.sleep(GRACE - 1.5)
        assert bot.process.poll() is None  # still within the grace
        assert requests.get(healthz, timeout=5).status_code == 503

        bot.process.wait(timeout=20)
        assert time.monotonic() - sent < GRACE + 10
        # The run outlived the grace: detached, not killed, and its requester told the
        # container's ID and how to follow it, once.
        container = clean_engine.cli("inspect", "-f", "{{.Id}}", "slow").stdout.strip()
        assert clean_engine.cli("inspect", "-f", "{{.State.Running}}", "slow").stdout == "true\n"
        told = fake_slack.wait_for(lambda c: "left running" in json.dumps(c.body), 5)
        said = json.dumps(told.body)
        assert f"container ID {container[:12]}" in said and "logs" in said, said
        assert "slow" in said
        assert len(fake_slack.find(lambda c: "left running" in json.dumps(c.body))) == 1
        assert not fake_slack.find(lambda c: "interrupted" in json.dumps(c.body))
        assert not fake_slack.find(lambda c: c.path == "/response/late")
        assert redis.Redis.from_url(redis_server.url).get(LEASE) is None
    except AssertionError:
        print(bot.log.read_text()[-6000:])
        raise
    finally:
        bot.stop()


def test_sigterm_when_idle_stops_at_once(
    engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    bot = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_SHUTDOWN_GRACE="20",
    )
    try:
        sent = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(timeout=15) == 0
        assert time.monotonic() - sent < 5  # nothing in flight: no grace spent
    finally:
        bot.stop()
