"""Scheduled work over several hosts (a schedule made with `--host all` or a host glob): the
hosts of the moment are asked in parallel, each as its own typed command would run, and the
channel gets one message with a row per host (handlers/fleet.py's merged table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config.policy import Requester
from handlers.engines import translate_engine_errors
from handlers.errors import EngineError, NotAllowed
from handlers.fleet import FleetResult, HostAnswer, fan_out, select_hosts
from handlers.health import HealthPass
from handlers.results import PruneResult, Result
from jobs.host import Notice

if TYPE_CHECKING:
    from jobs.host import Host
    from jobs.schedules import ScheduleRecord

#: a scheduled prune may take a while on a big host; the engine client's own timeout still
#: bounds each request
PRUNE_DEADLINE = 3600.0
#: a health pass reads every container once (an autoheal restart waits for the engine)
HEALTH_DEADLINE = 600.0
#: a host whose last pass failed, and why (its return is news too)
DOWN = "dockhand:health:{}@{}:down"


def on_host(command: str, host: str) -> str:
    """A schedule's command text, aimed at one host (`-H all image prune -f` on `web1`)."""
    words = command.split(" ", 2)
    if len(words) == 3 and words[0] == "-H":
        return f"-H {host} {words[2]}"
    return f"-H {host} {command}"


def prune_hosts(
    runtime: Host,
    record: ScheduleRecord,
    requester: Requester,
    stop: Callable[[str, str], None],
) -> None:
    """One prune per host, in parallel, reported in one message. A host the owner may no
    longer prune on is a row saying so; when that is every host the schedule is stopped
    (`stop(why, rule)`), as a single-host schedule is."""
    hosts = select_hosts(record.host, runtime.host_names())
    by = f"scheduled by <@{record.user}> ({record.id})"
    refusals: list[NotAllowed] = []

    def ask(host: str) -> Result:
        try:
            run = runtime.prepare(on_host(record.command, host), requester)
        except NotAllowed as exc:
            refusals.append(exc)
            raise
        reply = run(by)
        if reply.result is None:
            raise EngineError(reply.text or "failed")
        return reply.result

    answers = fan_out(hosts, ask, lambda host: PRUNE_DEADLINE)
    if refusals and len(refusals) == len(hosts):
        stop(refusals[0].message, refusals[0].rule)
        return
    if any(a.error for a in answers):
        runtime.metrics.job_failures.labels(job="prune").inc()
    kind = record.command.split(" prune", 1)[0].split()[-1]
    result = FleetResult(verb=f"{kind}:prune", answers=answers)
    empty = all(
        isinstance(a.result, PruneResult) and not a.result.deleted and not a.result.space_reclaimed
        for a in answers
    )
    if empty and runtime.settings.quiet_empty_runs == "none":
        return
    context = f"{by} · quiet run" if empty else by
    ts = runtime.notify(
        record.channel,
        Notice(result=result, context=context, ok=not result.failed(), quiet=empty),
        record.thread_ts,
    )
    schedules = runtime.schedules
    if record.thread_ts is None and ts and schedules is not None:
        record.thread_ts = ts  # later runs answer in this message's thread
        schedules.save(record)


def health_hosts(
    runtime: Host,
    record: ScheduleRecord,
    check: Callable[[ScheduleRecord], HealthPass | None],
) -> None:
    """One health pass per host, in parallel, each compared with its own last pass; what
    changed anywhere goes out in one message. A host that stops answering is news once, and
    so is its return."""
    hosts = select_hosts(record.host, runtime.host_names())

    def ask(host: str) -> Result:
        # Each host keeps its own state and findings under the schedule's id and its name.
        one = record.model_copy(update={"host": host, "id": f"{record.id}@{host}"})
        with translate_engine_errors(host, runtime.host_url(host), HEALTH_DEADLINE):
            found = check(one)
        if found is None:
            raise EngineError(f"no health pass on {host}")
        return found

    answers = fan_out(hosts, ask, lambda host: HEALTH_DEADLINE)
    news: list[HostAnswer] = []
    for answer in answers:
        down = DOWN.format(record.id, answer.host)
        if answer.error:
            if runtime.store.get(down) is None:
                news.append(answer)
            runtime.store.set(down, answer.error)
            continue
        back = bool(runtime.store.delete(down))
        found = answer.result
        if back or (isinstance(found, HealthPass) and found.findings):
            news.append(answer)
    if news:
        result = FleetResult(verb="health", answers=news)
        context = f"{record.id} · {record.host}"
        runtime.notify(record.channel, Notice(result=result, context=context), None)
