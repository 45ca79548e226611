"""`events` over a closed window (--since, --until): chat cannot follow a stream, so the
engine is asked for the events between two times, and answers them and closes. The lines are
the CLI's (prettyPrintEvent, or the user's --format over each event)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import docker

from handlers.commands import ShowEvents
from handlers.container_facts import CliLines
from handlers.containers import flag_time
from handlers.context import Context
from handlers.errors import UsageError
from handlers.results import FormattedResult
from handlers.template import OmitEmpty, TemplateError, render_typed

#: without --since, the window opens this long before --until
DEFAULT_WINDOW = 600.0
#: the engine answers at most this many events a call; more and the window is cut short
MAX_EVENTS = 5000


class EventList(CliLines):
    since: float
    until: float
    count: int = 0
    cut: bool = False

    def summary(self) -> str:
        span = f"{_stamp(self.since)} to {_stamp(self.until)}"
        n = self.count
        more = f" (the first {n}; narrow the window)" if self.cut else ""
        return f"{n} event{'s' if n != 1 else ''} from {span}{more}"


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _timestamp(seconds: float) -> str:
    """What the CLI sends the engine (timetypes.GetTimestamp): seconds.nanoseconds."""
    whole = int(seconds // 1)
    return f"{whole}.{round((seconds - whole) * 1e9):09d}"


def pretty_event(event: dict[str, Any]) -> str:
    """The CLI's prettyPrintEvent: the time (RFC 3339, nanoseconds fixed, local zone), type,
    action, actor ID and its attributes sorted by key."""
    nanos = int(event.get("timeNano") or 0) or int(event.get("time") or 0) * 10**9
    line = ""
    if nanos:
        moment = datetime.fromtimestamp(nanos // 10**9, UTC).astimezone()
        zone = moment.strftime("%z")
        zone = "Z" if zone == "+0000" else f"{zone[:3]}:{zone[3:]}"
        line = f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{nanos % 10**9:09d}{zone} "
    actor = event.get("Actor") or {}
    line += f"{event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    attributes = actor.get("Attributes") or {}
    if attributes:
        line += " (" + ", ".join(f"{k}={attributes[k]}" for k in sorted(attributes)) + ")"
    return line


def show_events(
    command: ShowEvents, client: docker.DockerClient, context: Context
) -> EventList | FormattedResult:
    now = time.time()
    until = flag_time(command.until, "--until") if command.until else now
    since = flag_time(command.since, "--since") if command.since else until - DEFAULT_WINDOW
    ahead = until - now
    if ahead > context.attach_timeout:
        raise UsageError(
            f"--until is {ahead:.0f} s ahead: a window may end at most "
            f"{context.attach_timeout:g} s from now (DOCKHAND_RUN_WAIT); chat cannot wait longer",
            token=command.until,
        )
    if command.format:
        # As the CLI: the template is tried on an empty event first, so a bad one fails
        # whether or not anything happened.
        try:
            render_typed(_cli_format(command.format), _EMPTY, "*events.Message")
        except TemplateError as exc:
            raise TemplateError(f"Error parsing format: {exc.message}", exit_status=64) from None
    stream = client.api.events(
        since=_timestamp(since),
        until=_timestamp(until),
        filters=command.filters or None,
        decode=True,
    )
    found: list[dict[str, Any]] = []
    try:
        for event in stream:
            found.append(event)
            if len(found) >= MAX_EVENTS:
                break
    finally:
        stream.close()
    cut = len(found) >= MAX_EVENTS
    if command.format:
        # Fields the engine leaves out (omitempty) are there, empty, in the CLI's struct.
        template = _cli_format(command.format)
        lines = [render_typed(template, _message(e), "*events.Message") for e in found]
        return FormattedResult(title=f"{len(found)} events", lines=lines)
    return EventList(
        since=since, until=until, count=len(found), cut=cut, lines=[pretty_event(e) for e in found]
    )


def _message(event: dict[str, Any]) -> OmitEmpty:
    """An event as the CLI's events.Message: every field there for the template, in the
    engine's order, the omitempty ones (status, id, from) left out of its JSON when empty."""
    fields = {key: event.get(key, empty) for key, empty in _EMPTY.items()}
    fields.update(event)
    return OmitEmpty(fields, frozenset({"status", "id", "from"}))


def _cli_format(format: str) -> str:
    return "{{json .}}" if format == "json" else format


# events.Message with nothing set, as the CLI checks a template on it.
_EMPTY: dict[str, Any] = {
    "status": "",
    "id": "",
    "from": "",
    "Type": "",
    "Action": "",
    "Actor": {"ID": "", "Attributes": {}},
    "scope": "",
    "time": 0,
    "timeNano": 0,
}
