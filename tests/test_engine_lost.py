"""The engine killed (SIGKILL, a crash) while a `run` waits on its container, through the
whole bot: the requester is told the connection to Docker was lost, while running what, and
the container's ID to look for, never the generic apology (issue 13, item 4)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.helpers import signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig


@pytest.fixture
def crashing_engine(rig: Rig) -> Iterator[Engine]:
    engine = rig.engine(f"lost-{time.monotonic_ns()}")
    engine.import_busybox()
    yield engine
    engine.stop()


def test_engine_killed_mid_run_names_the_container(
    crashing_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    engine = crashing_engine
    bot = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_RUN_WAIT="60",
    )
    try:
        body = slash_body(f"run --name doomed {TEST_IMAGE} sleep 60", fake_slack.response_url("r"))
        assert bot.post(body, signed_headers(body)).status_code == 200
        deadline = time.monotonic() + 15
        while "doomed" not in engine.cli("ps", "--format", "{{.Names}}").stdout:
            assert time.monotonic() < deadline, "the container never started"
            time.sleep(0.2)
        container = engine.cli("inspect", "-f", "{{.Id}}", "doomed").stdout.strip()
        time.sleep(0.5)
        engine.kill()
        told = fake_slack.wait_for(lambda c: "lost the connection" in json.dumps(c.body), 20)
        text = json.dumps(told.body)
        assert "lost the connection to Docker at local" in text
        assert "while running `run`" in text
        assert f"the container ID is {container[:12]}" in text and "`ps -a`" in text
        assert "Sorry" not in text and "Reference" not in text
        time.sleep(1.0)
        # Said once, to the requester (where their command was answered), nothing else.
        said = fake_slack.find(lambda c: "doomed" in json.dumps(c.body) or "lost" in str(c.body))
        assert len([c for c in said if "lost the connection" in json.dumps(c.body)]) == 1
        assert told.path == "/response/r" or told.body.get("channel") in {"C1", None}
    except AssertionError:
        print(bot.log.read_text()[-6000:])
        raise
    finally:
        bot.stop()
