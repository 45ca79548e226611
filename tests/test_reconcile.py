"""Alerts through gaps and noise (issue 13, item 2): deaths while dockerd was down are alerted
once each after it is back, an unhealthy container is one finding whether the event watcher
or the health schedule sees it first, and a crash loop is one alert edited as deaths add up,
then one recovery message. Every post in the fake Slack is counted: nothing lost, nothing
twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig, wait_for

ALERTS = "C_ALERTS"
#: a crash loop is over once its container stays up this long
QUIET = 3


@pytest.fixture(scope="module")
def gap_rig(rig: Rig) -> Iterator[tuple[Engine, RedisServer]]:
    engine = rig.engine(f"gaps-{time.monotonic_ns()}")
    engine.import_busybox()
    store = RedisServer(rig.root / f"redis-gaps-{time.monotonic_ns()}")
    store.start()
    yield engine, store
    store.stop()
    engine.stop()


@pytest.fixture
def watching(
    gap_rig: tuple[Engine, RedisServer], fake_slack: FakeSlack, log_dir: Path
) -> Iterator[tuple[Engine, Bot]]:
    engine, store = gap_rig
    engine.remove_all_containers()
    # Each test from scratch: no schedules, claims or last known state of the one before.
    redis.Redis.from_url(store.url).flushdb()
    bot = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=store.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_ALERT_CHANNEL=ALERTS,
        DOCKHAND_RESTART_LOOP_SECONDS=str(QUIET),
    )
    try:
        wait_for(lambda: "reconcile of local" in bot.log.read_text(), 10, "the first look")
        yield engine, bot
    finally:
        bot.stop()
        print(bot.log.read_text()[-8000:])  # shown when the test fails


def posts(fake: FakeSlack) -> list[Call]:
    return fake.find(lambda c: c.method == "chat.postMessage")


def said_so_far(fake: FakeSlack) -> str:
    return "\n".join(str(c.body.get("text", "")) for c in posts(fake))


def saying(fake: FakeSlack, text: str, method: str = "chat.postMessage") -> list[Call]:
    return fake.find(lambda c: c.method == method and text in json.dumps(c.body))


def test_deaths_while_the_engine_is_down_are_alerted_once_each(
    watching: tuple[Engine, Bot], fake_slack: FakeSlack
) -> None:
    engine, _ = watching
    # Each dies while dockerd is down (no die event is ever sent for that), except `killed`:
    # the engine kills it as it comes back (a die event, and the reconcile sees it too).
    engine.cli("run", "-d", "--name", "dies", TEST_IMAGE, "sh", "-c", "sleep 2; exit 3")
    engine.cli(
        "run", "-d", "--name", "revived", "--restart", "always", TEST_IMAGE,
        "sh", "-c", "[ -f /once ] && exec sleep 300; touch /once; sleep 2; exit 4",
    )  # fmt: skip
    engine.cli("run", "-d", "--name", "clean", TEST_IMAGE, "sh", "-c", "sleep 2; exit 0")
    engine.cli("run", "-d", "--name", "killed", TEST_IMAGE, "sleep", "300")
    engine.kill()
    time.sleep(3.5)  # they die now, unseen
    engine.start()
    expected = [
        "dies died (exit code 3) while Dockhand could not watch",
        "revived died (exit code unknown: it runs again) while Dockhand could not watch the "
        "engine; its restart policy started it again",
        "killed died (exit code 137)",
    ]
    for text in expected:
        wait_for(lambda t=text: t in said_so_far(fake_slack), 30, text)  # type: ignore[misc]
    time.sleep(2.0)  # anything said twice would be out by now
    said = json.dumps([c.body.get("text", "") for c in posts(fake_slack)])
    for name in ("dies", "revived", "killed"):
        assert said.count(f"{name} died") == 1, said
    assert "clean" not in said  # a clean exit is no alert
    assert all(c.body.get("channel") == ALERTS for c in posts(fake_slack))


def test_an_unhealthy_container_is_one_finding(
    watching: tuple[Engine, Bot], fake_slack: FakeSlack
) -> None:
    engine, bot = watching
    body = slash_body("schedule health --every 1s", fake_slack.response_url("add"))
    assert bot.post(body, signed_headers(body)).status_code == 200
    fake_slack.wait_for(lambda c: "scheduled health" in json.dumps(c.body), 10)
    engine.cli(
        "run", "-d", "--name", "sick", "--health-cmd", "false", "--health-interval", "1s",
        "--health-retries", "1", TEST_IMAGE, "sleep", "300",
    )  # fmt: skip
    fake_slack.wait_for(lambda c: "sick is unhealthy" in json.dumps(c.body), 15)
    time.sleep(3.5)  # three more health passes, and the watcher
    assert len(saying(fake_slack, "sick is unhealthy")) == 1


def test_a_crash_loop_is_one_alert_edited_then_one_recovery(
    watching: tuple[Engine, Bot], fake_slack: FakeSlack
) -> None:
    engine, _ = watching
    # Dies at once four times (the engine restarts it after 0.1, 0.2, 0.4, 0.8 s), then
    # stays up: a 120 s crash loop compressed.
    engine.cli(
        "run", "-d", "--name", "flappy", "--restart", "always", TEST_IMAGE, "sh", "-c",
        "echo x >> /deaths; [ $(wc -l < /deaths) -ge 5 ] && exec sleep 300; exit 1",
    )  # fmt: skip
    recovered = fake_slack.wait_for(lambda c: "flappy recovered" in json.dumps(c.body), 20 + QUIET)
    time.sleep(1.5)
    said = [c for c in posts(fake_slack) if "flappy" in json.dumps(c.body)]
    # The first death, and the recovery: two posts, no more.
    assert len(said) == 2, [c.body.get("text") for c in said]
    first = said[0]
    assert "flappy died (exit code 1)" in first.body["text"]
    assert "up for" in recovered.body["text"] and "after 4 deaths" in recovered.body["text"]
    edits = fake_slack.find(lambda c: c.method == "chat.update" and "flappy" in json.dumps(c.body))
    assert edits and all(e.body["ts"] == first.answer["ts"] for e in edits)
    last = edits[-1].body["text"]
    assert "4 deaths" in last and "last exit code 1" in last and "up again" in last
    restarts = engine.cli("inspect", "-f", "{{.RestartCount}}", "flappy").stdout.strip()
    assert restarts == "4"
