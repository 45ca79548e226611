"""Durations said in the units docker's duration flags take, never a count of seconds in the
thousands (health findings, restart loops, schedules)."""

from __future__ import annotations

import pytest

from bot import messages
from handlers.health import Finding


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (90, "1m30s"),
        (3600, "1h"),
        (3725, "1h2m"),
        (21600, "6h"),
        (86400, "1d"),
        (90061, "1d1h"),
    ],
)
def test_duration(seconds: int, said: str) -> None:
    assert messages.duration(seconds) == said


def test_a_restart_loop_says_hours_not_seconds() -> None:
    assert "deaths in 2h," in messages.restart_loop("web", 40, 1, 7200)
    assert "up for 5m after" in messages.loop_recovered("web", 3, 300)
    finding = Finding(
        kind="restart-loop", container="c" * 64, name="web", seconds=3725, restart_count=9
    )
    assert "restarting for 1h2m, 9 restarts" in messages.finding_line(finding)
