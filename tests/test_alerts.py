"""Alerts from the engine's event stream: fast, batched, once, and through an engine restart."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig


@pytest.fixture
def watched(rig: Rig, fake_slack: FakeSlack, log_dir: Path) -> Iterator[tuple[Engine, Bot]]:
    engine = rig.engine(f"events-{time.monotonic_ns()}")
    engine.import_busybox()
    store = RedisServer(rig.root / f"redis-events-{time.monotonic_ns()}")
    store.start()
    try:
        bot = start_bot(
            log_dir,
            DOCKER_HOST=engine.url,
            REDIS_URL=store.url,
            SLACK_API_URL=fake_slack.api_url,
            DOCKHAND_ALERT_CHANNEL="C_ALERTS",
        )
        try:
            time.sleep(1.0)  # the watcher is following the stream
            yield engine, bot
        finally:
            bot.stop()
    finally:
        # Whatever the bot's stop raised: this Redis and engine are the test's own to stop.
        store.stop()
        engine.stop()


def alerts(fake: FakeSlack) -> list[Call]:
    return fake.find(
        lambda c: c.method == "chat.postMessage" and c.body.get("channel") == "C_ALERTS"
    )


def finished_at(engine: Engine, name: str) -> float:
    text = engine.cli("inspect", "-f", "{{.State.FinishedAt}}", name).stdout.strip()
    return datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00").timestamp()


def test_death_to_alert_is_fast_and_said_once(
    watched: tuple[Engine, Bot], fake_slack: FakeSlack
) -> None:
    engine, _ = watched
    engine.cli("run", "-d", "--name", "crasher", TEST_IMAGE, "sh", "-c", "sleep 0.5; exit 5")
    posted = fake_slack.wait_for(
        lambda c: (
            c.body.get("channel") == "C_ALERTS"
            and "crasher died (exit code 5)" in c.body.get("text", "")
        ),
        10,
    )
    assert posted.wall - finished_at(engine, "crasher") < 2.0
    time.sleep(1.5)
    assert sum("crasher" in c.body["text"] for c in alerts(fake_slack)) == 1


def test_a_burst_is_one_message(watched: tuple[Engine, Bot], fake_slack: FakeSlack) -> None:
    engine, _ = watched
    names = [f"burst{n}" for n in range(8)]
    for name in names:
        engine.cli("run", "-d", "--name", name, TEST_IMAGE, "sleep", "300")
    engine.cli("kill", *names)
    message = fake_slack.wait_for(
        lambda c: c.body.get("channel") == "C_ALERTS" and "8 alerts" in c.body.get("text", ""), 10
    )
    assert all(f"{name} died (exit code 137)" in message.body["text"] for name in names)
    time.sleep(1.0)
    assert len(alerts(fake_slack)) == 1


def test_engine_restart_neither_loses_nor_repeats(
    watched: tuple[Engine, Bot], fake_slack: FakeSlack
) -> None:
    engine, _ = watched
    engine.cli("run", "-d", "--name", "before", TEST_IMAGE, "sh", "-c", "exit 2")
    fake_slack.wait_for(lambda c: "before died" in c.body.get("text", ""), 10)
    engine.stop()
    time.sleep(1.0)
    engine.start()
    engine.cli("run", "-d", "--name", "after", TEST_IMAGE, "sh", "-c", "sleep 0.5; exit 4")
    fake_slack.wait_for(lambda c: "after died (exit code 4)" in c.body.get("text", ""), 20)
    time.sleep(1.5)
    texts = json.dumps([c.body["text"] for c in alerts(fake_slack)])
    assert texts.count("before died") == 1 and texts.count("after died") == 1


def test_muted_container_stays_quiet(watched: tuple[Engine, Bot], fake_slack: FakeSlack) -> None:
    engine, bot = watched
    from tests.helpers import signed_headers, slash_body

    body = slash_body("mute noisy 1h", fake_slack.response_url("mute"))
    assert bot.post(body, signed_headers(body)).status_code == 200
    fake_slack.wait_for(lambda c: "muted for 1h" in json.dumps(c.body), 10)
    body = slash_body("mute label=team=quiet 1h", fake_slack.response_url("mute2"))
    assert bot.post(body, signed_headers(body)).status_code == 200
    fake_slack.wait_for(lambda c: "label=team=quiet muted" in json.dumps(c.body), 10)
    engine.cli(
        "run", "-d", "--name", "labelled", "-l", "team=quiet", TEST_IMAGE, "sh", "-c", "exit 7"
    )
    engine.cli("run", "-d", "--name", "noisy", TEST_IMAGE, "sh", "-c", "exit 9")

    engine.cli("run", "-d", "--name", "loud", TEST_IMAGE, "sh", "-c", "sleep 0.3; exit 8")
    fake_slack.wait_for(lambda c: "loud died" in c.body.get("text", ""), 10)
    time.sleep(1.0)
    said = json.dumps([c.body["text"] for c in alerts(fake_slack)])
    assert "noisy" not in said and "labelled" not in said and "loud died" in said
