"""What happened to an engine's containers while nobody watched (the engine was down, the
watcher was restarting): the engine keeps no events across its own restart, so a death in
that gap is found by comparing its containers now with the last known state.

One listing per comparison. Only a container whose state changed (its state, exit code or
health, or a start or finish time that no longer fits the last one: the listing's "Up 3
seconds" says it restarted) is inspected, for State.ExitCode, OOMKilled, FinishedAt and
RestartCount. Facts only: each death is an Alert (handlers/events.py) whose episode is its
FinishedAt, so the event stream and the health pass can recognise the same death.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import docker
import docker.errors
from pydantic import BaseModel, Field

from handlers.events import Alert

_EXITED = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\) (.+?) ago")
_UP = re.compile(r"^Up (.+?)(?: \((?:healthy|unhealthy|health: starting|Paused)\))*$")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
#: seconds of slack when two readings of a start or finish time are compared
SLACK = 2.0
#: the engine's words for a duration (go-units HumanDuration) as (low, high) seconds
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


class Seen(BaseModel):
    """One container as the last listing showed it."""

    name: str
    state: str
    exit_code: int | None = None
    health: str = ""
    #: when its current state began (started or finished), as a window of epoch seconds:
    #: the listing says "Up 5 minutes", which is a range
    since: tuple[float, float] = (0.0, 0.0)
    #: from an inspect, when one was needed
    finished_at: str = ""
    restart_count: int | None = None


class Snapshot(BaseModel):
    """An engine's containers at one moment (`taken`, epoch seconds)."""

    taken: float
    containers: dict[str, Seen] = Field(default_factory=dict)


def duration_bounds(text: str) -> tuple[float, float]:
    """The engine's "5 seconds", "About a minute", "3 hours" as (low, high) seconds."""
    text = text.strip().lower()
    if text.startswith("less than a second"):
        return 0.0, 1.0
    if text == "about a minute":
        return 60.0, 120.0
    if text == "about an hour":
        return 3600.0, 5400.0
    number, _, unit = text.partition(" ")
    unit = unit.rstrip("s")
    if not number.isdigit() or (unit not in _UNITS and unit not in {"month", "year"}):
        return 0.0, float("inf")
    n = int(number)
    if unit == "hour":  # the engine rounds hours to the nearest
        return (n - 0.5) * 3600, (n + 0.5) * 3600
    if unit in {"month", "year"}:
        size = 30 * 86400 if unit == "month" else 365 * 86400
        return n * size, (n + 1) * size
    size = _UNITS[unit]
    return float(n * size), float((n + 1) * size)


def seen_of(raw: dict[str, Any], now: float) -> Seen:
    """A listing row as facts: state, exit code, health, and when that state began."""
    status = str(raw.get("Status", ""))
    name = (raw.get("Names") or ["/" + str(raw.get("Id", ""))[:12]])[0].lstrip("/")
    seen = Seen(name=name, state=str(raw.get("State", "")))
    health = _HEALTH.search(status)
    seen.health = health.group(1) if health else ""
    exited = _EXITED.match(status)
    ago = ""
    if exited:
        seen.exit_code = int(exited.group(1))
        ago = exited.group(2)
    else:
        up = _UP.match(status)
        ago = up.group(1) if up else ""
    if ago:
        low, high = duration_bounds(ago)
        seen.since = (now - high, now - low)
    return seen


def _same_moment(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Could two readings' windows be the same start (or finish)?"""
    return a[0] - SLACK <= b[1] and b[0] - SLACK <= a[1]


def _changed(before: Seen | None, now: Seen) -> bool:
    if before is None:
        return True
    if (before.state, before.exit_code, before.health) != (now.state, now.exit_code, now.health):
        return True
    return not _same_moment(before.since, now.since)


def epoch(stamp: str) -> float:
    """The engine's RFC 3339 time (nanoseconds, Z) as epoch seconds; 0 for its zero time."""
    if not stamp or stamp.startswith("0001-"):
        return 0.0
    head, _, fraction = stamp.rstrip("Z").partition(".")
    base = datetime.fromisoformat(head + "+00:00").timestamp()
    return base + (float("0." + fraction[:9]) if fraction else 0.0)


def reconcile(
    client: docker.DockerClient, previous: Snapshot | None, now: float
) -> tuple[list[Alert], Snapshot, int]:
    """The gap's findings since `previous` (none on a first sight: that is the baseline),
    the snapshot to keep, and the number of requests it cost."""
    api = client.api
    requests = 1
    listing = api.containers(all=True)
    snapshot = Snapshot(taken=now)
    alerts: list[Alert] = []
    for raw in listing:
        cid = str(raw["Id"])
        seen = seen_of(raw, now)
        before = previous.containers.get(cid) if previous is not None else None
        snapshot.containers[cid] = seen
        if previous is None or not _changed(before, seen):
            if before is not None:
                seen.finished_at, seen.restart_count = before.finished_at, before.restart_count
            continue
        labels = {str(k): str(v) for k, v in (raw.get("Labels") or {}).items()}
        if seen.health == "unhealthy" and (before is None or before.health != "unhealthy"):
            alerts.append(
                Alert(
                    container=cid,
                    name=seen.name,
                    action="unhealthy",
                    time_nano=int(now * 1e9),
                    labels=labels,
                    gap=True,
                )
            )
        if seen.state == "created":
            continue
        created = float(raw.get("Created") or 0)
        if before is None and seen.state == "running" and seen.since[0] - SLACK <= created + 1:
            continue  # new in the gap, started when it was created and up since: no death
        if (
            before is not None
            and (before.state, before.exit_code)
            == (
                seen.state,
                seen.exit_code,
            )
            and _same_moment(before.since, seen.since)
        ):
            continue  # only its health changed
        try:
            details = api.inspect_container(cid)
            requests += 1
        except docker.errors.NotFound:
            continue  # removed since the listing
        state = details.get("State") or {}
        seen.finished_at = str(state.get("FinishedAt") or "")
        seen.restart_count = int(details.get("RestartCount") or 0)
        died = epoch(seen.finished_at)
        if died < previous.taken - SLACK or (
            before is not None and seen.finished_at == before.finished_at
        ):
            continue  # the last death is older than the last look: said then
        code = int(state.get("ExitCode") or 0)
        oom = bool(state.get("OOMKilled"))
        again = bool(state.get("Running") or state.get("Restarting"))
        if again and code == 0 and not oom:
            # Started again since: the engine reset its exit code, so a death is all we know.
            action = "restarted"
        elif code == 0 and not oom:
            continue  # a clean exit is no alert, as for the event stream
        else:
            action = "oom" if oom else "die"
        alerts.append(
            Alert(
                container=cid,
                name=seen.name,
                action=action,
                time_nano=int(died * 1e9),
                exit_code=code,
                labels=labels,
                episode=seen.finished_at,
                restarted=again,
                gap=True,
            )
        )
    return alerts, snapshot, requests
