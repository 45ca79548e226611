"""Job functions: module-level, referenced as "jobs.tasks:name", with primitive arguments
(a schedule id). They run the same pipeline as typed commands and post the same way."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from bot.policy import Requester
from bot.render import reply_for
from handlers.health import Budget, health_pass
from handlers.results import PruneResult
from jobs.context import current

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from jobs.schedules import ScheduleRecord

log = logging.getLogger("dockhand.jobs")
HEALTH_STATE = "dockhand:health:{}"
MUTE = "dockhand:mute:{}:{}"
RECENT_ALERTS = "dockhand:alerts:recent"


def is_muted(store: Any, host: str, name: str, labels: dict[str, str]) -> bool:
    """Muted by name (`mute web 1h`) or by label (`mute label=team=web 1h`, `label=team`)."""
    keys = [MUTE.format(host, name)]
    for key, value in labels.items():
        keys += [MUTE.format(host, f"label={key}={value}"), MUTE.format(host, f"label={key}")]
    return bool(store.exists(*keys))


def remember_alerts(store: object, lines: list[str]) -> None:
    """The last alerts, for the App Home overview."""
    import redis

    assert isinstance(store, redis.Redis)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    pipe = store.pipeline()
    for line in lines:
        pipe.lpush(RECENT_ALERTS, f"{stamp} {line}")
    pipe.ltrim(RECENT_ALERTS, 0, 19)
    pipe.execute()


def _schedule(schedule_id: str, job: str) -> tuple[Runtime, ScheduleRecord] | None:
    """The runtime and this run's schedule, the run counted; None for a schedule gone."""
    runtime = current()
    record = runtime.schedules.record(schedule_id) if runtime.schedules else None
    if record is None:
        log.error("%s job for unknown schedule %s", job, schedule_id)
        return None
    runtime.metrics.job_runs.labels(job=job).inc()
    return runtime, record


def prune(schedule_id: str) -> None:
    """A scheduled prune, with the authority of the person who scheduled it."""
    found = _schedule(schedule_id, "prune")
    if found is None:
        return
    runtime, record = found
    schedules = runtime.schedules
    requester = Requester(record.user, record.channel, source="job")
    pipeline = runtime.pipeline
    try:
        prepared = pipeline.prepare(record.command, requester)
    except Exception as exc:
        runtime.metrics.job_failures.labels(job="prune").inc()
        runtime.notify(record.channel, pipeline.failure(exc, record.command), record.thread_ts)
        return
    reply = pipeline.finish(
        prepared, confirmed=True, by=f"scheduled by <@{record.user}> ({record.id})"
    )
    if not reply.ok:
        runtime.metrics.job_failures.labels(job="prune").inc()
    result = reply.result
    if isinstance(result, PruneResult) and not result.deleted and not result.space_reclaimed:
        if runtime.settings.quiet_empty_runs == "none":
            return
        reply = reply_for(
            result,
            ephemeral=False,
            context=f"scheduled by <@{record.user}> ({record.id}) · quiet run",
        )

        reply.blocks = reply.blocks[:1] + reply.blocks[-1:]
    ts = runtime.notify(record.channel, reply, record.thread_ts)
    if record.thread_ts is None and ts and schedules is not None:
        record.thread_ts = ts  # later runs answer in this message's thread
        schedules.save(record)


def health(schedule_id: str) -> None:
    """A restart-policy aware health pass; reports only what changed since the last one."""
    found = _schedule(schedule_id, "health")
    if found is None:
        return
    runtime, record = found
    key = HEALTH_STATE.format(record.id)
    raw = runtime.store.get(key)
    previous = json.loads(raw) if raw else {}
    try:
        client = runtime.pipeline.engines.client(record.host)
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
        )
    except Exception as exc:
        runtime.metrics.job_failures.labels(job="health").inc()
        log.warning("health pass on %s failed: %s", record.host, exc)
        return
    runtime.store.set(key, json.dumps(state))
    result.findings = [
        f for f in result.findings if not is_muted(runtime.store, record.host, f.name, f.labels)
    ]
    if result.findings:
        for finding in result.findings:
            runtime.metrics.alerts.labels(kind=finding.kind).inc()
        remember_alerts(runtime.store, [f.message for f in result.findings])

        runtime.notify(
            record.channel,
            reply_for(result, ephemeral=False, context=f"{record.id} · {record.host}"),
            None,
        )


def tick(schedule_id: str) -> None:
    """Counts its runs in Redis, per second and per process: the leader election's witness."""
    runtime = current()
    second = int(time.time())
    pipe = runtime.store.pipeline()
    pipe.incr(f"dockhand:ticks:{schedule_id}:{second}")
    pipe.expire(f"dockhand:ticks:{schedule_id}:{second}", 3600)
    pipe.hincrby(f"dockhand:ticks:{schedule_id}:by-pid", str(os.getpid()), 1)
    pipe.execute()
