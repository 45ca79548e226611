"""Whose authority a schedule runs with: its owner's, judged under the current policy at
every run and before anyone sets it off, never the authority of whoever clicked.

A schedule is one person's standing order. It may do only what its owner may do now (a
role taken away stops it), and never what needs two people (`confirm.two_person`): the
second person approves one run at a time, and a schedule has no one to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from config.policy import Requester
from handlers.errors import DockhandError
from handlers.fleet import is_selector, select_hosts
from jobs import context
from jobs.host import OwnerPolicy
from jobs.schedules import ScheduleRecord

#: the verb a command's text names, as the host parses typed commands (Host.verb_of)
VerbOf = Callable[[str], str]

#: keeping a schedule takes what making one took, at every run
KEEP_VERB = "schedule:add"
#: a health pass lists and inspects containers; autoheal restarts them
HEALTH_VERB = "container:ls"
HEAL_VERB = "container:restart"
#: a scheduled update check; with a maintenance window it also updates (auto-labelled)
UPDATES_VERB = "image:updates"
UPDATE_VERB = "container:update-image"
TWO_PERSON_RULE = "confirm.two_person"


@dataclass(frozen=True)
class Refusal:
    """Why a schedule may not run for its owner, and the rule the audit names."""

    message: str
    rule: str


def task_verbs(record: ScheduleRecord, verb_of: VerbOf) -> list[str]:
    """The verbs one run of `record` uses (a prune's from its command, as the pipeline
    will parse it). Raises DockhandError for a command that no longer parses."""
    if record.task == "prune":
        return [verb_of(record.command)]
    if record.task == "health":
        return [HEALTH_VERB, HEAL_VERB] if record.autoheal else [HEALTH_VERB]
    if record.task == "updates":
        return [verb_of(record.command), *([UPDATE_VERB] if record.window else [])]
    return []


def two_person(policy: OwnerPolicy, verbs: list[str]) -> list[str]:
    """Those of `verbs` the policy wants a second person for (its entries may be globs)."""
    return [v for v in verbs if any(fnmatchcase(v, g) for g in policy.confirm.two_person)]


def two_person_message(verb: str) -> str:
    return (
        f"`{verb}` needs a second person's approval (policy rule {TWO_PERSON_RULE}), and a "
        "schedule runs on one person's word: it cannot be scheduled or run from a schedule. "
        f"Run it by hand, where a second person confirms it."
    )


def owner_of(record: ScheduleRecord, groups: tuple[str, ...] | None = None) -> Requester:
    """The owner as the policy sees them now: in the channel the schedule was made in, with
    their user groups as they are now (`groups`, or the installed lookup)."""
    return Requester(
        record.user,
        record.origin_channel or record.channel,
        source=record.source or "job",
        groups=context.groups_of(record.user) if groups is None else groups,
    )


def refusal(
    policy: OwnerPolicy,
    record: ScheduleRecord,
    owner: Requester,
    verb_of: VerbOf,
    hosts: Sequence[str] = (),
) -> Refusal | None:
    """None when `owner` may have `record` run now, on its host (on each host a glob or
    `all` names among `hosts`); else why not."""
    try:
        verbs = task_verbs(record, verb_of)
        on = hosts_of(record, hosts)
    except DockhandError as exc:
        return Refusal(f"its command `{record.command}` no longer reads: {exc.message}", "usage")
    for verb in [KEEP_VERB, *verbs]:
        for host in on:
            decision = policy.decide(verb, owner, host=host)
            if not decision.allowed:
                where = f" on {host}" if host else ""
                return Refusal(
                    f"its owner {owner.mention} may no longer run `{verb}`{where} "
                    f"({decision.rule})",
                    decision.rule,
                )
    paired = two_person(policy, verbs)
    if paired:
        return Refusal(two_person_message(paired[0]), TWO_PERSON_RULE)
    return None


def hosts_of(record: ScheduleRecord, hosts: Sequence[str]) -> list[str | None]:
    """The hosts a schedule runs on now. Without the configured names, a glob's hosts are
    unknown: only what the policy allows everywhere counts (None)."""
    if not is_selector(record.host):
        return [record.host]
    if not hosts:
        return [None]
    return list(select_hosts(record.host, hosts))


def may_manage(policy: OwnerPolicy, record: ScheduleRecord, requester: Requester) -> bool:
    """Only a schedule's owner or an admin may remove, pause, resume or run it."""
    return requester.user == record.user or policy.is_admin(requester)
