"""`dockhand`: serve the Slack bot, run one command (`do`), or a terminal console.
`do` and `console` act as the local user with full rights (they already hold the engine
socket), with an ephemeral credentials key when DOCKHAND_SECRET_KEY is unset."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

# Nothing heavy at import time: `dockhand do` pays for what its command needs, and `serve`,
# `reference` and `keygen` load their own (tests/unit/test_cli_imports.py keeps it so).
if TYPE_CHECKING:
    from bot.policy import Requester
    from bot.terminal import TerminalLogin
    from config import Settings

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

    from config import ConfigError, load_settings

    try:
        settings = load_settings()
        if args.mode != "serve" and not _may_use_ssh(settings):
            # docker-py imports paramiko (0.1 s with its own imports) for ssh:// engines
            # alone: with none configured, this process goes on as if it were not installed.
            sys.modules.setdefault("paramiko", None)  # type: ignore[arg-type]
        from bot import logs, redaction

        logs.setup(settings.log_level, settings.log_json, known_secrets(settings))
        if args.mode != "serve":
            # A terminal prints what the CLI prints: the scheduler's client side (`schedule
            # ...` writes to the job store) says "Added job" at INFO on stderr otherwise.
            import logging

            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        redaction.configure(settings.secret_names)  # every front end, not only Slack's
        if args.mode == "serve":
            from bot.front import serve_forever  # a front process and its worker

            return serve_forever(settings, args.bind, args.port)
        if args.mode == "do":
            from bot.policy import Requester

            return do_once(
                settings, args.text, Requester(args.user, args.channel, "cli"), args.json, args.yes
            )
        from bot.console import run_console

        return run_console(settings)
    except ConfigError as exc:
        print(f"dockhand: {exc}", file=sys.stderr)
        return 1


def _may_use_ssh(settings: Settings) -> bool:
    """Whether an engine may be reached over ssh:// (a hosts file may name one)."""
    if settings.hosts_file is not None:
        return True
    return any(url.startswith("ssh://") for url in settings.hosts.values())


def known_secrets(settings: Settings) -> list[str]:
    """The secret settings' values: the logs never show them (serve's worker too)."""
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
    import json
    import os
    import signal

    from bot import messages, terminal
    from bot.runtime import Runtime
    from handlers.commands import Login
    from handlers.context import RegistryAuth
    from handlers.errors import DockhandError

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


def _password(login: TerminalLogin) -> str:
    """A login's password as the CLI gets it: stdin with --password-stdin, else a hidden
    prompt on a terminal (never echoed)."""
    from bot import terminal
    from handlers.errors import DockhandError

    if login.password_stdin:
        return terminal.read_password_stdin(sys.stdin)
    if not sys.stdin.isatty():
        raise DockhandError(
            "Error: Cannot perform an interactive login from a non TTY device: use --password-stdin"
        )
    import getpass

    return getpass.getpass("Password: ")


if __name__ == "__main__":
    sys.exit(main())
