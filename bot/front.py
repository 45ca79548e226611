"""`dockhand serve`'s front process: the port (/slack/events, /healthz, /metrics) or the
Socket Mode connection, the signature check, and every ack. It starts the worker process
(bot/worker.py; without REDIS_URL also the store's, bot/embedded_store.py) and hands the
worker each acked request that has work to do; Docker work and rendering never share this
interpreter's lock, so acks stay fast however busy the worker is.

What the ack needs is done here, as in one process: a slash command is parsed and authorized
(bot/slack_app.py's on_command: usage errors, refusals and help come in the ack itself; a
command that will run is acked and handed over). Clicks, forms and events are acked at once
and handed over whole. /healthz and /metrics are this process's and the worker's together;
SIGTERM drains both (the port stays open meanwhile); if the worker dies the front stops too
(exit status 1) so the service manager restarts both.
"""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient

from bot import messages, store
from bot.embedded_store import StoreProcess
from bot.runtime import Runtime
from bot.server import DockhandHTTPServer, refuse_while_draining
from bot.slack_app import SlackFrontEnd, bolt_app
from bot.worker import WorkerProcess
from config import Settings

log = logging.getLogger("dockhand.front")
#: seconds /healthz waits for the worker's own check (it pings each engine)
HEALTH_WAIT = 10.0
#: the slash command being acked (its body and headers): handed over if it is to run
_ACKING: contextvars.ContextVar[tuple[dict[str, Any], dict[str, Any]] | None] = (
    contextvars.ContextVar("dockhand_acking", default=None)
)


class FrontDoor(SlackFrontEnd):
    """The slash command's ack, exactly as in one process; where it would start the work on
    this process's executor, the request goes to the worker instead."""

    def __init__(self, runtime: Runtime, client: WebClient, worker: WorkerProcess) -> None:
        super().__init__(runtime, client)
        self.worker = worker

    def on_command(self, ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        headers = {k: list(v) for k, v in request.headers.items()}
        token = _ACKING.set((body, headers))
        try:
            super().on_command(ack, body, request)
        finally:
            _ACKING.reset(token)

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        acking = _ACKING.get()
        if acking is None:  # nothing but a command's ack submits work here
            log.error("work submitted outside a command's ack was not run: %s", job)
            return
        self.worker.forward(*acking)


def hand_over(worker: WorkerProcess) -> Callable[..., BoltResponse | None]:
    """Bolt middleware, after the signature check and the drain's refusal: a slash command
    goes on to its listener (the ack; FrontDoor hands it over if it is to run); any other
    request is acked empty at once and goes to the worker whole."""

    def middleware(req: BoltRequest, next: Callable[[], BoltResponse | None]) -> Any:
        if req.body.get("command"):
            return next()
        worker.forward(req.body, {k: list(v) for k, v in req.headers.items()})
        return BoltResponse(status=200, body="")

    return middleware


class CommandsFirst:
    """What the HTTP server dispatches to: a slash command is acked without Bolt's dispatch
    (its middleware chain, and a Web API client it builds for every request, cost more than
    the ack itself: measured, docs/bench-ack.md), through the same steps: Bolt's own
    signature check (its RequestVerification middleware), the drain's refusal, on_command.
    Anything else (clicks, forms, events, Slack's URL and SSL checks) goes through the app."""

    def __init__(self, app: App, front: FrontDoor, signing_secret: str, command: str) -> None:
        self.app = app
        self.front = front
        self.command = command
        self.verification = RequestVerification(signing_secret)
        self.refusal = refuse_while_draining(front.runtime.draining.is_set)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.mode != "http" or req.body.get("command") != self.command:
            return self.app.dispatch(req)
        checked = self.verification.process(req=req, resp=_PASSED, next=_go_on)
        if checked is not _PASSED:
            return checked  # 401
        refused = self.refusal(req.body, _go_on)
        if refused is not _PASSED and refused is not None:
            return refused
        ack = Ack()  # type: ignore[no-untyped-call]
        try:
            self.front.on_command(ack, req.body, req)
        except Exception:
            log.exception("acking a command failed")
            return BoltResponse(status=500, body="")
        return ack.response or BoltResponse(status=200, body="")


#: what a middleware called on its own returns when it lets the request pass
_PASSED = BoltResponse(status=200)


def _go_on() -> BoltResponse:
    """`next` for a middleware called on its own."""
    return _PASSED


def build_front_app(runtime: Runtime, worker: WorkerProcess) -> tuple[App, FrontDoor]:
    """The Bolt app of the front: the signature check, the drain's refusal, the hand-over,
    and the slash command's ack. Only acks run here."""
    settings = runtime.settings
    app, client = bolt_app(runtime)
    front = FrontDoor(runtime, client, worker)
    if runtime.pipeline.audit is not None:
        # A refusal in the ack is audited here; its line in the audit channel is posted by
        # the worker, which delivers everything Slack must get.
        runtime.pipeline.audit.mirror = worker.mirror
    app.use(refuse_while_draining(runtime.draining.is_set))
    app.use(hand_over(worker))
    app.command(settings.slash_command)(front.on_command)
    return app, front


class _Families:
    """A collector that yields families already gathered (the merged exposition)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def merge_expositions(*texts: bytes) -> bytes:
    """Prometheus text from several processes as one: samples with the same name and labels
    are added (counters, histograms; a gauge lives in one process), `_created` is the
    earliest."""
    families: dict[str, Metric] = {}
    for text in texts:
        for family in text_string_to_metric_families(text.decode()):
            known = families.get(family.name)
            if known is None:
                families[family.name] = family
                continue
            index = {
                (s.name, tuple(sorted(s.labels.items()))): i for i, s in enumerate(known.samples)
            }
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in index:
                    known.samples.append(sample)
                    continue
                old = known.samples[index[key]]
                if sample.name.endswith("_created"):
                    value = min(old.value, sample.value)
                else:
                    value = old.value + sample.value
                known.samples[index[key]] = old._replace(value=value)
    registry = CollectorRegistry()
    registry.register(_Families(list(families.values())))
    return generate_latest(registry)


def serve_forever(settings: Settings, bind: str, port: int) -> int:
    settings.require("slack_bot_token")
    socket_mode = settings.slack_app_token is not None
    if not socket_mode:
        settings.require("slack_signing_secret")
    embedded = StoreProcess() if settings.redis_url is None else None
    try:
        store_url = embedded.start() if embedded is not None else None
        worker = WorkerProcess(store_url)
        # Started first: its start-up (imports, engines, Slack, Redis) overlaps ours.
        worker.start()
    except RuntimeError as exc:
        log.error("%s", exc)
        if embedded is not None:
            embedded.stop()
        return 1
    if store_url is not None:
        store.embedded = lambda: store.connect(store_url)
    runtime = Runtime.from_settings(settings, serving=True)

    policy = runtime.pipeline.policy
    if policy.is_open:
        log.warning(messages.open_roles_notice(len(policy.admins)))
    if settings.secret_key is None:
        log.warning(messages.no_secret_key_warning())
    app, front = build_front_app(runtime, worker)
    secret = settings.slack_signing_secret
    dispatcher = (
        None
        if socket_mode or secret is None
        else CommandsFirst(app, front, secret.get_secret_value(), settings.slash_command)
    )

    def health() -> tuple[bool, dict[str, Any]]:
        return front_health(runtime, worker)

    def metrics() -> bytes:
        theirs = worker.ask("metrics", HEALTH_WAIT) if worker.alive() else None
        return merge_expositions(runtime.metrics.exposition(), theirs or b"")

    server = DockhandHTTPServer(
        (bind, port),
        dispatcher,
        health,
        metrics=metrics,
        ack_seconds=runtime.metrics.ack_seconds.observe,
        ops_token=settings.ops_token.get_secret_value() if settings.ops_token else None,
    )
    stopping = threading.Event()
    status = [0]

    def wind_down() -> None:
        """The worker drains (the grace) while the port stays open, then the port closes."""
        try:
            worker.join(settings.shutdown_grace + 30)
            if worker.alive():
                log.error("the worker did not stop after its grace: killed")
                worker.kill()
        finally:
            server.shutdown()

    def stop(signum: int, frame: object) -> None:
        if stopping.is_set():
            return
        log.info("signal %d: no new commands; finishing work in flight", signum)
        stopping.set()
        runtime.draining.set()
        worker.terminate()
        threading.Thread(target=wind_down, name="dockhand-drain", daemon=True).start()

    def watch_worker() -> None:
        worker.ended()
        if stopping.is_set():
            return  # a shutdown: wind_down reaps it
        code = worker.join(5)
        log.error("the worker process exited (status %s): stopping", code)
        status[0] = 1
        stopping.set()
        runtime.draining.set()
        server.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_worker, name="dockhand-worker-watch", daemon=True).start()
    handler = None
    try:
        if socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
            handler.connect()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected")
        log.info(
            "listening on %s:%d (worker process %s)", bind, server.server_address[1], worker.pid
        )
        server.serve_forever(poll_interval=0.2)
    finally:
        if not stopping.is_set():  # the server failed: stop the worker as a signal would
            stopping.set()
            runtime.draining.set()
            worker.terminate()
            wind_down()
        server.server_close()
        if handler is not None:
            handler.close()  # type: ignore[no-untyped-call]
        worker.close()
        runtime.close()
        if embedded is not None:
            embedded.stop()  # after the worker: its drain still writes to the store
        logging.shutdown()
    return status[0]


def front_health(runtime: Runtime, worker: WorkerProcess) -> tuple[bool, dict[str, Any]]:
    """The worker's own check (engines, store, components, scheduler), and this process's:
    the worker alive and answering, and not draining."""
    if not worker.alive():
        healthy, detail = False, {"worker": f"exited (status {worker.exitcode()})"}
    else:
        answer = worker.ask("health", HEALTH_WAIT)
        if answer is None:
            healthy, detail = False, {"worker": f"not answering within {HEALTH_WAIT:g} s"}
        else:
            healthy, detail = answer
            detail = {**detail, "worker": "ok"}
    if runtime.draining.is_set():
        healthy = False
        detail.setdefault("shutdown", "draining")
    return healthy, detail
