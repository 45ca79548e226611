"""Scheduled image updates ("jobs.updates:check", a schedule id its one argument): the
`updates` check as the schedule's owner, one message a run with an Update button a stale
container; inside the schedule's maintenance window, the containers labelled
dockhand.update=auto are updated one at a time, stopping at the first that rolls back.

A run says something new only: the same stale images as last time are a quiet line in the
schedule's thread, not another message with the same buttons."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from config.policy import Requester
from handlers.errors import NotAllowed
from handlers.image_update import ImageUpdate
from handlers.intervals import parse_window as parse_window  # the syntax --window was checked with
from handlers.updates import ImageStatus, UpdateCheck
from jobs.host import Host, Notice
from jobs.schedules import ScheduleRecord
from jobs.tasks import _owner, _schedule, _stop

log = logging.getLogger("dockhand.jobs")
#: the stale images (container@digest) a schedule last announced
ANNOUNCED = "dockhand:updates:{}"


def in_window(window: str, now: datetime) -> bool:
    """Is `now` (in the schedule's time zone) inside `window`? Its start is in, its end out."""
    start, end = parse_window(window)
    moment = now.time().replace(second=0, microsecond=0)
    if end is None:
        return moment >= start
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight


def _command(host: str, text: str) -> str:
    return text if host == "local" else f"-H {host} {text}"


def check(schedule_id: str) -> None:
    found = _schedule(schedule_id, "updates")
    if found is None:
        return
    runtime, record = found
    owner = _owner(runtime, record)
    if owner is None:
        return
    try:
        run = runtime.prepare(record.command, owner)
    except NotAllowed as exc:
        _stop(runtime, record, exc.message, exc.rule)
        return
    except Exception as exc:
        runtime.metrics.job_failures.labels(job="updates").inc()
        runtime.notify(record.channel, runtime.failure(exc, record.command), record.thread_ts)
        return
    by = f"scheduled by <@{record.user}> ({record.id})"
    reply = run(by)
    result = reply.result
    if not isinstance(result, UpdateCheck):  # refused or failed before it could check
        runtime.metrics.job_failures.labels(job="updates").inc()
        runtime.notify(record.channel, reply, record.thread_ts)
        return
    window_open = bool(record.window) and in_window(
        record.window, datetime.now(runtime.schedules.timezone if runtime.schedules else None)
    )
    due = [s for s in result.stale if s.mode == "auto"] if window_open else []
    if not _news(runtime, record, result) and not due:
        if runtime.settings.quiet_empty_runs != "none":
            quiet = Notice(result=result, context=f"{by} · nothing new", quiet=True)
            runtime.notify(record.channel, quiet, record.thread_ts)
        return
    # Its own message in the channel: the Update buttons' runs answer in its thread.
    ts = runtime.notify(record.channel, reply, None)
    if record.thread_ts is None and ts and runtime.schedules is not None:
        record.thread_ts = ts  # quiet runs answer under the first announcement
        runtime.schedules.save(record)
    waiting = [s for s in result.stale if s.mode == "auto"] if not window_open else []
    if waiting and record.window:
        names = ", ".join(s.name for s in waiting)
        runtime.notify(
            record.channel,
            Notice(text=f":clock3: auto-update waits for the window {record.window}: {names}"),
            ts,
        )
    if due:
        _auto_update(runtime, record, owner, due, by, ts)


def _news(runtime: Host, record: ScheduleRecord, result: UpdateCheck) -> bool:
    """Stale images (or failures) not announced by this schedule's last message; remembers
    what this run found."""
    key = ANNOUNCED.format(record.id)
    found = sorted(f"{s.container}@{s.latest}" for s in result.stale)
    found += sorted(f"{s.container}!{s.state}" for s in result.problems)
    raw = runtime.store.get(key)
    before = set(json.loads(raw)) if raw else set()
    runtime.store.set(key, json.dumps(found))
    return bool(set(found) - before)


def _auto_update(
    runtime: Host,
    record: ScheduleRecord,
    owner: Requester,
    due: list[ImageStatus],
    by: str,
    thread: str | None,
) -> None:
    """One container at a time, as the schedule's owner (their policy, protection and
    safety check, as for a typed update-image); the first rollback stops the rest."""
    for n, status in enumerate(due):
        text = _command(record.host, f"update-image {status.name}")
        try:
            run = runtime.prepare(text, owner)
        except Exception as exc:
            runtime.notify(record.channel, runtime.failure(exc, text), thread)
            continue
        reply = run(f"auto-update, {by}")
        runtime.notify(record.channel, reply, thread)
        update = reply.result
        if isinstance(update, ImageUpdate) and update.outcome == "rolled-back":
            runtime.metrics.job_failures.labels(job="updates").inc()
            left = [s.name for s in due[n + 1 :]]
            rest = f"; left for a person: {', '.join(left)}" if left else ""
            runtime.notify(
                record.channel,
                Notice(
                    text=f":octagonal_sign: auto-updates stopped: {status.name} rolled back{rest}",
                    ok=False,
                ),
                thread,
            )
            return
