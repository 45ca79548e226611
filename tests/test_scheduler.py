"""The embedded scheduler across processes: one leader, takeover after kill -9, schedules
that survive restarts, lost jobs noticed, and schedules made from chat that fire."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from jobs.schedules import JOBS_KEY, ScheduleRecord, Schedules
from tests.fake_slack import FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import Engine, RedisServer, Rig
from tests.tick_job import TICK

TTL = "3"


@pytest.fixture
def own_redis(rig: Rig) -> Iterator[RedisServer]:
    """A Redis of this test's own: leases and schedules must not leak between tests."""
    server = RedisServer(rig.root / f"redis-sched-{time.monotonic_ns()}")
    server.start()
    yield server
    server.stop()


def client_schedules(server: RedisServer) -> Schedules:
    return Schedules(redis.Redis.from_url(server.url), participate=False)


def ticks(store: redis.Redis, schedule_id: str) -> dict[int, int]:
    found = {}
    for key in store.scan_iter(f"dockhand:ticks:{schedule_id}:*"):
        tail = key.decode().rsplit(":", 1)[1]
        if tail.isdigit():
            found[int(tail)] = int(store.get(key) or 0)
    return found


def pids(store: redis.Redis, schedule_id: str) -> dict[int, int]:
    raw = store.hgetall(f"dockhand:ticks:{schedule_id}:by-pid")
    return {int(k): int(v) for k, v in raw.items()}


def bots(
    count: int, log_dir: Path, engine: Engine, server: RedisServer, fake: FakeSlack
) -> list[Bot]:
    return [
        start_bot(
            log_dir,
            DOCKER_HOST=engine.url,
            REDIS_URL=server.url,
            SLACK_API_URL=fake.api_url,
            DOCKHAND_LEASE_TTL=TTL,
        )
        for _ in range(count)
    ]


def test_one_leader_runs_each_tick_and_a_standby_takes_over(
    engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    store = redis.Redis.from_url(own_redis.url)
    schedules = client_schedules(own_redis)
    record = schedules.add(
        ScheduleRecord(task="tick", every_seconds=1, channel="C1"), function=TICK
    )
    schedules.shutdown()
    first, second = bots(2, log_dir, engine, own_redis, fake_slack)
    try:
        time.sleep(7)
        before = ticks(store, record.id)
        ran = pids(store, record.id)
        assert len(ran) == 1, ran  # one process runs the job
        leader_pid = next(iter(ran))
        # One run per tick: counted by the second each run started in, a run the load made
        # late can share its second with the next one, so the count is held to the span.
        assert sum(before.values()) <= max(before) - min(before) + 2, before
        assert len(before) >= 4
        # Jobs run in each serve's worker process, which holds the lease: that one dies.
        leader = first if first.worker_pid == leader_pid else second
        standby = second if leader is first else first
        killed_at = time.time()
        os.kill(leader.worker_pid, signal.SIGKILL)
        leader.process.wait(20)  # its front stops without a worker
        time.sleep(float(TTL) + 4)
        after = pids(store, record.id)
        assert standby.worker_pid in after, after
        late = {s: n for s, n in ticks(store, record.id).items() if s > killed_at + float(TTL) + 1}
        assert late and sum(late.values()) <= max(late) - min(late) + 2, late
        assert min(late) <= int(killed_at + float(TTL)) + 3  # taken over within the lease TTL
    finally:
        first.stop()
        second.stop()


def test_schedules_survive_a_full_restart_and_fire(
    engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    store = redis.Redis.from_url(own_redis.url)
    (bot,) = bots(1, log_dir, engine, own_redis, fake_slack)
    try:
        body = slash_body("schedule health --every 1s", fake_slack.response_url("add"))
        assert bot.post(body, signed_headers(body)).status_code == 200
        fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and "scheduled health" in json.dumps(c.body)
        )
    finally:
        bot.stop()
    schedules = client_schedules(own_redis)
    record = schedules.add(
        ScheduleRecord(task="tick", every_seconds=1, channel="C1"), function=TICK
    )
    schedules.shutdown()
    time.sleep(2)
    assert ticks(store, record.id) == {}  # nobody runs jobs while every process is down
    (bot,) = bots(1, log_dir, engine, own_redis, fake_slack)
    try:
        time.sleep(5)
        fired = ticks(store, record.id)
        assert sum(fired.values()) >= 3 and max(fired.values()) <= 2, fired
        body = slash_body("schedule ls", fake_slack.response_url("ls"))
        bot.post(body, signed_headers(body))
        listed = fake_slack.wait_for(lambda c: c.path == "/response/ls" and "blocks" in c.body)
        shown = json.dumps(listed.body["blocks"])
        assert record.id in shown and "health" in shown and "active" in shown
    finally:
        bot.stop()


def test_a_job_the_store_cannot_load_is_reported(
    engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    store = redis.Redis.from_url(own_redis.url)
    schedules = client_schedules(own_redis)
    record = schedules.add(
        ScheduleRecord(task="tick", every_seconds=3600, channel="C7"), function=TICK
    )
    schedules.shutdown()
    store.hset(JOBS_KEY, record.id, b"not a pickle")  # what a moved function leaves behind
    (bot,) = bots(1, log_dir, engine, own_redis, fake_slack)
    try:
        alert = fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and record.id in c.body.get("text", ""), 20
        )
        assert alert.body["channel"] == "C7" and "was lost" in alert.body["text"]
    finally:
        bot.stop()


def test_prune_schedule_from_chat_posts_its_summary_in_the_thread(
    engine: Engine, own_redis: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> None:
    (bot,) = bots(1, log_dir, engine, own_redis, fake_slack)
    try:
        body = slash_body("schedule prune containers --every 2s", fake_slack.response_url("p"))
        assert bot.post(body, signed_headers(body)).status_code == 200
        made = fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and "scheduled" in json.dumps(c.body)
        )
        assert "every 2s" in made.body["text"]
        run = fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and bool(c.body.get("thread_ts")), 20
        )
        assert "container prune: nothing to remove" in run.body["text"]
        assert "scheduled by <@U1>" in json.dumps(run.body["blocks"])

    finally:
        bot.stop()
