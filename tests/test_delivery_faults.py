"""Delivery under faults, against the rig: every command's final reply and every alert reaches
Slack exactly once through 429 runs, 500s, a Slack that refuses connections for 30 s, and a
Redis that is killed (audit entries spooled, retried requests still run once, commands that
need Redis say so) or comes back empty (its schedules reported lost in their channels)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.1)


def delivered(fake: FakeSlack, text: str, method: str = "chat.postMessage") -> list[Call]:
    """Calls Slack took (answered ok) whose payload says `text`."""
    return fake.find(lambda c: c.method == method and c.ok and text in json.dumps(c.body))


def tried(fake: FakeSlack, text: str) -> list[Call]:
    return fake.find(lambda c: text in json.dumps(c.body))


def send(bot: Bot, fake: FakeSlack, text: str, key: str, channel: str = "C1") -> str:
    body = slash_body(text, fake.response_url(key), channel=channel)
    started = time.monotonic()
    answer = bot.post(body, signed_headers(body))
    assert answer.status_code == 200 and time.monotonic() - started < 3
    return body


def kill(store: RedisServer) -> None:
    assert store.process is not None
    os.kill(store.process.popen.pid, signal.SIGKILL)
    store.process.popen.wait(10)
    store.process = None


def last_words(bot: Bot) -> str:
    noise = ("_ping", "dockhand.http", "DEBUG", "GET /v1")
    lines = [line for line in bot.log.read_text().splitlines() if not any(n in line for n in noise)]
    return "\n".join(lines[-60:])


@pytest.fixture
def own_redis(rig: Rig) -> Iterator[RedisServer]:
    store = RedisServer(rig.root / f"redis-delivery-{time.monotonic_ns()}")
    store.start()
    yield store
    store.stop()


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def start(
    engine: Engine, store: RedisServer, fake: FakeSlack, log_dir: Path, spool: Path, **env: str
) -> Bot:
    return start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=store.url,
        SLACK_API_URL=fake.api_url,
        DOCKHAND_ALERT_CHANNEL="C_ALERTS",
        DOCKHAND_SPOOL_DIR=str(spool),
        DOCKHAND_WORKERS="8",
        **env,
    )


def test_429_runs_500s_and_a_cut_connection_deliver_each_result_and_alert_once(
    clean_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    bot = start(clean_engine, own_redis, fake_slack, log_dir, spool)
    try:
        time.sleep(1.0)  # the watcher is following the engine's events
        fake_slack.fail_many("chat.postMessage", 429, 3, {"Retry-After": "1"})
        fake_slack.fail_many("chat.postMessage", 500, 2)
        fake_slack.fail_many("chat.postMessage", 429, 2, {"Retry-After": "2"})
        fake_slack.drop_next("chat.postMessage", 1.0)  # held, then cut without an answer
        names = [f"burst{n}" for n in range(6)]
        for name in names:
            send(bot, fake_slack, f"run -d --name {name} {TEST_IMAGE} sleep 300", name)
        clean_engine.cli("run", "-d", "--name", "dies", TEST_IMAGE, "sh", "-c", "exit 3")
        for name in names:
            wait_until(lambda n=name: bool(delivered(fake_slack, f"started {n}")), 40, name)
        wait_until(lambda: bool(delivered(fake_slack, "dies died (exit code 3)")), 40, "alert")
        time.sleep(2)  # anything sent twice would have come by now
        for name in names:
            assert len(delivered(fake_slack, f"started {name}")) == 1, name
        assert len(delivered(fake_slack, "dies died (exit code 3)")) == 1
        # Retry-After was honoured: after a 429 the same channel heard nothing for its wait.
        posts = fake_slack.find(lambda c: c.method == "chat.postMessage")
        assert [c.status for c in posts].count(0) == 1  # the cut one was tried again
        for limited, following in itertools.pairwise(posts):
            channel = limited.body.get("channel")
            if limited.status == 429 and following.body.get("channel") == channel:
                assert following.at - limited.at >= 0.95, (limited.body, following.body)
        # Each "received" note is cleared only after its result is in the channel.
        for name in names:
            result = delivered(fake_slack, f"started {name}")[0]
            cleared = fake_slack.find(
                lambda c, n=name: c.path == f"/response/{n}" and bool(c.body.get("delete_original"))
            )
            assert all(c.at > result.at for c in cleared)
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()


def test_slack_refusing_connections_for_30_s_loses_nothing(
    clean_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    bot = start(clean_engine, own_redis, fake_slack, log_dir, spool)
    try:
        time.sleep(1.0)
        fake_slack.refuse_for(30)
        outage = time.monotonic()
        names = [f"dark{n}" for n in range(4)]
        for name in names:  # acks do not need Slack's Web API: still fast
            send(bot, fake_slack, f"run -d --name {name} {TEST_IMAGE} sleep 300", name)
        clean_engine.cli("run", "-d", "--name", "unseen", TEST_IMAGE, "sh", "-c", "exit 5")
        wait_until(lambda: time.monotonic() - outage > 30.5, 40, "the outage")
        for name in names:
            wait_until(lambda n=name: bool(delivered(fake_slack, f"started {n}")), 30, name)
        wait_until(lambda: bool(delivered(fake_slack, "unseen died (exit code 5)")), 30, "alert")
        time.sleep(1.5)  # anything sent twice would have come by now
        for name in names:
            assert len(tried(fake_slack, f"started {name}")) == 1, name  # nothing doubled
        assert len(tried(fake_slack, "unseen died")) == 1
        assert all(c.at - outage >= 29.5 for c in fake_slack.calls if c.path != "/api/auth.test")
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()


def test_redis_killed_audit_spooled_dedupe_kept_and_commands_told(
    clean_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    bot = start(clean_engine, own_redis, fake_slack, log_dir, spool)
    try:
        first = send(bot, fake_slack, f"run -d --name once {TEST_IMAGE} sleep 300", "once")
        wait_until(lambda: bool(delivered(fake_slack, "started once")), 20, "first result")
        kill(own_redis)
        # Slack resends the same command (X-Slack-Retry-Num) while Redis is down: it runs once.
        headers = {**signed_headers(first), "X-Slack-Retry-Num": "1"}
        assert bot.post(first, headers).status_code == 200
        # A Docker-only command still works; a Redis one says what is down and what works.
        send(bot, fake_slack, f"run -d --name offline {TEST_IMAGE} sleep 300", "offline")
        send(bot, fake_slack, "schedule ls", "sched")
        wait_until(lambda: bool(delivered(fake_slack, "started offline")), 30, "offline result")
        told = fake_slack.wait_for(lambda c: c.path == "/response/sched" and "blocks" in c.body)
        said = json.dumps(told.body)
        assert "store (Redis) is unreachable" in said and "still work" in said
        assert "Sorry" not in said
        time.sleep(2)
        assert len(tried(fake_slack, "started once")) == 1
        assert clean_engine.cli("ps", "-a", "--filter", "name=once", "-q").stdout.count("\n") == 1
        assert list((spool / "audit").glob("*.json")), "audit entries spooled on disk"

        own_redis.start()  # empty: no persistence
        client = redis.Redis.from_url(own_redis.url)

        def audited() -> list[str]:
            return [f[b"text"].decode() for _, f in client.xrange("dockhand:audit")]

        wait_until(lambda: any("offline" in t for t in audited()), 20, "spooled audit written")
        texts = audited()
        assert any("schedule ls" in t for t in texts)
        assert not list((spool / "audit").glob("*.json"))
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()


@pytest.mark.parametrize("aof", [False, True], ids=["without-aof", "with-aof"])
def test_redis_restart_reports_schedules_it_erased(
    aof: bool, rig: Rig, clean_engine: Engine, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    store = RedisServer(rig.root / f"redis-epoch-{time.monotonic_ns()}", appendonly=aof)
    store.start()
    bot = start(clean_engine, store, fake_slack, log_dir, spool)
    try:
        send(bot, fake_slack, "schedule health --every 1h", "add", channel="C_OPS")
        made = fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and "schedule" in json.dumps(c.body), 20
        )
        time.sleep(2.5)  # the epoch check has copied the schedule list (every 2 s), AOF synced
        kill(store)
        store.start()
        if aof:
            time.sleep(5)  # two checks
            assert not fake_slack.find(lambda c: "is gone" in json.dumps(c.body))
            assert redis.Redis.from_url(store.url).hlen("dockhand:schedules") == 1
            return
        report = fake_slack.wait_for(lambda c: "is gone" in json.dumps(c.body) and c.ok, 20)
        assert report.body["channel"] == made.body["channel"] == "C_OPS"
        assert "came back empty" in report.body["text"] and "<@U1>" in report.body["text"]
        time.sleep(4.5)  # the next checks say nothing more
        assert len(fake_slack.find(lambda c: "is gone" in json.dumps(c.body))) == 1
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()
        store.stop()


def test_a_burst_of_results_keeps_to_slacks_rates(
    clean_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    """Ten changes at once in one channel: the stand-in answers 429 past about one post a
    second per channel, as Slack does; the per-channel budget never trips it, and each result
    arrives once."""
    fake_slack.rate_limits = True
    bot = start(clean_engine, own_redis, fake_slack, log_dir, spool)
    try:
        names = [f"rush{n}" for n in range(10)]
        for name in names:
            send(bot, fake_slack, f"run -d --name {name} {TEST_IMAGE} sleep 300", name)
        for name in names:
            wait_until(lambda n=name: bool(delivered(fake_slack, f"started {n}")), 40, name)
        time.sleep(1)
        assert not fake_slack.limited, [c.method for c in fake_slack.limited]
        for name in names:
            assert len(tried(fake_slack, f"started {name}")) == 1, name
    except AssertionError:
        print(last_words(bot))
        raise
    finally:
        bot.stop()


def test_a_result_queued_when_the_bot_restarts_is_delivered_by_the_next_one(
    clean_engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path, spool: Path
) -> None:
    """Slack unreachable, the bot restarted (its grace too short to deliver): the result
    waits in the Redis stream and the next process on this host takes it over at once."""
    first = start(clean_engine, own_redis, fake_slack, log_dir, spool, DOCKHAND_SHUTDOWN_GRACE="1")
    second: Bot | None = None
    try:
        time.sleep(0.5)
        fake_slack.refuse_for(6)
        outage = time.monotonic()
        send(first, fake_slack, f"run -d --name handed {TEST_IMAGE} sleep 300", "handed")
        wait_until(
            lambda: bool(clean_engine.cli("ps", "-q", "--filter", "name=handed").stdout), 15, "run"
        )
        time.sleep(1)
        first.stop()
        # Bolt checks the token (auth.test) as it starts: the next process starts once Slack
        # answers again, and finds the result still waiting.
        wait_until(lambda: time.monotonic() - outage > 6.5, 15, "the outage")
        assert not delivered(fake_slack, "started handed")
        second = start(clean_engine, own_redis, fake_slack, log_dir, spool)
        wait_until(lambda: bool(delivered(fake_slack, "started handed")), 30, "handed over")
        time.sleep(2)
        assert len(tried(fake_slack, "started handed")) == 1
        assert "taken over" in second.log.read_text()
    except AssertionError:
        print(last_words(second or first))
        raise
    finally:
        first.stop()
        if second is not None:
            second.stop()
