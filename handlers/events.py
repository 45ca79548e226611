"""The engine's event stream, read for alerts: container die (non-zero), oom, unhealthy,
restart. Docker work only: an alert is a kind and its facts; its words are bot/messages.py's
and the watcher that posts them lives in bot/alerts.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker
from pydantic import BaseModel, Field

WATCHED = ["die", "oom", "health_status", "restart"]
_NOT_LABELS = {"name", "image", "exitCode", "signal", "execDuration"}


class Alert(BaseModel):
    container: str
    name: str
    #: die, oom, unhealthy or restart
    action: str
    time_nano: int
    #: a die's exit code (never 0: a clean exit is no alert)
    exit_code: int = 0
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """One event, however many times a reconnect replays it."""
        return f"{self.container}:{self.action}:{self.time_nano}"


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
        return Alert(action="oom", **base)
    if action.startswith("health_status"):
        if "unhealthy" not in action:
            return None
        return Alert(action="unhealthy", **base)
    if action == "restart":
        return Alert(action="restart", **base)
    return None


def follow(client: docker.DockerClient, since_nano: int | None) -> Iterator[dict[str, Any]]:
    """Container events from `since_nano` on (replaying what a reconnect missed)."""
    since = since_nano / 1e9 if since_nano else None
    stream = client.api.events(
        since=since, decode=True, filters={"type": ["container"], "event": WATCHED}
    )
    try:
        yield from stream
    finally:
        stream.close()
