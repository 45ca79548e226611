"""The engine's event stream, read for alerts: container die (non-zero, or OOM-killed),
unhealthy, restart; `healthy` only closes a spell of ill health. Docker work only: an alert
is a kind and its facts; its words are bot/messages.py's and the watcher that posts them
lives in bot/alerts.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
from pydantic import BaseModel, Field

WATCHED = ["die", "health_status", "restart"]
_NOT_LABELS = {"name", "image", "exitCode", "signal", "execDuration"}


class Alert(BaseModel):
    container: str
    name: str
    #: die, oom, unhealthy, restart; restarted (a death in a gap, its exit code lost by the
    #: restart); healthy (not said: it ends a spell of ill health)
    action: str
    time_nano: int
    #: a die's exit code (never 0: a clean exit is no alert)
    exit_code: int = 0
    labels: dict[str, str] = Field(default_factory=dict)
    #: a death's FinishedAt (the engine's own record of it, the same from an event, a
    #: reconcile or a health pass); empty when the container was gone before we looked
    episode: str = ""
    #: a death found after a gap, the container running again since (its restart policy)
    restarted: bool = False
    #: found by comparing states after a gap (handlers/reconcile.py), not by an event
    gap: bool = False
    #: the container's restart policy (always, unless-stopped, on-failure or "")
    policy: str = ""

    @property
    def key(self) -> str:
        """One event, however many times a reconnect replays it."""
        return f"{self.container}:{self.action}:{self.time_nano}"

    @property
    def condition(self) -> str:
        """What one finding is about: a death (whether the OOM killer did it or not), ill
        health, a restart someone asked for."""
        return "exit" if self.action in {"die", "oom", "restarted"} else self.action

    @property
    def occurrence(self) -> str:
        """Which death, restart or spell of ill health (the episode, else the event's time)."""
        if self.action == "unhealthy":
            return ""  # a spell: open until the container is seen healthy again
        return self.episode or str(self.time_nano)


def alert_of(event: dict[str, Any]) -> Alert | None:
    """The alert an event deserves, or None (a clean exit, a healthy check)."""
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    name = attributes.get("name", str(actor.get("ID", ""))[:12])
    action = str(event.get("Action") or event.get("status") or "")
    # The engine puts a container's labels among the event's attributes.
    labels = {k: str(v) for k, v in attributes.items() if k not in _NOT_LABELS}
    base: dict[str, Any] = dict(
        container=str(actor.get("ID", event.get("id", ""))),
        name=name,
        time_nano=int(event.get("timeNano") or int(event.get("time", 0)) * 10**9),
        labels=labels,
    )

    if action == "die":
        code = int(attributes.get("exitCode", 0) or 0)
        if code == 0:
            return None
        return Alert(action="die", exit_code=code, **base)
    if action == "oom":
        return None  # the die that follows says it (its inspect shows OOMKilled)
    if action.startswith("health_status"):
        if "unhealthy" not in action:
            # healthy again: no alert, but the spell is over (a later one is news)
            return Alert(action="healthy", **base) if action.endswith(" healthy") else None
        return Alert(action="unhealthy", **base)
    if action == "restart":
        return Alert(action="restart", **base)
    if action == "update" and event.get("Type") in ("service", "node"):
        return swarm_alert(attributes, base)
    return None


#: Swarm changes a manager's event stream says that need a person: an update or rollback the
#: swarm paused, a node that went down or stopped taking tasks (handlers/service_health.py
#: finds the same on its passes, and what events do not show: tasks that keep failing)
_SWARM_STATES = {
    ("updatestate.new", "paused"): "update-paused",
    ("updatestate.new", "rollback_paused"): "rollback-paused",
    ("state.new", "down"): "node-down",
    ("availability.new", "drain"): "node-drained",
    ("availability.new", "pause"): "node-paused",
}


def swarm_alert(attributes: dict[str, Any], base: dict[str, Any]) -> Alert | None:
    for (key, value), action in _SWARM_STATES.items():
        if attributes.get(key) == value:
            labels = {k: v for k, v in base["labels"].items() if not k.endswith((".new", ".old"))}
            return Alert(action=action, **{**base, "labels": labels})
    return None


def with_details(client: docker.DockerClient, alert: Alert) -> Alert:
    """A death's facts from one inspect: its FinishedAt (the episode the reconcile and the
    health pass also see), whether the OOM killer did it, the restart policy. A container
    already removed keeps the event's facts."""
    try:
        details = client.api.inspect_container(alert.container)
    except docker.errors.NotFound:
        return alert
    state = details.get("State") or {}
    policy = (details.get("HostConfig") or {}).get("RestartPolicy") or {}
    alert.episode = str(state.get("FinishedAt") or "")
    alert.policy = str(policy.get("Name") or "")
    if state.get("OOMKilled"):
        alert.action = "oom"
    return alert


def follow(client: docker.DockerClient, since_nano: int | None) -> Iterator[dict[str, Any]]:
    """Container events from `since_nano` on (replaying what a reconnect missed), and a
    swarm manager's service and node updates."""
    since = since_nano / 1e9 if since_nano else None
    # Service and node updates come only from a swarm manager; any other engine has none.
    stream = client.api.events(
        since=since,
        decode=True,
        filters={"type": ["container", "service", "node"], "event": [*WATCHED, "update"]},
    )
    try:
        yield from stream
    finally:
        stream.close()
