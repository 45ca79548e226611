"""The schedule and mute commands: what the pipeline does with them (no Docker call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from bot import messages
from bot.parser import parse
from bot.policy import Decision, Policy, Requester
from handlers.commands import PRUNE_KINDS, Mute, ScheduleAction, ScheduleList, SchedulePrune
from handlers.errors import NotAllowed, UsageError
from handlers.fleet import is_selector, select_hosts
from handlers.intervals import mute_seconds
from handlers.results import Result, Table, TableResult, TextResult
from handlers.verbs import past_tense
from jobs import authority
from jobs.mutes import mute
from jobs.schedules import ScheduleRecord, Schedules, parse_every


class ScheduleCreated(TextResult):
    schedule_id: str


def command_verb(text: str) -> str:
    """The verb a scheduled command's text names, as the pipeline will parse it (what jobs
    ask their host for: jobs/host.py's verb_of). Raises DockhandError when it no longer parses."""
    return str(getattr(parse(text), "verb", ""))


def schedule_command(
    command: Any,
    requester: Requester,
    schedules: Schedules | None,
    policy: Policy,
    store: redis.Redis,
    hosts: list[str],
    zones: dict[str, str] | None = None,
) -> Result:
    """`zones`: a time zone per channel; times are shown in the requester's channel's."""
    if isinstance(command, Mute):
        return _mute(command, store)
    if schedules is None:
        raise UsageError("schedules need the scheduler's store: set REDIS_URL")
    if isinstance(command, SchedulePrune):
        return _add(
            command,
            requester,
            schedules,
            policy,
            hosts,
            _zone(zones, requester, schedules),
        )
    zone = _zone(zones, requester, schedules)
    if isinstance(command, ScheduleList):
        return _list(schedules, zone)
    assert isinstance(command, ScheduleAction)
    record = schedules.record(command.schedule_id)
    if record is None:
        raise UsageError(
            f"no schedule `{command.schedule_id}`; `/docker schedule ls` lists them",
            token=command.schedule_id,
        )
    action = command.verb.split(":")[1]
    if not authority.may_manage(policy, record, requester):
        # A schedule runs with its owner's authority: letting others set it off (or stop
        # it) would lend them that authority.
        raise NotAllowed(
            f"{requester.mention} may not {action} schedule {record.id}: it is <@{record.user}>'s"
            " (only its owner or an admin may)",
            rule="schedule owner",
        )
    if action == "rm":
        schedules.remove(record.id)
        return TextResult(title=f"removed schedule {record.id}: {record.describe()}", text="")
    if record.lost:
        raise UsageError(f"schedule {record.id} was lost; remove it and schedule it again")
    if action in {"resume", "run"}:
        # The job checks again at the run; saying no now spares a run that would stop it.
        owner = authority.owner_of(
            record, requester.groups if requester.user == record.user else None
        )
        refused = authority.refusal(policy, record, owner, command_verb, hosts)
        if refused is not None:
            raise NotAllowed(
                f"schedule {record.id} cannot {action}: {refused.message}", rule=refused.rule
            )
    {"pause": schedules.pause, "resume": schedules.resume, "run": schedules.run_now}[action](
        record.id
    )
    if action == "resume" and record.stopped:
        record.stopped = ""  # allowed again: a later loss of authority is news again
        schedules.save(record)
    return TextResult(
        title=f"schedule {record.id} {past_tense(command.verb)}: {record.describe()}",
        text=_next(schedules, record.id, zone),
    )


#: the schedules that may run over several hosts at once, reporting in one message
FLEET_TASKS = ("prune", "health")


def decide_on_hosts(
    policy: Policy, verb: str, requester: Requester, host: str, hosts: list[str]
) -> Decision:
    """The policy on the schedule's host; over several, on each of them (as every run will
    judge the owner: jobs/authority.py)."""
    if not is_selector(host):
        return policy.decide(verb, requester, host=host)
    decisions = [policy.decide(verb, requester, host=h) for h in select_hosts(host, hosts)]
    return next((d for d in decisions if not d.allowed), decisions[0])


def _add(
    command: SchedulePrune,
    requester: Requester,
    schedules: Schedules,
    policy: Policy,
    hosts: list[str],
    zone: ZoneInfo,
) -> Result:
    host = command.target_host or command.host

    if is_selector(host):
        if command.task not in FLEET_TASKS:
            raise UsageError(
                f"`--host {host}` works for {' and '.join(FLEET_TASKS)} schedules; "
                "give one host's name",
                token=host,
            )
        select_hosts(host, hosts)  # a glob that names no host is refused now, not at 3 am
    elif host not in hosts:
        raise UsageError(f"unknown host `{host}`; configured: {', '.join(hosts)}", token=host)
    record = ScheduleRecord(
        task=command.task,
        host=host,
        user=requester.user,
        channel=(command.channel or requester.channel).lstrip("#"),
        autoheal=command.autoheal,
        filters=command.filters,
        origin_channel=requester.channel,
        source=requester.source,
    )
    if command.task == "prune":
        kind = PRUNE_KINDS[str(command.kind)]
        verb = f"{kind}:prune"
        decision = decide_on_hosts(policy, verb, requester, host, hosts)
        if not decision.allowed:
            raise NotAllowed(
                f"{requester.mention} may not schedule `{verb}` ({decision.rule})",
                rule=decision.rule,
            )
        if authority.two_person(policy, [verb]):
            raise NotAllowed(authority.two_person_message(verb), rule=authority.TWO_PERSON_RULE)
        flags = " -a" if command.all and kind in {"image", "system"} else ""
        flags += "".join(f" --filter {k}={v}" for k, vs in command.filters.items() for v in vs)
        record.command = (
            f"-H {host} {kind} prune -f{flags}" if host != "local" else f"{kind} prune -f{flags}"
        )
    elif command.task == "updates":
        _add_updates(command, record, requester, policy, host)
    elif (
        command.autoheal
        and not decide_on_hosts(policy, authority.HEAL_VERB, requester, host, hosts).allowed
    ):
        raise NotAllowed(
            f"{requester.mention} may not schedule autoheal ({authority.HEAL_VERB})",
            rule=authority.HEAL_VERB,
        )
    elif command.autoheal and authority.two_person(policy, [authority.HEAL_VERB]):
        raise NotAllowed(
            authority.two_person_message(authority.HEAL_VERB), rule=authority.TWO_PERSON_RULE
        )
    # --cron, --every and --window were checked when the command was parsed (SchedulePrune).
    if command.cron is not None:
        record.cron = command.cron
    else:
        record.every_seconds = parse_every(str(command.every))
    schedules.add(record)
    return ScheduleCreated(
        title=f"scheduled {record.describe()} (id {record.id})",
        text=_next(schedules, record.id, zone),
        schedule_id=record.id,
    )


def _add_updates(
    command: SchedulePrune,
    record: ScheduleRecord,
    requester: Requester,
    policy: Policy,
    host: str,
) -> None:
    """`schedule updates`: the check runs as `updates`; with --window, containers labelled
    dockhand.update=auto are also updated in it, which takes what `update-image` takes."""
    verbs = [authority.UPDATES_VERB]
    if command.window:
        verbs.append(authority.UPDATE_VERB)
        record.window = command.window
    for verb in verbs:
        decision = policy.decide(verb, requester, host=host)
        if not decision.allowed:
            raise NotAllowed(
                f"{requester.mention} may not schedule `{verb}` ({decision.rule})",
                rule=decision.rule,
            )
    paired = authority.two_person(policy, verbs)
    if paired:
        raise NotAllowed(authority.two_person_message(paired[0]), rule=authority.TWO_PERSON_RULE)
    flags = "".join(f" --filter {k}={v}" for k, vs in command.filters.items() for v in vs)
    record.command = f"-H {host} updates{flags}" if host != "local" else f"updates{flags}"


def _zone(zones: dict[str, str] | None, requester: Requester, schedules: Schedules) -> ZoneInfo:
    return ZoneInfo((zones or {}).get(requester.channel, str(schedules.timezone)))


def _next(schedules: Schedules, schedule_id: str, zone: ZoneInfo) -> str:
    when = schedules.next_run(schedule_id)
    return f"next run: {_when(when, zone)}" if when else "paused"


def _when(when: datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z") if when else "-"


def _list(schedules: Schedules, zone: ZoneInfo) -> TableResult:
    rows = []
    for record in schedules.records():
        job = schedules.job(record.id)
        state = (
            "LOST: could not be loaded"
            if record.lost or job is None
            else ("paused" if job.next_run_time is None else "active")
        )
        if record.stopped and state == "paused":
            state = "stopped: its owner may no longer run it"
        when = (
            f"cron {record.cron}"
            if record.cron
            else f"every {messages.duration(record.every_seconds or 0)}"
        )
        rows.append(
            [
                record.id,
                (record.command or record.task + (" +autoheal" if record.autoheal else ""))
                + (f" +auto {record.window}" if record.window else ""),
                when,
                _when(job.next_run_time if job else None, zone),
                state,
                f"#{record.channel}",
                record.host,
            ]
        )
    return TableResult(
        title=f"{len(rows)} schedules ({schedules.role} here, times in {zone})",
        grid=Table(
            columns=["ID", "WHAT", "WHEN", "NEXT RUN", "STATE", "CHANNEL", "HOST"], rows=rows
        ),
    )


def _mute(command: Mute, store: redis.Redis) -> TextResult:
    seconds = mute_seconds(command.duration)  # checked when the command was parsed (Mute)
    mute(store, command.host, command.container, int(seconds))
    return TextResult(
        title=f"alerts about {command.container} muted for {command.duration}", text=""
    )
