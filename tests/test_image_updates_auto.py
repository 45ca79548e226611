"""Opt-in automation, as `serve` runs the job (in this process, scheduler paused): containers
labelled dockhand.update=auto are updated only inside the schedule's window, one at a time,
and the first rollback stops the rest; notify-labelled ones are only reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from bot.reply import Reply
from bot.runtime import JobsHost, Runtime
from config import Settings
from handlers.engines import Engines
from handlers.image_update import ImageUpdate
from handlers.updates import UpdateCheck
from jobs import context, updates
from jobs.schedules import Schedules
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, Engine, RedisServer, Registry
from tests.test_image_updates import FAILING, HEALTHY

OWNER = Requester("cli", "C0UPD", "cli")


def _window(start: timedelta, end: timedelta) -> str:
    now = datetime.now(UTC)
    return f"{(now + start):%H:%M}-{(now + end):%H:%M}"


@pytest.fixture
def runtime(
    clean_engine: Engine, registry: Registry, redis_server: RedisServer
) -> Iterator[tuple[Runtime, list[tuple[str, Reply, str | None]]]]:
    store = redis.Redis.from_url(redis_server.url)
    for key in store.scan_iter("dockhand:*"):
        store.delete(key)
    schedules = Schedules(store, participate=False)
    configured = {registry.address: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}}
    credentials = Credentials(store, SecretStr(Fernet.generate_key().decode()), configured)
    pipeline = Pipeline(
        Engines({"local": clean_engine.url}, timeout=30),
        Policy(None),
        credentials,
        store=store,
        schedules=schedules,
    )
    made = Runtime(Settings(_env_file=None), pipeline, store, schedules=schedules)  # type: ignore[call-arg]
    posted: list[tuple[str, Reply, str | None]] = []

    def notifier(channel: str, reply: Reply, thread_ts: str | None = None, *_: object) -> str:
        posted.append((channel, reply, thread_ts))
        return f"1.{len(posted):06d}"

    made.notifier = notifier
    JobsHost(made).install()
    try:
        yield made, posted
    finally:
        context.install(None)
        for record in schedules.records():
            schedules.remove(record.id)
        made.close()


def _schedule(runtime: Runtime, window: str) -> str:
    made = runtime.pipeline.run(f"schedule updates --every 1h --window {window}", OWNER)
    assert made.ok, made.text
    return made.text.split("(id ")[1].split(")")[0]


def test_auto_updates_wait_for_the_window_and_stop_at_the_first_rollback(
    clean_engine: Engine,
    registry: Registry,
    runtime: tuple[Runtime, list[tuple[str, Reply, str | None]]],
) -> None:
    engine = clean_engine
    api = engine.client().api
    made, posted = runtime
    reference = f"{registry.address}/dh-updates/auto:stable"
    engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
    engine.import_busybox(reference, extra=b"a1", changes=['CMD ["sleep", "3600"]', HEALTHY])
    engine.cli("push", reference)
    for name, mode in (("auto-a", "auto"), ("auto-b", "auto"), ("watched", "notify")):
        engine.cli(
            "run",
            "-d",
            "--name",
            name,
            "--stop-timeout",
            "1",
            "-l",
            f"dockhand.update={mode}",
            reference,
        )
    before = {n: api.inspect_container(n)["Id"] for n in ("auto-a", "auto-b", "watched")}
    engine.import_busybox(reference, extra=b"a2", changes=['CMD ["sleep", "3600"]', FAILING])
    engine.cli("push", reference)

    # Outside the window: reported, nothing touched.
    later = _schedule(made, _window(timedelta(hours=2), timedelta(hours=3)))
    updates.check(later)
    check = posted[0][1].result
    assert isinstance(check, UpdateCheck)
    assert {s.name: s.mode for s in check.stale} == {
        "auto-a": "auto",
        "auto-b": "auto",
        "watched": "notify",
    }
    assert "waits for the window" in posted[1][1].text and "auto-a, auto-b" in posted[1][1].text
    assert {n: api.inspect_container(n)["Id"] for n in before} == before

    # A second run with nothing new: one quiet line in the schedule's thread, no buttons.
    updates.check(later)
    assert len(posted) == 3 and posted[2][2] is not None

    # Inside the window: auto-a is tried first, rolls back, and auto-b is left alone.
    posted.clear()
    now = _schedule(made, _window(timedelta(hours=-1), timedelta(hours=1)))
    updates.check(now)
    message_ts = "1.000001"  # the run's own message; the updates answer in its thread
    updated = [r.result for _, r, t in posted if isinstance(r.result, ImageUpdate)]
    assert [(u.container, u.outcome) for u in updated] == [("auto-a", "rolled-back")]
    assert all(t == message_ts for _, _, t in posted[1:])
    assert (
        "auto-updates stopped: auto-a rolled back; left for a person: auto-b" in posted[-1][1].text
    )
    assert {n: api.inspect_container(n)["Id"] for n in before} == before
    assert all(api.inspect_container(n)["State"]["Running"] for n in before)
