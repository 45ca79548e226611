"""The terminal renderer, beside Slack's (bot/render.py): what `dockhand do` and the console
print, shaped as the docker CLI prints it, so it can be piped. Bare IDs for `run -d` and
`create`, IDs alone for `-q`, the JSON array alone for `inspect`, tables without the summary
line Slack shows above them; errors go to stderr with the CLI's exit statuses. What Slack
adds (summaries, who did it) stays in Slack and in `do --json`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.reply import Reply, format_facts
from handlers.commands import Command, Login, RunContainer
from handlers.container_facts import CliLines, WaitResult
from handlers.exec import ExecResult

if TYPE_CHECKING:
    from bot.pipeline import Pipeline
    from bot.policy import Requester
from handlers.context import RegistryAuth
from handlers.errors import DockhandError, UnknownCommand, UsageError
from handlers.results import (
    BatchResult,
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    EngineInfo,
    EngineVersion,
    FormattedResult,
    ImageList,
    InspectResult,
    PruneResult,
    PullResult,
    PushResult,
    Result,
    Table,
    TagResult,
    TextResult,
)
from handlers.template import TemplateError, align_columns

# The docker CLI's exit statuses (cli/cli/command/container/run.go and cobra's flag errors).
FAILED = 1  # most errors, and a wrong number of arguments
FLAG_ERROR = 125  # a flag the CLI cannot parse; also what `run`/`create` exit with on an error
CANNOT_INVOKE = 126  # `run`: the command is there but cannot be run
NOT_FOUND = 127  # `run`: no such command in the container


@dataclass(frozen=True)
class Outcome:
    """One command as the terminal saw it: the reply, the command it ran (None when it did not
    parse) and the error that stopped it before the pipeline made a reply of it."""

    reply: Reply
    command: Command | None = None
    error: BaseException | None = None


def run(
    pipeline: Pipeline,
    text: str,
    requester: Requester,
    *,
    confirmed: bool = False,
    credentials: Callable[[Login], RegistryAuth] | None = None,
) -> Outcome:
    """The pipeline's run, keeping what the terminal needs for the CLI's exit status: the
    command, and the error when it did not parse. `credentials` gives a `login` its password
    (stdin, a hidden prompt): the pipeline checks it with the registry and keeps it
    encrypted only if the registry accepts it, as after Slack's login form."""
    try:
        prepared = pipeline.prepare(text, requester)
        command = prepared.command
        login = credentials(command) if credentials and isinstance(command, Login) else None
    except Exception as exc:
        return Outcome(pipeline.failure(exc, text), None, exc)
    reply = pipeline.finish(prepared, login=login, confirmed=confirmed)
    return Outcome(reply, command)


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


# `/docker` where it starts a word (a line, after a space or a backtick): never a path's end.
_SLASH_COMMAND = re.compile(r"(^|[\s`])/docker(?=[\s`]|$)", re.MULTILINE)


def _as_cli(text: str) -> str:
    """Dockhand's words name the command as Slack's users type it (`/docker stop web`); at
    the terminal it is the CLI's own name, as in its usage lines."""
    return _SLASH_COMMAND.sub(r"\1docker", text)


def _text(text: str) -> str:
    """Free text as a stream: ends with one newline unless it is empty."""
    return text if not text or text.endswith("\n") else text + "\n"


def table_lines(table: Table, *, header: bool = True) -> list[str]:
    """Rows as the CLI's tabwriter aligns them (min width 10, padding 3)."""
    rows = ([table.columns] if header else []) + table.rows
    return align_columns(["\t".join(cells) for cells in rows])


def _stdout_of(result: Result) -> str:
    if isinstance(result, FormattedResult):
        return _lines(result.lines)
    if isinstance(result, InspectResult):
        if result.formatted is not None:
            return _lines(result.formatted)
        # Go's encoder: no ASCII escaping, but <, > and & as \u003c, \u003e, \u0026.
        raw = json.dumps(result.objects, indent=4, ensure_ascii=False)
        raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return raw + "\n"
    if isinstance(result, ContainerRun):
        detached = result.started and result.exit_code is None and not result.still_running
        if result.verb == "container:create" or detached:
            return result.id + "\n"
        return result.output
    if isinstance(result, ContainerLogsResult):
        return result.text
    if isinstance(result, ExecResult):
        return result.stdout
    if isinstance(result, CliLines):
        return _lines(result.lines)
    if isinstance(result, BatchResult):
        return _lines(result.done)
    if isinstance(result, TagResult):
        return ""
    if isinstance(result, PullResult):
        status = (
            f"Status: {result.status}\n"
            if result.status.startswith(("Downloaded", "Image"))
            else ""
        )
        digest = f"Digest: {result.digest}\n" if result.digest else ""
        return f"{digest}{status}{result.reference}\n"
    if isinstance(result, PushResult):
        return f"{result.reference}: digest: {result.digest} size: {result.size}\n"
    if isinstance(result, PruneResult):
        ids = [d.removeprefix(f"{result.kind} ") for d in result.deleted]
        deleted = f"Deleted {result.kind.capitalize()}s:\n{_lines(ids)}\n"
        from handlers.units import human_size

        space = human_size(result.space_reclaimed, 3) if result.space_reclaimed else "0B"
        return (deleted if result.deleted else "") + f"Total reclaimed space: {space}\n"
    if isinstance(result, EngineVersion) and result.server:
        from bot.version_text import version_text

        return version_text(result)
    if isinstance(result, EngineInfo) and result.server:
        from bot.info_text import info_text
        from handlers.system import dockhand_version

        return info_text(result, dockhand_version())
    if isinstance(result, EngineVersion | EngineInfo):
        return _lines(format_facts(result.facts()))
    if isinstance(result, ContainerList | ImageList):
        return _lines(table_lines(result.table(), header=not result.quiet))
    table = result.table()
    if table is not None:
        # A one-column listing is a -q listing (`volume ls -q`, `history -q`): no header.
        shown = _lines(table_lines(table, header=len(table.columns) > 1))
        return shown + (_lines(format_facts(result.facts())) if result.facts() else "")
    parts = [result.summary()] if result.summary() else []
    if result.facts():
        parts += format_facts(result.facts())
    if result.body():
        parts.append(result.body())
    shown = "\n".join(parts)
    # Help (Dockhand's own words): the command named as the CLI's users type it. Nothing
    # else: an engine's or a container's text is printed as it came.
    return _text(_as_cli(shown) if isinstance(result, TextResult) else shown)


def stdout_text(shown: Reply | Result) -> str:
    """What goes to stdout, as the docker CLI would print it (newlines included)."""
    reply = shown if isinstance(shown, Reply) else None
    result = shown.result if isinstance(shown, Reply) else shown
    if result is None:
        return "" if reply is None or not reply.ok or reply.pending else _text(reply.text)
    if reply is not None and reply.pending:
        return ""
    return _stdout_of(result)


def stderr_text(reply: Reply) -> str:
    """What goes to stderr: the error, a preview waiting for --yes, a batch's failures, a
    container's warnings."""
    result = reply.result
    if result is None:
        return "" if reply.ok and not reply.pending else _text(_as_cli(reply.text))
    if isinstance(result, BatchResult):
        return _text(result.body())
    if isinstance(result, ExecResult):
        return result.stderr + (_text(result.summary()) if result.still_running else "")
    if isinstance(result, WaitResult):
        waiting = result.still_running and [
            f"still running after {result.seconds:g} s: {', '.join(result.still_running)}"
        ]
        return _lines([message for _, message in result.errors] + (waiting or []))
    if isinstance(result, EngineInfo):
        return _lines(result.warnings)  # as the CLI: the engine's warnings on stderr
    if isinstance(result, ContainerRun):
        notes = [f"WARNING: {w}" for w in result.warnings]
        if result.still_running:
            notes.append(result.summary())
        return _lines(notes)
    return ""


def exit_status(outcome: Outcome) -> int:
    """The docker CLI's exit status for this outcome."""
    reply, command, error = outcome.reply, outcome.command, outcome.error
    if isinstance(error, UsageError) and not isinstance(error, TemplateError):
        return usage_status(error)
    result = reply.result
    if isinstance(result, ContainerRun):
        if result.exit_code is not None:
            return result.exit_code  # a foreground run: the container's own status
        return 0
    if isinstance(result, ExecResult) and result.exit_code is not None:
        return result.exit_code  # as docker exec: the command's own status
    if reply.ok or reply.pending:
        return reply.exit_status
    if result is None and isinstance(command, RunContainer):
        return run_failure_status(reply.text)
    return reply.exit_status


def usage_status(error: UsageError) -> int:
    """docker 28: a flag it cannot parse exits 125; a wrong number of arguments or an unknown
    command exits 1."""
    if isinstance(error, UnknownCommand):
        return FAILED
    message = error.message
    unknown = re.search(r"unrecognized arguments: (\S+)", message)
    if unknown is not None:
        return FLAG_ERROR if unknown.group(1).startswith("-") else FAILED
    if "arguments are required" in message or "accepts" in message or "requires at" in message:
        return FAILED
    return FLAG_ERROR


def run_failure_status(message: str) -> int:
    """What `docker run`/`create` exit with when the daemon refuses: 127 when the command is
    not in the image, 126 when it cannot be run, else 125."""
    if any(
        s in message
        for s in (
            "executable file not found",
            "no such file or directory",
            "system cannot find the file specified",
        )
    ):
        return NOT_FOUND
    if "permission denied" in message:
        return CANNOT_INVOKE
    return FLAG_ERROR


# --- login at a terminal ----------------------------------------------------------------

PASSWORD_ON_COMMAND_LINE = (
    "`{flag}` is refused: a password on the command line stays in your shell history and is "
    "visible to every user of this machine in the process list; use `--password-stdin` "
    "(`dockhand do` reads it from stdin), or in the console type `login` without it for a "
    "hidden prompt"
)


@dataclass(frozen=True)
class TerminalLogin:
    """`login` as typed at a terminal: the text the pipeline parses (without the stdin flag,
    which chat refuses), and whether the password comes from stdin."""

    text: str
    username: str | None
    server: str | None
    password_stdin: bool


def terminal_login(text: str) -> TerminalLogin | None:
    """`[registry] login [-u U] [--password-stdin] [SERVER]` taken apart, or None for any
    other command. A password on the command line (`-p`, `--password`) raises a UsageError
    saying why it is refused."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if words[:1] != ["login"]:
        return None
    kept: list[str] = ["login"]
    username: str | None = None
    stdin = False
    positional: list[str] = []
    rest = iter(words[1:])
    for word in rest:
        name = word.partition("=")[0]
        if name in {"-p", "--password"} or (word.startswith("-p") and not word.startswith("--")):
            raise UsageError(
                PASSWORD_ON_COMMAND_LINE.format(flag=name[:2] if name.startswith("-p") else name),
                token=word,
            )
        if word == "--password-stdin":
            stdin = True
            continue
        kept.append(word)
        if word in {"-u", "--username"}:
            username = next(rest, None)
            if username is not None:
                kept.append(username)
        elif name == "--username" or (word.startswith("-u") and len(word) > 2):
            username = word.partition("=")[2] if name == "--username" else word[2:]
        elif not word.startswith("-"):
            positional.append(word)
    server = positional[0] if positional else None
    return TerminalLogin(shlex.join(kept), username, server, stdin)


def read_password_stdin(stream: object) -> str:
    """The password as `docker login --password-stdin` reads it: all of stdin, the trailing
    newlines (and carriage returns) cut."""
    read = getattr(stream, "read", None)
    data = read() if callable(read) else ""
    return str(data).rstrip("\r\n")


def login_auth(command: Login, username: str | None, password: str) -> RegistryAuth:
    from pydantic import SecretStr

    from handlers.registry import DOCKER_HUB

    if not username:
        raise DockhandError("Must provide --username with --password-stdin")
    if not password:
        raise DockhandError("Error: Password Required")
    return RegistryAuth(
        server=command.server or DOCKER_HUB, username=username, password=SecretStr(password)
    )


def session_only_note() -> str:
    return (
        "note: without DOCKHAND_SECRET_KEY and REDIS_URL this login is kept only until "
        "this command ends"
    )
