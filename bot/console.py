"""`dockhand console`: the same pipeline as Slack, typed in a terminal and drawn with rich.
It runs as the local user with full rights (admin): they already hold the engine socket."""

from __future__ import annotations

import contextlib
import readline
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from bot import messages
from bot.policy import Requester
from bot.reply import Reply, format_facts
from bot.runtime import Runtime
from config import Settings

HISTORY = Path.home() / ".dockhand_history"
STATE_STYLES = {
    "running": "green",
    "exited-ok": "dim",
    "exited": "red",
    "restarting": "yellow",
    "unhealthy": "dark_orange",
    "paused": "yellow",
    "created": "blue",
    "dead": "red",
}


def draw(console: Console, reply: Reply) -> None:
    result = reply.result
    if not reply.ok and result is None:
        console.print(f"[red]{_escape(reply.text)}[/red]")
        return
    if result is None:
        console.print(_escape(reply.text))
        return
    if result.summary():
        console.print(f"[bold]{_escape(result.summary())}[/bold]")
    table = result.table()
    if table is not None:
        grid = RichTable(*table.columns, box=None, header_style="bold", pad_edge=False)
        for n, row in enumerate(table.rows):
            mark = table.marks[n] if n < len(table.marks) else ""
            grid.add_row(*row, style=STATE_STYLES.get(mark))
        console.print(grid)
    if result.facts():
        console.print(_escape("\n".join(format_facts(result.facts()))))
    if result.body():
        console.print(_escape(result.body()), style="red" if result.failed() else None)


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
                reply = runtime.pipeline.run(line, requester)
                draw(console, reply)
                if reply.pending and _confirmed_at_prompt():
                    draw(console, runtime.pipeline.run(line, requester, confirmed=True))

    finally:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)
        runtime.close()


def _confirmed_at_prompt() -> bool:
    try:
        return input("Confirm? [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False
