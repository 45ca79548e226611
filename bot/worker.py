"""`dockhand serve`'s worker process: Docker work, rendering, replies, the scheduler and the
event watchers run here, so the front process (bot/front.py), which checks signatures and
acks, never waits for this interpreter's lock.

The front hands over each request it acked that has work to do: the request's parsed body
and headers, dispatched here into the same Bolt app as before (bot/slack_app.py) with the ack
ignored; the signature was checked by the front, so the request comes in as Socket Mode's do
(no signature to check). Parsing and policy run again here, which is cheap; Docker work is
not, and only this process does it.

Messages over two one-way pipes (pickled tuples):

    front -> worker  ("request", body, headers)   dispatch into the Bolt app
                     ("mirror", fields)           an audit line for the audit channel
                     ("ask", id, "health"|"metrics")
                     end of file                  the front is gone: drain and exit
    worker -> front  ("ready",)                   started
                     ("failed", reason)           could not start
                     ("answer", id, value)

Without REDIS_URL both use the store process's (bot/embedded_store.py).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from bot.runtime import Runtime

log = logging.getLogger("dockhand.worker")
#: how long the worker may take to start (imports, engines, Slack's auth.test, Redis)
START_TIMEOUT = 90.0
#: threads that dispatch handed-over requests into the Bolt app (they parse and submit)
INTAKE_THREADS = 4
#: the worker's CPU priority below the front's: when the host's cores are all busy, the
#: kernel runs the acks (a 3 s deadline) before the rendering of replies (none). Mildly: the
#: host's containers run at 0, and at 10 (a tenth of their share) a busy host starved the
#: worker of the Docker work, replies and alerts it owes (seen under the test suite's load).
NICENESS = 4


# --- the front's side ---------------------------------------------------------------------


class WorkerProcess:
    """The front's handle on its worker: start it, hand it requests, ask it questions, stop
    it. Sending never blocks the caller (an ack): a thread of its own writes to the pipe."""

    def __init__(self, store_url: str | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._inbox_reader, self._inbox = context.Pipe(duplex=False)
        self._answers, self._answers_writer = context.Pipe(duplex=False)
        self.process: BaseProcess = context.Process(
            target=run,
            args=(self._inbox_reader, self._answers_writer, store_url),
            name="dockhand-worker",
        )
        self._outgoing: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._asked: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failure = ""

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the worker and wait until it serves. Raises RuntimeError when it cannot."""
        self.process.start()
        # The child holds its own ends now; closing ours lets end of file reach each side.
        self._inbox_reader.close()
        self._answers_writer.close()
        threading.Thread(target=self._send_loop, name="dockhand-to-worker", daemon=True).start()
        threading.Thread(target=self._read_loop, name="dockhand-from-worker", daemon=True).start()
        if not self._ready.wait(timeout) or self._failure:
            reason = self._failure or f"not ready within {timeout:g} s"
            self.kill()
            raise RuntimeError(f"the worker process did not start: {reason}")
        log.info("worker process %s started", self.process.pid)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def exitcode(self) -> int | None:
        return self.process.exitcode

    def forward(self, body: dict[str, Any], headers: dict[str, Any]) -> None:
        """A request the front acked, for the worker to carry out."""
        self._outgoing.put(("request", body, headers))

    def mirror(self, fields: dict[str, str]) -> None:
        self._outgoing.put(("mirror", fields))

    def ask(self, question: str, timeout: float) -> Any:
        """The worker's answer ("health": (healthy, detail); "metrics": exposition bytes), or
        None when it does not answer within `timeout`."""
        key = next(self._ids)
        answered = threading.Event()
        slot: list[Any] = []
        with self._lock:
            self._asked[key] = (answered, slot)
        self._outgoing.put(("ask", key, question))
        answered.wait(timeout)
        with self._lock:
            self._asked.pop(key, None)
        return slot[0] if slot else None

    def terminate(self) -> None:
        """SIGTERM: the worker drains its work in flight (the grace), then exits."""
        if self.process.is_alive() and self.process.pid is not None:
            os.kill(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)

    def join(self, timeout: float | None = None) -> int | None:
        self.process.join(timeout)
        return self.process.exitcode

    def ended(self, timeout: float | None = None) -> bool:
        """Wait until the worker has exited, without reaping it (join does that, in one
        thread only: two threads reaping one child race for its status)."""
        return bool(multiprocessing.connection.wait([self.process.sentinel], timeout))

    def close(self) -> None:
        self._outgoing.put(None)

    def _send_loop(self) -> None:
        while True:
            message = self._outgoing.get()
            if message is None:
                break
            try:
                self._inbox.send(message)
            except (OSError, ValueError) as exc:  # the worker is gone; the front notices
                log.error("cannot reach the worker process: %s", exc)
                if message[0] == "request":
                    log.error("a request was not carried out: %s", _describe(message[1]))
        self._inbox.close()

    def _read_loop(self) -> None:
        while True:
            try:
                message = self._answers.recv()
            except (EOFError, OSError):
                self._failure = self._failure or "exited"
                self._ready.set()
                return
            kind = message[0]
            if kind == "ready":
                self._ready.set()
            elif kind == "failed":
                self._failure = str(message[1])
                self._ready.set()
            elif kind == "answer":
                with self._lock:
                    waiting = self._asked.get(message[1])
                if waiting is not None:
                    waiting[1].append(message[2])
                    waiting[0].set()


def _describe(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or "?")


# --- the worker's side --------------------------------------------------------------------


def run(inbox: Connection, answers: Connection, store_url: str | None) -> None:
    """The worker process's main (multiprocessing's spawn target)."""
    from bot import logs, redaction
    from bot.cli import known_secrets
    from config import load_settings

    settings = load_settings()
    logs.setup(settings.log_level, settings.log_json, known_secrets(settings))
    redaction.configure(settings.secret_names)
    try:
        os.nice(NICENESS)
    except OSError as exc:  # a container without the right to lower it: equal footing
        log.warning("worker: could not lower its CPU priority: %s", exc)
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        if not stopping.is_set():
            log.info("worker: signal %d: finishing work in flight", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C in a terminal reaches the whole process group: the front drains us anyway.
    signal.signal(signal.SIGINT, stop)
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            try:
                answers.send(message)
            except (OSError, ValueError):
                stopping.set()  # the front is gone

    if store_url is not None:
        from bot import store

        store.embedded = lambda: store.connect(store_url)
    try:
        runtime, app = _build(settings)
    except Exception as exc:
        log.exception("worker: could not start")
        send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    for start in runtime.on_start:
        start()
    threading.Thread(
        target=_read_loop,
        args=(inbox, runtime, app, send, stopping),
        name="dockhand-from-front",
        daemon=True,
    ).start()
    send(("ready",))
    stopping.wait()
    left = wind_down(runtime)
    logging.shutdown()
    if left:
        # Threads still blocked in Docker calls would hold the process past its grace.
        os._exit(0)


def _build(settings: Any) -> tuple[Runtime, Any]:
    from bot.runtime import Runtime
    from bot.slack_app import build_app

    runtime = Runtime.from_settings(settings, serving=True)
    app = build_app(runtime)
    wire_scheduler(runtime)
    return runtime, app


def _read_loop(
    inbox: Connection,
    runtime: Runtime,
    app: Any,
    send: Callable[[tuple[Any, ...]], None],
    stopping: threading.Event,
) -> None:
    """Takes what the front hands over, at once (a full pipe would make the front's sender
    wait). A request is dispatched on threads of its own, not the Docker executor: its
    listener only parses and submits, and a login form must open within the 3 s its
    trigger lives, whatever Docker work fills the executor."""
    intake = ThreadPoolExecutor(INTAKE_THREADS, thread_name_prefix="dockhand-intake")
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            if not stopping.is_set():
                log.warning("worker: the front process is gone; finishing work in flight")
            stopping.set()
            return
        kind = message[0]
        if kind == "request":
            intake.submit(_dispatch, app, message[1], message[2])
        elif kind == "mirror":
            audit = runtime.pipeline.audit
            if audit is not None and audit.mirror is not None:
                audit.mirror(message[1])
        elif kind == "ask":
            threading.Thread(
                target=_answer, args=(runtime, send, message[1], message[2]), daemon=True
            ).start()


def _dispatch(app: Any, body: dict[str, Any], headers: dict[str, Any]) -> None:
    from slack_bolt import BoltRequest

    try:
        # Checked by the front: in as Socket Mode's requests come (nothing to verify).
        app.dispatch(BoltRequest(body=body, headers=headers, mode="socket_mode"))
    except Exception:
        log.exception("worker: a handed-over request failed: %s", _describe(body))


def _answer(runtime: Runtime, send: Callable[[tuple[Any, ...]], None], key: int, what: str) -> None:
    value: Any = None
    try:
        if what == "health":
            value = runtime.health()
        elif what == "metrics":
            value = runtime.metrics.exposition()
    except Exception:
        log.exception("worker: answering %s failed", what)
    send(("answer", key, value))


def wind_down(runtime: Runtime) -> list[object]:
    """SIGTERM's drain: no new scheduled runs, work in flight gets the grace (what is left is
    reported to its requester), then the background parts stop (the lease goes back)."""
    runtime.draining.set()
    left: list[object] = []
    try:
        if runtime.schedules is not None:
            runtime.schedules.hold()  # a job due now would start after the drain began
        left.extend(runtime.drain(runtime.settings.shutdown_grace))
        runtime.supervisor.stop()
        for stop_part in runtime.on_stop:
            try:
                stop_part()
            except Exception:
                log.exception("stopping %s failed", getattr(stop_part, "__qualname__", "?"))
    finally:
        runtime.close()
    return left


def wire_scheduler(runtime: Runtime) -> None:
    """The embedded scheduler: jobs find this runtime; the lease goes back on the way out."""
    from bot import messages
    from bot.render import Reply
    from bot.runtime import JobsHost

    schedules = runtime.schedules
    if schedules is None:
        return
    JobsHost(runtime).install()

    def lost(record: Any) -> None:
        text = messages.schedule_lost(record.id, record.describe())
        runtime.notify(record.channel, Reply(ok=False, text=text, ephemeral=False))

    if runtime.settings.alert_channel:
        from bot.alerts import EventWatcher

        for host in runtime.pipeline.engines.names:
            watcher = EventWatcher(runtime, host, runtime.settings.alert_channel)
            runtime.on_start.append(watcher.start)
            runtime.on_stop.append(watcher.stop)
    schedules.on_lost = lost
    schedules.spawn = runtime.supervisor.spawn  # lease, wake listener, scheduler: restarted

    runtime.on_start.append(schedules.start)
    runtime.on_stop.append(schedules.shutdown)
    runtime.health_checks["scheduler"] = lambda: (True, schedules.role)
