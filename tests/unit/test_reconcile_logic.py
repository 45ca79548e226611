"""The pure parts of the reconcile after a gap and of the one-finding-per-episode claims: the
engine's listing words read as time windows, what counts as a change, and claims that hold
while Redis is down (no servers: Redis is a closed loopback port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from handlers.engines import cli_verb
from handlers.errors import EngineLost
from handlers.events import Alert, alert_of
from handlers.reconcile import Seen, _changed, duration_bounds, epoch, seen_of
from jobs import findings


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("Less than a second", 0, 1),
        ("1 second", 1, 2),
        ("42 seconds", 42, 43),
        ("About a minute", 60, 120),
        ("5 minutes", 300, 360),
        ("About an hour", 3600, 5400),
        ("3 hours", 9000, 12600),
        ("2 days", 172800, 259200),
        ("nonsense", 0, float("inf")),
    ],
)
def test_the_engines_durations_are_windows(text: str, low: float, high: float) -> None:
    assert duration_bounds(text) == (low, high)


def test_a_listing_row_as_facts() -> None:
    now = 1000.0
    exited = seen_of({"Id": "a" * 64, "Names": ["/web"], "State": "exited",
                      "Status": "Exited (3) 5 seconds ago"}, now)  # fmt: skip
    assert (exited.name, exited.state, exited.exit_code) == ("web", "exited", 3)
    assert exited.since == (994.0, 995.0)
    sick = seen_of({"Id": "b" * 64, "State": "running",
                    "Status": "Up 2 minutes (unhealthy)"}, now)  # fmt: skip
    assert sick.health == "unhealthy" and sick.since == (820.0, 880.0)
    assert sick.name == "b" * 12


def test_a_restart_shows_as_a_change_of_start_time() -> None:
    before = Seen(name="web", state="running", since=(100.0, 101.0))
    # Still the same start, read later and more coarsely: no change.
    assert not _changed(before, Seen(name="web", state="running", since=(60.0, 120.0)))
    # Started again since (up 2 seconds at 500): a change, worth an inspect.
    assert _changed(before, Seen(name="web", state="running", since=(497.0, 498.0)))
    assert _changed(before, Seen(name="web", state="exited", exit_code=1, since=(400, 401)))
    assert _changed(None, before)


def test_the_engines_times() -> None:
    assert epoch("0001-01-01T00:00:00Z") == 0.0
    assert epoch("2026-11-29T06:44:25.45707957Z") == pytest.approx(1795934665.457, abs=1e-3)


def test_a_die_event_and_its_condition() -> None:
    event = {"Action": "die", "timeNano": 5, "Actor": {"ID": "c1", "Attributes": {
        "name": "web", "exitCode": "137", "team": "x"}}}  # fmt: skip
    alert = alert_of(event)
    assert alert is not None and alert.condition == "exit" and alert.labels == {"team": "x"}
    alert.episode = "2026-11-29T06:44:25Z"
    assert alert.occurrence == "2026-11-29T06:44:25Z"  # the death, whoever saw it
    assert alert_of({**event, "Action": "oom"}) is None  # the die says it
    healthy = alert_of({**event, "Action": "health_status: healthy"})
    assert healthy is not None and healthy.action == "healthy"
    sick = Alert(container="c1", name="web", action="unhealthy", time_nano=9)
    assert (sick.condition, sick.occurrence) == ("unhealthy", "")


@pytest.fixture
def redis_down() -> Iterator[redis.Redis]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    findings.forget_local()
    yield redis.Redis(port=port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    findings.forget_local()


def test_claims_hold_while_redis_is_down(redis_down: redis.Redis) -> None:
    assert findings.claim(redis_down, "local", "c1", "exit", "t1")
    assert not findings.claim(redis_down, "local", "c1", "exit", "t1")  # said once
    assert findings.claim(redis_down, "local", "c1", "exit", "t2")  # another death
    assert findings.claim(redis_down, "local", "c1", "unhealthy", "")
    assert not findings.claim(redis_down, "local", "c1", "unhealthy", "")
    findings.release(redis_down, "local", "c1", "unhealthy")  # healthy again
    assert findings.claim(redis_down, "local", "c1", "unhealthy", "")  # a new spell
    assert not findings.open_spell(redis_down, "local", "c1", "loop")
    assert findings.claim(redis_down, "local", "c1", "loop", "")
    assert findings.open_spell(redis_down, "local", "c1", "loop")


@pytest.mark.parametrize(
    ("verb", "said"),
    [("container:run", "run"), ("container:start", "start"), ("image:pull", "image pull")],
)
def test_a_lost_engine_names_the_command_and_the_container(verb: str, said: str) -> None:
    lost = EngineLost("prod", "tcp://10.0.0.5:2376", "f" * 64, cli_verb(verb))
    assert lost.message == (
        f"lost the connection to Docker at prod (tcp://10.0.0.5:2376) while running `{said}`; "
        "the container ID is ffffffffffff, check with `ps -a`"
    )
    assert "part of it may be done" in EngineLost("prod", "tcp://h:1").message
