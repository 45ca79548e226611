"""Job functions: module-level, referenced as "jobs.tasks:name", with primitive arguments
(a schedule id). They run the same pipeline as typed commands and post the same way, through
their host (jobs/host.py), with their owner's authority as the policy judges it at each run
(jobs/authority.py)."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from config.policy import Requester
from handlers.errors import NotAllowed
from handlers.fleet import is_selector
from handlers.health import HEAL_KINDS, Budget, Finding, HealthPass, health_pass
from handlers.results import PruneResult
from handlers.service_health import service_pass
from jobs import authority, findings, fleet_tasks

# Kept importable from here for the App Home and older callers; they live on their own now.
from jobs.alert_log import RECENT_ALERTS as RECENT_ALERTS
from jobs.alert_log import remember_alerts
from jobs.context import current
from jobs.host import Notice
from jobs.mutes import MUTE as MUTE
from jobs.mutes import is_muted

if TYPE_CHECKING:
    from jobs.host import Host
    from jobs.schedules import ScheduleRecord

log = logging.getLogger("dockhand.jobs")
HEALTH_STATE = "dockhand:health:{}"


def _schedule(schedule_id: str, job: str) -> tuple[Host, ScheduleRecord] | None:
    """The host and this run's schedule, the run counted; None for a schedule gone."""
    runtime = current()
    record = runtime.schedules.record(schedule_id) if runtime.schedules else None
    if record is None:
        log.error("%s job for unknown schedule %s", job, schedule_id)
        return None
    runtime.metrics.job_runs.labels(job=job).inc()
    return runtime, record


def _owner(runtime: Host, record: ScheduleRecord) -> Requester | None:
    """The owner this run acts as, if the policy lets them have it run now; else the
    schedule is stopped, and said so in its channel once."""
    owner = authority.owner_of(record)
    refused = authority.refusal(
        runtime.policy, record, owner, runtime.verb_of, runtime.host_names()
    )
    if refused is not None:
        _stop(runtime, record, refused.message, refused.rule)
        return None
    if record.stopped:
        _mark(runtime, record, "")  # allowed again: a later loss is news again
    return owner


def _stop(runtime: Host, record: ScheduleRecord, why: str, rule: str) -> None:
    """Pause a schedule its owner may no longer run, audit the refusal, and tell its channel
    (only the first time: a resumed schedule that is refused again is news again)."""
    runtime.metrics.job_failures.labels(job=record.task).inc()
    log.warning("schedule %s stopped: %s", record.id, why)
    audit = runtime.audit
    if audit is not None:
        audit.record(
            user=record.user,
            channel=record.channel,
            host=record.host,
            text=record.command or f"schedule {record.task} ({record.id})",
            verb=authority.KEEP_VERB,
            decision="denied",
            rule=rule,
            outcome=f"schedule {record.id} stopped",
        )
    if runtime.schedules is not None:
        try:
            runtime.schedules.pause(record.id)
        except Exception:  # already gone from the job store: not running is what we want
            log.exception("could not pause schedule %s", record.id)
    if record.stopped:
        return
    _mark(runtime, record, why)
    text = f":no_entry: schedule {record.id} ({record.describe()}) is stopped: {why}"
    # In the channel itself, not the runs' thread: someone has to act on it.
    runtime.notify(record.channel, Notice(text=text, ok=False), None)


def _mark(runtime: Host, record: ScheduleRecord, stopped: str) -> None:
    record.stopped = stopped
    if runtime.schedules is not None:
        fresh = runtime.schedules.record(record.id)  # keep what changed since this run began
        if fresh is not None:
            fresh.stopped = stopped
            runtime.schedules.save(fresh)


def prune(schedule_id: str) -> None:
    """A scheduled prune, with the authority of the person who scheduled it, as it is now."""
    found = _schedule(schedule_id, "prune")
    if found is None:
        return
    runtime, record = found
    schedules = runtime.schedules
    requester = _owner(runtime, record)
    if requester is None:
        return
    if is_selector(record.host):  # `--host all` or a glob: one message, a row per host
        fleet_tasks.prune_hosts(
            runtime, record, requester, lambda why, rule: _stop(runtime, record, why, rule)
        )
        return
    try:
        run = runtime.prepare(record.command, requester)
    except NotAllowed as exc:  # the owner's role no longer covers it (or a guard says no)
        _stop(runtime, record, exc.message, exc.rule)
        return
    except Exception as exc:
        runtime.metrics.job_failures.labels(job="prune").inc()
        runtime.notify(record.channel, runtime.failure(exc, record.command), record.thread_ts)
        return
    by = f"scheduled by <@{record.user}> ({record.id})"
    reply = run(by)
    if not reply.ok:
        runtime.metrics.job_failures.labels(job="prune").inc()
    result = reply.result
    said: Notice | None = None
    if isinstance(result, PruneResult) and not result.deleted and not result.space_reclaimed:
        if runtime.settings.quiet_empty_runs == "none":
            return
        # Nothing removed: the summary and who scheduled it are all there is to say.
        said = Notice(result=result, context=f"{by} · quiet run", quiet=True)
    ts = runtime.notify(record.channel, said or reply, record.thread_ts)
    if record.thread_ts is None and ts and schedules is not None:
        record.thread_ts = ts  # later runs answer in this message's thread
        schedules.save(record)


def health(schedule_id: str) -> None:
    """A restart-policy aware health pass; reports only what changed since the last one."""
    found = _schedule(schedule_id, "health")
    if found is None:
        return
    runtime, record = found
    owner = _owner(runtime, record)
    if owner is None:
        return
    if is_selector(record.host):  # `--host all` or a glob: one message, a row per host
        fleet_tasks.health_hosts(
            runtime, record, lambda one: _health_on(runtime, one, owner, say=False)
        )
        return
    _health_on(runtime, record, owner)


def _health_on(
    runtime: Host, record: ScheduleRecord, owner: Requester, *, say: bool = True
) -> HealthPass | None:
    """One host's pass, compared with its last; its news said in the channel unless `say`
    is off (a pass over several hosts says them together, and hears of a failure)."""
    key = HEALTH_STATE.format(record.id)
    raw = runtime.store.get(key)
    previous = json.loads(raw) if raw else {}
    try:
        client = runtime.engine(record.host)
        settings = runtime.settings
        result, state = health_pass(
            client,
            previous,
            host=record.host,
            filters=record.filters,
            autoheal=record.autoheal,
            budget=Budget(
                restarts=settings.autoheal_restarts,
                window=settings.autoheal_window,
                backoff=settings.autoheal_backoff,
            ),
            loop_seconds=settings.restart_loop_seconds,
            protected_label=runtime.policy.protected_label,
            # The owner's safety check, as for a `restart` they typed.
            admit=runtime.admission(record.host, owner),
        )
        # A swarm manager's services and nodes too (nothing, one request, elsewhere).
        swarm, state["swarm"] = service_pass(
            client, previous.get("swarm") or {}, loop_seconds=settings.restart_loop_seconds
        )
        result.findings += swarm
    except Exception as exc:
        runtime.metrics.job_failures.labels(job="health").inc()
        log.warning("health pass on %s failed: %s", record.host, exc)
        if not say:
            raise
        return None
    runtime.store.set(key, json.dumps(state))
    _audit_heals(runtime, record, owner, result)
    result.findings = [
        f
        for f in result.findings
        if not is_muted(runtime.store, record.host, f.name, f.labels)
        and _first_to_say(runtime, record.host, f)
    ]
    if result.findings:
        for finding in result.findings:
            runtime.metrics.alerts.labels(kind=finding.kind).inc()
        remember_alerts(runtime.store, [runtime.describe(f) for f in result.findings])
        if say:
            runtime.notify(
                record.channel, Notice(result=result, context=f"{record.id} · {record.host}"), None
            )
    return result


#: a finding kind and the condition the event watcher knows it by (jobs/findings.py)
_CONDITIONS = {"unhealthy": "unhealthy", "restart-loop": "loop", "oom": "exit", "exit": "exit"}


def _first_to_say(runtime: Host, host: str, finding: Finding) -> bool:
    """One finding per container, condition and episode: what the event watcher (or another
    health schedule on the same host) already said is not said again. A recovery ends the
    spell of ill health, so the next one is news."""
    if finding.kind in {"recovered", "healed"}:  # restarted by autoheal: a new spell
        findings.release(runtime.store, host, finding.container, "unhealthy")
        return True
    condition = _CONDITIONS.get(finding.kind)
    if condition is None:
        return True
    if condition == "exit" and findings.open_spell(runtime.store, host, finding.container, "loop"):
        return False  # a death in a crash loop: the loop's one message counts it
    episode = finding.finished_at or "" if condition == "exit" else ""
    return findings.claim(runtime.store, host, finding.container, condition, episode)


def _audit_heals(
    runtime: Host, record: ScheduleRecord, owner: Requester, result: HealthPass
) -> None:
    """Each autoheal restart (done, failed, or refused for a protected container) is an
    attempt like a typed `restart`, and goes to the audit as the schedule's owner."""
    audit = runtime.audit
    if audit is None:
        return
    granted = runtime.policy.decide(authority.HEAL_VERB, owner).rule
    for finding in result.findings:
        if finding.kind not in HEAL_KINDS:
            continue
        protected = finding.kind == "protected"
        audit.record(
            user=record.user,
            channel=record.channel,
            host=record.host,
            text=f"restart {finding.name} (autoheal, schedule {record.id})",
            verb=authority.HEAL_VERB,
            decision="denied" if protected else "allowed",
            rule=f"protected {runtime.policy.protected_label}" if protected else granted,
            outcome={"healed": "ok", "protected": "not restarted: protected"}.get(
                finding.kind, f"failed: {runtime.describe(finding)}"[:200]
            ),
        )
