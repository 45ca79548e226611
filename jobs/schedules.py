"""Schedules: APScheduler 3 with a Redis job store, run by one elected leader.

Every replica starts its scheduler paused, so it can write schedules to the shared store;
only the lease holder resumes it and runs jobs. A change on any replica is announced on a
Redis channel and wakes the leader at once: a scheduler with nothing due sleeps without
polling. Our own registry of schedules sits beside APScheduler's store, because APScheduler
deletes a stored job it cannot load; comparing the two is how a lost schedule is noticed.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, Field

from handlers.intervals import parse_every as parse_every  # as --every was checked
from jobs.leader import LeaderLease, Spawn, thread_spawn

log = logging.getLogger("dockhand.schedules")
REGISTRY = "dockhand:schedules"
WAKE = "dockhand:scheduler:wake"
JOBS_KEY = "dockhand:apscheduler:jobs"
RUN_TIMES_KEY = "dockhand:apscheduler:run_times"
#: APScheduler stores these references with each job: they must stay where they are (a job
#: whose function moved is deleted on load)
FUNCTIONS = {
    "prune": "jobs.tasks:prune",
    "health": "jobs.tasks:health",
    "updates": "jobs.updates:check",
}


class ScheduleRecord(BaseModel):
    id: str = Field(default_factory=lambda: secrets.token_hex(4))
    task: str  # prune or health (tests add witnesses of their own)
    command: str = ""  # what a prune runs, as typed after /docker
    host: str = "local"
    channel: str = ""
    user: str = ""
    every_seconds: float | None = None
    cron: str | None = None
    autoheal: bool = False
    filters: dict[str, list[str]] = Field(default_factory=dict)
    created: float = Field(default_factory=time.time)
    thread_ts: str | None = None
    lost: bool = False
    #: where the owner made it: channel bindings give roles, so the owner's authority at
    #: each run is judged here, not in --channel's (posting somewhere grants nothing)
    origin_channel: str = ""
    #: the front end the owner used (slack, cli, console): the policy judges the owner as
    #: it did when they made it (at the terminal, whoever holds the engine socket is admin)
    source: str = ""
    #: why it was stopped because its owner may no longer run it; said once, cleared when
    #: it is resumed or a run is allowed again
    stopped: str = ""
    #: updates: the maintenance window (HH:MM-HH:MM, the scheduler's time zone) in which
    #: containers labelled dockhand.update=auto are updated; empty: report only
    window: str = ""

    def describe(self) -> str:
        when = f"cron `{self.cron}`" if self.cron else f"every {_seconds(self.every_seconds or 0)}"
        what = f"`{self.command}`" if self.command else self.task
        heal = " with autoheal" if self.autoheal else ""
        window = f", auto-updates {self.window}" if self.window else ""
        return f"{what}{heal} on {self.host}, {when}{window}"


def _seconds(value: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"


class Schedules:
    def __init__(
        self,
        store: redis.Redis,
        *,
        timezone: str = "UTC",
        misfire_grace: int = 3600,
        lease_ttl: float = 10.0,
        participate: bool = True,
    ) -> None:
        self.store = store
        self.timezone = ZoneInfo(timezone)
        jobstore = RedisJobStore(jobs_key=JOBS_KEY, run_times_key=RUN_TIMES_KEY)
        jobstore.redis = store  # our client (Redis, or the in-process stand-in)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": misfire_grace,
            },
            timezone=self.timezone,
        )
        self.lease = (
            LeaderLease(store, ttl=lease_ttl, on_elected=self._elected, on_demoted=self._demoted)
            if participate
            else None
        )
        self.on_lost: Callable[[ScheduleRecord], None] = lambda record: None
        self._listener: threading.Thread | None = None
        self._pubsub: Any = None
        self._started = False
        self._start_lock = threading.Lock()
        #: set by shutdown: the long-lived loops below end and are not restarted
        self._stopping = threading.Event()
        #: how the lease, the wake listener and the scheduler's watch run (`serve`: supervised)
        self.spawn: Spawn = thread_spawn

    # --- life ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start (once): paused, and for a participant the lease and the wake listener."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
            self._stopping.clear()
        self.scheduler.start(paused=True)
        if self.lease is not None:
            self._pubsub = self.store.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            self._pubsub.subscribe(WAKE)
            self._listener = self.spawn("wake", self._listen, self._stopping.is_set)
            self.spawn("scheduler", self._watch, self._stopping.is_set)
            self.lease.start(self.spawn)

    def _watch(self) -> None:
        """APScheduler's own thread, kept alive: restarted (paused unless we lead) after it
        died; raising here shows the scheduler as down until the restart."""
        self._revive()
        while not self._stopping.wait(1.0):
            thread = getattr(self.scheduler, "_thread", None)
            if self.scheduler.running and thread is not None and not thread.is_alive():
                raise RuntimeError("the scheduler's thread died")

    def _revive(self) -> None:
        thread = getattr(self.scheduler, "_thread", None)
        if self._stopping.is_set() or thread is None or thread.is_alive():
            return
        log.warning("restarting the scheduler after its thread died")
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        leads = self.lease is not None and self.lease.is_leader
        self.scheduler.start(paused=not leads)

    def hold(self) -> None:
        """Start no new job runs (a shutdown is draining); runs under way go on. The lease
        is kept until shutdown() hands it back."""
        if self.scheduler.running:
            self.scheduler.pause()

    def shutdown(self) -> None:
        self._stopping.set()
        if self.lease is not None:
            self.lease.stop()  # hands the lease over at once
        if self._pubsub is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self._pubsub.close()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._started = False

    @property
    def role(self) -> str:
        if self.lease is None:
            return "client"
        return "leader" if self.lease.is_leader else "standby"

    def _elected(self) -> None:
        self.scheduler.resume()
        self.reconcile()

    def _demoted(self) -> None:
        self.scheduler.pause()

    def _listen(self) -> None:
        while True:
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except (redis.RedisError, OSError, ValueError, AttributeError):
                if self._pubsub is None or not self.scheduler.running:
                    return
                time.sleep(1.0)
                continue
            if not self.scheduler.running:
                return
            if message is not None and self.lease is not None and self.lease.is_leader:
                self.scheduler.wakeup()

    def _wake(self) -> None:
        """Tell the leader (wherever it runs) that the store changed."""
        self.store.publish(WAKE, "changed")
        if self.lease is not None and self.lease.is_leader:
            self.scheduler.wakeup()

    # --- schedules ---------------------------------------------------------------------

    def add(self, record: ScheduleRecord, *, function: str | None = None) -> ScheduleRecord:
        """Store and schedule `record`; its task's job function runs it, or `function` (a
        "module:function" reference: the tests' witness job, which is not shipped)."""
        self.start()
        trigger: Any
        if record.cron:
            trigger = CronTrigger.from_crontab(record.cron, timezone=self.timezone)
        else:
            trigger = IntervalTrigger(seconds=record.every_seconds or 60, timezone=self.timezone)
        self.store.hset(REGISTRY, record.id, record.model_dump_json())
        self.scheduler.add_job(
            function or FUNCTIONS[record.task],
            trigger,
            args=[record.id],
            id=record.id,
            name=record.describe(),
            replace_existing=True,
        )
        self._wake()
        return record

    def save(self, record: ScheduleRecord) -> None:
        self.store.hset(REGISTRY, record.id, record.model_dump_json())

    def record(self, schedule_id: str) -> ScheduleRecord | None:
        raw = self.store.hget(REGISTRY, schedule_id)
        return ScheduleRecord.model_validate_json(raw) if raw else None

    def records(self) -> list[ScheduleRecord]:
        return sorted(
            (ScheduleRecord.model_validate_json(v) for v in self.store.hgetall(REGISTRY).values()),
            key=lambda r: r.created,
        )

    def job(self, schedule_id: str) -> Job | None:
        self.start()
        return self.scheduler.get_job(schedule_id)

    def remove(self, schedule_id: str) -> bool:
        self.start()
        known = bool(self.store.hdel(REGISTRY, schedule_id))
        if self.job(schedule_id) is not None:
            self.scheduler.remove_job(schedule_id)
            known = True
        self._wake()
        return known

    def pause(self, schedule_id: str) -> None:
        self.start()
        self.scheduler.pause_job(schedule_id)
        self._wake()

    def resume(self, schedule_id: str) -> None:
        self.start()
        self.scheduler.resume_job(schedule_id)
        self._wake()

    def run_now(self, schedule_id: str) -> None:
        self.start()
        self.scheduler.modify_job(schedule_id, next_run_time=datetime.now(self.timezone))
        self._wake()

    def next_run(self, schedule_id: str) -> datetime | None:
        job = self.job(schedule_id)
        return job.next_run_time if job is not None else None

    def reconcile(self) -> list[ScheduleRecord]:
        """Schedules in our registry that APScheduler's store no longer holds (it deletes a job
        it cannot load). Each is reported once, through `on_lost`, and kept as lost."""
        lost = []
        try:
            stored = {job.id for job in self.scheduler.get_jobs()}
        except Exception:  # a job that cannot load is removed by the store as it reads
            log.exception("reading the job store failed")
            stored = {job.id for job in self.scheduler.get_jobs()}
        for record in self.records():
            if record.id not in stored and not record.lost:
                record.lost = True
                self.save(record)
                lost.append(record)
                log.error("schedule %s was lost: the job store could not load it", record.id)
                self.on_lost(record)
        return lost
