"""The supervisor alone: a component that dies is restarted with capped backoff and shown
down meanwhile; a stopped one is not restarted; a component may report its own state."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge

from bot.supervisor import Supervisor


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(every)


def test_a_dying_component_is_restarted_with_backoff_and_shown_down() -> None:
    gauge = Gauge("up", "up", ["name"], registry=CollectorRegistry())
    supervisor = Supervisor(gauge, backoff_first=0.2, backoff_cap=0.4)
    stop = threading.Event()
    starts: list[float] = []

    def body() -> None:
        starts.append(time.monotonic())
        if len(starts) <= 3:
            raise RuntimeError("boom")
        stop.wait()

    supervisor.spawn("worker", body, stop.is_set)
    wait_until(lambda: not supervisor.health()[0], 2, "down after the first death")
    assert "died: RuntimeError" in supervisor.health()[1]["worker"]
    assert gauge.labels(name="worker")._value.get() == 0
    wait_until(lambda: len(starts) == 4, 5, "restarted three times")
    wait_until(lambda: supervisor.health()[0], 2, "up again")
    assert gauge.labels(name="worker")._value.get() == 1
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.38 and gaps[2] < 0.4 + 0.3  # doubled, then capped
    assert supervisor.states()["worker"].restarts == 3
    stop.set()


def test_a_stopped_component_is_not_restarted() -> None:
    supervisor = Supervisor(backoff_first=0.05)
    stop = threading.Event()
    runs: list[int] = []

    def body() -> None:
        runs.append(1)
        stop.wait()

    thread = supervisor.spawn("quiet", body, stop.is_set)
    stop.set()
    thread.join(2)
    assert not thread.is_alive() and runs == [1] and supervisor.health()[0]


def test_a_component_may_say_it_is_down() -> None:
    supervisor = Supervisor()
    supervisor.report("events-local", False, "Redis unreachable: ConnectionError")
    assert supervisor.health() == (False, {"events-local": "Redis unreachable: ConnectionError"})
    supervisor.report("events-local", True)
    assert supervisor.health() == (True, {"events-local": "ok"})
