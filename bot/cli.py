"""`dockhand`: serve the Slack bot, run one command (`do`), or a terminal console.
`do` and `console` act as the local user with full rights (they already hold the engine
socket), with an ephemeral credentials key when DOCKHAND_SECRET_KEY is unset."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from bot import logs, messages, redaction, terminal
from bot.policy import Requester
from config import ConfigError, Settings, load_settings
from handlers.context import RegistryAuth
from handlers.errors import DockhandError

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from jobs.schedules import ScheduleRecord

log = logging.getLogger("dockhand")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockhand", description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    serve = sub.add_parser("serve", help="run the Slack bot")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    do = sub.add_parser("do", help="run one command as a slash command would")
    do.add_argument("text", help="what a user types after /docker, in one argument")
    do.add_argument("--user", default="cli")
    do.add_argument("--channel", default="cli")
    do.add_argument("--json", action="store_true", help="print one JSON object")
    do.add_argument(
        "--yes",
        action="store_true",
        help="confirm a destructive command (plays the requester's Confirm)",
    )

    sub.add_parser("console", help="an interactive terminal for trying commands")
    sub.add_parser("reference", help="print the command reference (Markdown)")
    sub.add_parser("keygen", help="print a new key for DOCKHAND_SECRET_KEY")
    args = parser.parse_args(argv)
    if args.mode == "reference":
        from bot.reference import render_reference

        print(render_reference())
        return 0
    if args.mode == "keygen":
        # Needs no settings: it is what you run before you have them.
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0

    try:
        settings = load_settings()
        logs.setup(settings.log_level, settings.log_json, _secrets(settings))
        redaction.configure(settings.secret_names)  # every front end, not only Slack's
        if args.mode == "serve":
            return serve_forever(settings, args.bind, args.port)
        if args.mode == "do":
            return do_once(
                settings, args.text, Requester(args.user, args.channel, "cli"), args.json, args.yes
            )
        from bot.console import run_console

        return run_console(settings)
    except ConfigError as exc:
        print(f"dockhand: {exc}", file=sys.stderr)
        return 1


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.ops_token,
        settings.secret_key,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def do_once(
    settings: Settings, text: str, requester: Requester, as_json: bool, yes: bool = False
) -> int:
    """One command, printed as the docker CLI prints it (bot/terminal.py), or as one JSON
    object with what Slack would get."""
    from bot.runtime import Runtime
    from handlers.commands import Login

    runtime = Runtime.from_settings(settings)
    notes: list[str] = []
    try:
        credentials = None
        try:
            typed = terminal.terminal_login(text)
        except DockhandError as exc:
            typed = None
            outcome = terminal.Outcome(runtime.pipeline.failure(exc, text), None, exc)
        else:
            if typed is not None:
                login = typed
                text = typed.text

                def credentials(command: Login) -> RegistryAuth:
                    return terminal.login_auth(command, login.username, _password(login))

                if settings.secret_key is None or settings.redis_url is None:
                    notes.append(terminal.session_only_note())
            outcome = terminal.run(
                runtime.pipeline, text, requester, confirmed=yes, credentials=credentials
            )
    finally:
        runtime.close()
    reply = outcome.reply
    if reply.pending:
        reply.text = f"{reply.text}\n{messages.needs_yes()}"
    try:
        if as_json:
            print(json.dumps(reply.as_json(), indent=None))
            return reply.exit_status
        _write(sys.stdout, terminal.stdout_text(reply))
        _write(sys.stderr, terminal.stderr_text(reply) + "".join(f"{n}\n" for n in notes))
    except BrokenPipeError:
        # `dockhand do "ps" | head -1`: the reader left; no traceback. Point stdout at
        # /dev/null so the interpreter's own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return terminal.exit_status(outcome)


def _write(stream: TextIO, text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()


def _password(login: terminal.TerminalLogin) -> str:
    """A login's password as the CLI gets it: stdin with --password-stdin, else a hidden
    prompt on a terminal (never echoed)."""
    if login.password_stdin:
        return terminal.read_password_stdin(sys.stdin)
    if not sys.stdin.isatty():
        raise DockhandError(
            "Error: Cannot perform an interactive login from a non TTY device: use --password-stdin"
        )
    import getpass

    return getpass.getpass("Password: ")


def wire_scheduler(runtime: Runtime) -> None:
    """The embedded scheduler: jobs find this runtime; the lease goes back on the way out."""
    from bot.render import Reply
    from bot.runtime import JobsHost

    schedules = runtime.schedules
    if schedules is None:
        return
    JobsHost(runtime).install()

    def lost(record: ScheduleRecord) -> None:
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


def serve_forever(settings: Settings, bind: str, port: int) -> int:
    from bot.runtime import Runtime
    from bot.server import DockhandHTTPServer, refuse_while_draining
    from bot.slack_app import build_app

    settings.require("slack_bot_token")
    socket_mode = settings.slack_app_token is not None
    if not socket_mode:
        settings.require("slack_signing_secret")
    # Acks wait for the GIL behind Docker work on the executor: hand it over more often
    # (Python's default is 5 ms) so a burst of acks is not queued behind replies.
    sys.setswitchinterval(0.001)
    runtime = Runtime.from_settings(settings, serving=True)

    policy = runtime.pipeline.policy
    if policy.is_open:
        log.warning(messages.open_roles_notice(len(policy.admins)))
    if settings.secret_key is None:
        log.warning(messages.no_secret_key_warning())
    app = build_app(runtime)
    app.use(refuse_while_draining(runtime.draining.is_set))
    wire_scheduler(runtime)
    # In Socket Mode the port serves only /healthz and /metrics; events come over the socket.
    server = DockhandHTTPServer(
        (bind, port),
        None if socket_mode else app,
        runtime.health,
        metrics=runtime.metrics.exposition,
        ack_seconds=runtime.metrics.ack_seconds.observe,
        ops_token=settings.ops_token.get_secret_value() if settings.ops_token else None,
    )
    stopping = threading.Event()
    left: list[object] = []

    def wind_down() -> None:
        """The port stays open meanwhile: /healthz says 503 and commands are refused while
        work in flight gets its grace; then the background parts stop (the lease goes back)."""
        try:
            if runtime.schedules is not None:
                runtime.schedules.hold()  # a job due now would start after the drain began
            left.extend(runtime.drain(settings.shutdown_grace))
            runtime.supervisor.stop()
            for stop_part in runtime.on_stop:
                try:
                    stop_part()
                except Exception:
                    log.exception("stopping %s failed", getattr(stop_part, "__qualname__", "?"))
        finally:
            server.shutdown()

    def stop(signum: int, frame: object) -> None:
        if stopping.is_set():
            return
        log.info("signal %d: no new commands; finishing work in flight", signum)
        stopping.set()
        runtime.draining.set()
        threading.Thread(target=wind_down, name="dockhand-drain", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    handler = None
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert settings.slack_app_token is not None
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        handler.connect()  # type: ignore[no-untyped-call]
        log.info("Socket Mode connected")
    for start in runtime.on_start:
        start()
    log.info("listening on %s:%d", bind, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if not stopping.is_set():  # the server failed: stop the rest as a signal would
            stopping.set()
            runtime.draining.set()
            wind_down()  # its server.shutdown() returns at once: serve_forever has ended
        server.server_close()
        if handler is not None:
            handler.close()  # type: ignore[no-untyped-call]
        runtime.close()
        logging.shutdown()
    if left:
        # Threads still blocked in Docker calls would hold the process past its grace.
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
