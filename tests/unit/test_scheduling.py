"""Schedule commands without any server: an in-process store, the scheduler paused."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest

from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from jobs.schedules import Schedules


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    store = fakeredis.FakeRedis()
    # U1 schedules from Slack: admin by DOCKHAND_ADMINS, as a fresh install names one.
    policy = Policy(None, admins=["U1"])
    made = Pipeline(Engines({"local": "unix:///nonexistent.sock"}, timeout=1), policy)
    made.store = store
    made.schedules = Schedules(store, participate=False)
    made.channel_zones = {"C_EU": "Europe/Berlin"}
    yield made
    made.schedules.shutdown()


def test_times_shown_in_the_channels_zone(pipeline: Pipeline) -> None:
    berlin = pipeline.run("schedule prune images -a --cron '0 3 * * *'", Requester("U1", "C_EU"))
    assert berlin.ok, berlin.text
    # cron is read in the configured zone (UTC) and shown in the channel's zone
    assert "04:00:00 CET" in berlin.text
    listed = pipeline.run("schedule ls", Requester("U1", "C_EU"))
    assert "04:00:00 CET" in listed.text
    elsewhere = pipeline.run("schedule ls", Requester("U1", "C_US"))
    assert "03:00:00 UTC" in elsewhere.text


def test_schedule_lifecycle_and_errors(pipeline: Pipeline) -> None:
    me = Requester("U1", "C1")
    made = pipeline.run("schedule health --every 90s --autoheal", me)
    assert made.ok and "every 90s" in made.text
    schedule_id = made.text.split("(id ")[1].split(")")[0]
    assert "paused" in pipeline.run(f"schedule pause {schedule_id}", me).text
    assert "paused" in pipeline.run("schedule ls", me).text
    assert pipeline.run(f"schedule resume {schedule_id}", me).ok
    assert pipeline.run(f"schedule rm {schedule_id}", me).ok
    missing = pipeline.run(f"schedule run {schedule_id}", me)
    assert not missing.ok and "no schedule" in missing.text
    bad = pipeline.run("schedule prune images --every soon", me)
    assert bad.exit_status == 2 and "--every" in bad.text
    both = pipeline.run("schedule prune images --every 1h --cron '* * * * *'", me)
    assert "exactly one of --cron or --every" in both.text
