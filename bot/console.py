"""`dockhand console`: the same pipeline as Slack, typed in a terminal and drawn with rich.
It runs as the local user with full rights (admin): they already hold the engine socket."""

from __future__ import annotations

import contextlib
import getpass
import readline
import sys
from pathlib import Path

from rich.console import Console

from bot import messages, terminal
from bot.policy import Requester
from bot.reply import Reply
from bot.runtime import Runtime
from config import Settings
from handlers.commands import Login
from handlers.context import RegistryAuth
from handlers.errors import DockhandError

HISTORY = Path.home() / ".dockhand_history"


def draw(console: Console, reply: Reply) -> None:
    """What the docker CLI would print (bot/terminal.py), plain, at the terminal's width:
    nothing wraps or is cut. Errors and previews in red."""
    out = terminal.stdout_text(reply)
    if out:
        console.file.write(out)
    err = terminal.stderr_text(reply)
    if err:
        console.print(_escape(err.rstrip("\n")), style="red", soft_wrap=True, highlight=False)
    console.file.flush()


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def run_console(settings: Settings) -> int:
    console = Console()
    runtime = Runtime.from_settings(settings)
    requester = Requester("console", "console", "console")
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    console.print("Dockhand console: type a docker command (`help` lists them), Ctrl-D to leave.")
    if settings.secret_key is None:
        # The terminal may keep logins for the session; serve refuses without a key instead.
        console.print(f"[dim]{_escape(messages.ephemeral_logins())}[/dim]")
    try:
        while True:
            try:
                line = input("docker> ").strip()
            except EOFError:
                console.print()
                return 0
            except KeyboardInterrupt:
                console.print()
                continue
            if line and not sys.stdin.isatty():
                readline.add_history(line)  # input() records history itself only on a terminal
            if line in {"exit", "quit"}:
                return 0
            for prefix in ("/docker ", "docker "):
                line = line.removeprefix(prefix)
            if line:
                reply = _run(runtime, line, requester)
                draw(console, reply)
                if reply.pending and _confirmed_at_prompt():
                    draw(console, _run(runtime, line, requester, confirmed=True))

    finally:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)
        runtime.close()


def _run(runtime: Runtime, line: str, requester: Requester, confirmed: bool = False) -> Reply:
    """One line through the pipeline; a `login` gets its password from a hidden prompt
    (getpass), or from stdin with --password-stdin, never from the line itself."""
    try:
        typed = terminal.terminal_login(line)
    except DockhandError as exc:
        return runtime.pipeline.failure(exc, line)
    if typed is None:
        return terminal.run(runtime.pipeline, line, requester, confirmed=confirmed).reply
    login = typed

    def credentials(command: Login) -> RegistryAuth:
        if login.password_stdin:
            password = terminal.read_password_stdin(sys.stdin)
            return terminal.login_auth(command, login.username, password)
        username = login.username or input("Username: ").strip()
        return terminal.login_auth(command, username, getpass.getpass("Password: "))

    return terminal.run(
        runtime.pipeline, login.text, requester, confirmed=confirmed, credentials=credentials
    ).reply


def _confirmed_at_prompt() -> bool:
    try:
        return input("Confirm? [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False
