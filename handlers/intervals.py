"""The syntax of Dockhand's own time values: a schedule's --every, --cron and --window, a mute's
DURATION. The command models check them when a command is parsed, before Slack's ack; the jobs
read them again with the same functions when they run."""

from __future__ import annotations

import re
from datetime import time

from handlers.units import go_duration

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_every(text: str) -> float:
    """A schedule's --every in seconds (a Go duration, at least 1s). Raises ValueError."""
    seconds = go_duration(text) / 1e9
    if seconds < 1:
        raise ValueError("--every must be at least 1s")
    return seconds


def check_crontab(text: str) -> None:
    """A schedule's --cron as the scheduler will read it. Raises ValueError."""
    # APScheduler is loaded only when a --cron is given: parsing other commands stays light.
    from apscheduler.triggers.cron import CronTrigger

    CronTrigger.from_crontab(text)


def parse_window(text: str) -> tuple[time, time | None]:
    """`HH:MM-HH:MM` (the end may be past midnight: 22:00-02:00; 24:00 is the end of the
    day, None). Raises ValueError."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError("give the window as HH:MM-HH:MM, e.g. 02:00-04:00")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError("hours go from 00 to 23 (24:00 for midnight), minutes to 59")
    start = time(h1, m1)
    end = None if h2 == 24 else time(h2, m2)
    if start == end:
        raise ValueError("the window is empty: its start and end are the same")
    return start, end


def mute_seconds(text: str) -> float:
    """A mute's DURATION in seconds (a Go duration). Raises ValueError."""
    return go_duration(text) / 1e9
