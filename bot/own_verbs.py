"""The verbs Dockhand answers itself, with no engine: help, the audit log, schedules and
mutes. One table, beside the handlers' table for engine verbs (handlers.HANDLERS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis

from bot import messages
from bot.audit import Audit
from bot.parser import overview, usage_of
from bot.policy import Policy, Requester
from handlers.commands import (
    Command,
    Help,
    Mute,
    ScheduleAction,
    ScheduleList,
    SchedulePrune,
    ShowAudit,
)
from handlers.errors import UsageError
from handlers.results import Result, TextResult
from handlers.units import go_duration

if TYPE_CHECKING:
    from jobs.schedules import Schedules


@dataclass
class OwnState:
    """What these verbs read: the store, the audit log, the scheduler's client side."""

    policy: Policy
    hosts: Callable[[], list[str]]
    audit: Audit | None = None
    store: redis.Redis | None = None
    schedules: Schedules | None = None
    channel_zones: dict[str, str] | None = None


def help_result(command: Help) -> TextResult:
    if command.topic:
        return TextResult(title=f"/docker {command.topic}", text=usage_of(command.topic))
    width = max(len(path) for path, _ in overview())
    lines = [f"{path:<{width}}   {summary}" for path, summary in overview()]
    return TextResult(
        title="Dockhand: the docker CLI, from chat",
        text="\n".join(["Commands:", *lines, "", messages.help_footer()]),
    )


def audit_log(command: ShowAudit, state: OwnState) -> Result:
    from bot.render import audit_result

    if state.audit is None:
        return TextResult(title="no audit store", text="")
    since = None
    if command.since:  # checked when the command was parsed (ShowAudit)
        since = time.time() - go_duration(command.since) / 1e9
    entries = state.audit.query(
        user=command.user, verb=command.filter_verb, since=since, limit=command.limit
    )
    return audit_result(entries)


def scheduling(command: Any, state: OwnState, requester: Requester | None) -> Result:
    from bot.scheduling import schedule_command

    if state.store is None:
        raise UsageError("this command needs the store (REDIS_URL)")
    return schedule_command(
        command,
        requester or Requester("cli", "cli", "cli"),
        state.schedules,
        state.policy,
        state.store,
        state.hosts(),
        state.channel_zones or {},
    )


OwnVerb = Callable[[Any, OwnState, "Requester | None"], Result]

OWN_VERBS: dict[type[Command], OwnVerb] = {
    Help: lambda command, state, requester: help_result(command),
    ShowAudit: lambda command, state, requester: audit_log(command, state),
    SchedulePrune: scheduling,
    ScheduleList: scheduling,
    ScheduleAction: scheduling,
    Mute: scheduling,
}


def own_verb(command: Command) -> OwnVerb | None:
    return OWN_VERBS.get(type(command))
