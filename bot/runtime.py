"""Everything a running Dockhand holds, built once from settings, and its orderly stop; and
the host scheduled jobs run in (jobs/host.py's interface, over this runtime)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import docker
import redis

from bot import messages, store
from bot.audit import Audit
from bot.confirm import ConfirmStore
from bot.credentials import Credentials
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.policy import Policy
from bot.reply import Reply
from bot.scheduling import command_verb
from bot.supervisor import Supervisor
from config import Settings
from config.hosts import configured_hosts
from config.policy import Requester, load_policy
from handlers.context import Admit
from handlers.engines import Engines, translate_engine_errors
from handlers.fleet import fan_out
from handlers.health import Finding
from handlers.results import Result, TextResult
from jobs import context
from jobs.host import Message, Notice, Run
from jobs.schedules import Schedules

log = logging.getLogger("dockhand.runtime")
#: after the grace, how long detached runs get to hand over their replies
DETACH_SECONDS = 5.0


@dataclass
class Operation:
    """Work in flight, and how to tell its requester if a shutdown cuts it short."""

    text: str
    started: float
    interrupt: Callable[[], None] | None = None
    #: an attached run: at the end of the grace it stops waiting and tells its requester
    detachable: bool = False


@dataclass
class Runtime:
    settings: Settings
    pipeline: Pipeline
    store: redis.Redis
    metrics: Metrics = field(default_factory=Metrics)
    # Docker work runs here, never on Bolt's listener threads (five by default).
    executor: ThreadPoolExecutor = field(init=False)
    #: extra health checks (the scheduler adds its own): name -> (healthy, detail)
    health_checks: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)
    #: started with `serve` and stopped after its drain (the scheduler, the event watcher)
    on_start: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    schedules: Schedules | None = None
    #: posts a reply to a channel (thread optional) and returns its ts; set by the Slack side
    notifier: Callable[..., str | None] | None = None
    #: replaces a message the notifier posted (channel, ts, reply); set by the Slack side
    editor: Callable[[str, str, Reply], object] | None = None
    #: runs the long-lived threads, restarts them when they die, says which are down
    supervisor: Supervisor = field(init=False)
    #: set on SIGTERM: /healthz answers 503 and new commands are refused while work drains
    draining: threading.Event = field(default_factory=threading.Event)
    #: set once the drain's grace is over: attached runs stop waiting (bot/pipeline.py)
    detaching: threading.Event = field(default_factory=threading.Event)
    _operations: dict[int, Operation] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pipeline.detach = self.detaching.is_set
        self.executor = ThreadPoolExecutor(
            max_workers=self.settings.workers, thread_name_prefix="dockhand-docker"
        )
        self.supervisor = Supervisor(self.metrics.component_up)
        # One set of counters for the process: the pipeline's records land in /metrics.
        self.pipeline.metrics = self.metrics

    @classmethod
    def from_settings(cls, settings: Settings, *, serving: bool = False) -> Runtime:
        engines = Engines(
            configured_hosts(settings),
            timeout=settings.docker_timeout,
            api_version=settings.docker_api_version,
            fanout_timeout=settings.fanout_timeout,
        )
        policy = Policy(load_policy(settings.policy_file), settings.admins)
        shared = store.connect(settings.redis_url)
        credentials = Credentials(shared, settings.secret_key, settings.registry_credentials)
        schedules = Schedules(
            shared,
            timezone=settings.timezone,
            misfire_grace=settings.misfire_grace,
            lease_ttl=settings.lease_ttl,
            participate=serving,
        )
        metrics = Metrics()
        pipeline = Pipeline(
            engines,
            policy,
            credentials,
            run_wait=settings.run_wait,
            audit=Audit(shared),
            confirmations=ConfirmStore(shared),
            metrics=metrics,
            store=shared,
            schedules=schedules,
            channel_zones=settings.channel_timezones,
            # The bot serves many people: none of them gets the bot host's own registry logins.
            host_credentials=not serving,
        )
        return cls(settings, pipeline, shared, metrics=metrics, schedules=schedules)

    def notify(
        self,
        channel: str,
        reply: Reply,
        thread_ts: str | None = None,
        key: str | None = None,
        *,
        edit_ts: str | None = None,
    ) -> str | None:
        """Post a job's result or an alert where the team reads it; `key` makes it one
        message however often it is handed over (bot/outbox.py). With `edit_ts`, that
        message is replaced instead (a crash loop's one alert, as deaths add up)."""
        if edit_ts is not None:
            if self.editor is None:
                log.info("to #%s (edit of %s): %s", channel, edit_ts, reply.text)
                return None
            self.editor(channel, edit_ts, reply)
            return edit_ts
        if self.notifier is None:
            log.info("to #%s: %s", channel, reply.text)
            return None
        if key is not None:
            return self.notifier(channel, reply, thread_ts, key)
        return self.notifier(channel, reply, thread_ts)

    @contextmanager
    def operation(
        self, text: str, interrupt: Callable[[], None] | None = None, *, detachable: bool = False
    ) -> Iterator[Operation]:
        """Mark work as in flight for the length of the block."""
        op = Operation(text, time.monotonic(), interrupt, detachable)
        with self._lock:
            key = next(self._ids)
            self._operations[key] = op
        try:
            yield op
        finally:
            with self._lock:
                self._operations.pop(key, None)

    def in_flight(self) -> list[Operation]:
        with self._lock:
            return list(self._operations.values())

    def drain(self, grace: float) -> list[Operation]:
        """Wait up to `grace` seconds for work in flight; then attached runs are detached
        (left running, their requesters told how to follow them) and the owners of what is
        still left are told it was interrupted. Returns what was left."""
        deadline = time.monotonic() + grace
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.in_flight():
            # Attached runs stop waiting and leave their containers running: their replies
            # (the container ID, how to follow it) go out as any result does, shortly.
            self.detaching.set()
            # Only while an attached run is still saying so: a pull has nothing to detach.
            settle = time.monotonic() + DETACH_SECONDS
            while any(op.detachable for op in self.in_flight()) and time.monotonic() < settle:
                time.sleep(0.1)
        left = self.in_flight()
        for op in left:
            log.warning(
                "interrupted by shutdown: %s (after %.1f s)", op.text, time.monotonic() - op.started
            )
            if op.interrupt is not None:
                try:
                    op.interrupt()
                except Exception:
                    log.exception("could not report the interruption of %s", op.text)
        return left

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Each engine, the store, the background components and any extra checks; not
        healthy while draining for a shutdown (a load balancer stops sending work)."""
        detail: dict[str, Any] = {"engines": {}, "store": "ok"}
        if self.draining.is_set():
            detail["shutdown"] = f"draining: {len(self.in_flight())} operation(s) in flight"
        engines = self.pipeline.engines
        # Every host at once, each for a few seconds: a probe's own timeout is short, and
        # one black-holed host must not make the whole answer late.
        for answer in fan_out(
            engines.names, lambda host: ping_host(engines, host), lambda host: PROBE_SECONDS
        ):
            detail["engines"][answer.host] = answer.error or "ok"
        try:
            self.store.ping()
        except redis.RedisError as exc:
            detail["store"] = f"unreachable: {type(exc).__name__}"
        # A host marked `required: false` is reported but does not make Dockhand unhealthy:
        # restarting the bot would not bring it back.
        required = [h for h in engines.names if engines.config(h).required]
        healthy = detail["store"] == "ok" and all(detail["engines"][h] == "ok" for h in required)
        healthy = healthy and not self.draining.is_set()
        components_up, components = self.supervisor.health()
        if components:
            detail["components"] = components
            healthy = healthy and components_up
        for name, check in self.health_checks.items():
            ok, text = check()
            detail[name] = text
            healthy = healthy and ok
        return healthy, detail

    def close(self) -> None:
        if self.schedules is not None:
            self.schedules.shutdown()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.pipeline.engines.close()
        self.store.close()


#: how long /healthz waits for each engine's /_ping (the image's healthcheck allows 4 s)
PROBE_SECONDS = 3.0


def ping_host(engines: Engines, host: str) -> Result:
    with translate_engine_errors(host, engines.url(host), engines.timeout_of(host)):
        engines.client(host).ping()
    return TextResult(title=host, text="ok")


class JobsHost:
    """The runtime as scheduled jobs see it (jobs/host.py's Host): they run commands through
    this pipeline, with this policy and store, and post through this notifier."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def store(self) -> redis.Redis:
        return self.runtime.store

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def metrics(self) -> Metrics:
        return self.runtime.metrics

    @property
    def schedules(self) -> Schedules | None:
        return self.runtime.schedules

    @property
    def policy(self) -> Policy:
        return self.runtime.pipeline.policy

    @property
    def audit(self) -> Audit | None:
        return self.runtime.pipeline.audit

    def verb_of(self, text: str) -> str:
        return command_verb(text)

    def engine(self, host: str) -> docker.DockerClient:
        return self.runtime.pipeline.engines.client(host)

    def host_names(self) -> list[str]:
        return self.runtime.pipeline.engines.names

    def host_url(self, host: str) -> str:
        return self.runtime.pipeline.engines.url(host)

    def admission(self, host: str, owner: Requester) -> Admit:
        return self.runtime.pipeline.admission(host, owner, None)

    def prepare(self, text: str, owner: Requester) -> Run:
        pipeline = self.runtime.pipeline
        prepared = pipeline.prepare(text, owner)

        def run(by: str) -> Reply:
            # A schedule is its owner's standing word: no preview, no Confirm button.
            return pipeline.finish(prepared, confirmed=True, by=by)

        return run

    def describe(self, finding: Finding) -> str:
        return messages.finding_line(finding)

    def failure(self, exc: BaseException, text: str) -> Reply:
        return self.runtime.pipeline.failure(exc, text)

    def notify(
        self, channel: str, message: Message | Notice, thread_ts: str | None = None
    ) -> str | None:
        if isinstance(message, Notice):
            reply = notice_reply(message)
        else:
            assert isinstance(message, Reply)  # made by this host's pipeline
            reply = message
        return self.runtime.notify(channel, reply, thread_ts)

    def install(self) -> None:
        """Job functions in this process run here from now on."""
        context.install(self)


def notice_reply(notice: Notice) -> Reply:
    """A job's own notice as a message in the channel (never ephemeral: it has no one to
    whisper to). A quiet one keeps the result's summary and the small print only."""
    from bot.render import reply_for  # Block Kit: the jobs' host loads it when it speaks

    if notice.result is None:
        return Reply(ok=notice.ok, text=notice.text, ephemeral=False)
    reply = reply_for(notice.result, ephemeral=False, context=notice.context)
    if notice.quiet:
        reply.blocks = reply.blocks[:1] + reply.blocks[-1:]
    return reply
