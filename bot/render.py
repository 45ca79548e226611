"""Results and errors as a Reply: plain text for terminals and fallbacks, Block Kit for Slack."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot import messages
from bot.audit import Entry
from bot.confirm import Pending
from handlers.errors import DockhandError, EngineError, NotAllowed, UsageError
from handlers.preview import Preview
from handlers.results import (
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    Result,
    Table,
    TableResult,
)

# action_id prefixes of Dockhand's buttons: run a command, turn a page.
RUN_ACTION = "dockhand.run"
PAGE_ACTION = "dockhand.page"
CONFIRM_ACTION = "dockhand.confirm"
CANCEL_ACTION = "dockhand.cancel"
# Slack's own limits: a section's text, blocks in a message.
SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
# Columns that fit a phone; the terminal gets them all.
CHAT_COLUMNS = {
    "CONTAINER ID": True,
    "IMAGE": True,
    "COMMAND": False,
    "CREATED": False,
    "STATUS": True,
    "PORTS": True,
    "NAMES": True,
    "REPOSITORY": True,
    "TAG": True,
    "DIGEST": True,
    "IMAGE ID": True,
    "SIZE": True,
}
MARKS = {
    "running": "🟢",
    "exited-ok": "⚪",
    "exited": "🔴",
    "restarting": "🔄",
    "unhealthy": "🟠",
    "paused": "🟡",
    "created": "🔵",
    "dead": "💀",
    "removing": "🗑️",
}


@dataclass(frozen=True)
class Upload:
    """Output too long for a message: it goes to Slack as a file, with an excerpt shown."""

    filename: str
    content: str
    title: str


@dataclass
class Reply:
    """What one command produced, ready for any front end."""

    ok: bool
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    result: Result | None = None
    ephemeral: bool = True
    exit_status: int = 0
    reference: str | None = None
    upload: Upload | None = None
    page: int = 0
    pages: int = 1
    #: a confirmation this reply asks for (its id)
    pending: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "text": self.text,
            "blocks": self.blocks,
            "result": self.result.model_dump(mode="json") if self.result else None,
        }


def format_table(table: Table, *, chat: bool = False) -> list[str]:
    """Aligned lines, three spaces between columns as the docker CLI does.

    In chat, columns that are empty on every row or too wide for a phone are dropped,
    and each row starts with its state's emoji.
    """
    keep = [
        i
        for i, name in enumerate(table.columns)
        if not chat or (CHAT_COLUMNS.get(name, True) and any(row[i] for row in table.rows))
    ] or list(range(len(table.columns)))
    header = [table.columns[i] for i in keep]
    rows = [[row[i] for i in keep] for row in table.rows]
    widths = [max(len(cell) for cell in col) for col in zip(header, *rows, strict=True)]
    lines = []
    prefix = chat and bool(table.marks)
    for n, cells in enumerate([header, *rows]):
        line = "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        if prefix:
            line = ("   " if n == 0 else MARKS.get(table.marks[n - 1], "▫️") + " ") + line
        lines.append(line)
    return lines


def format_facts(facts: list[tuple[str, str]]) -> list[str]:
    width = max((len(label) for label, _ in facts), default=0)
    return [f"{label + ':':<{width + 1}} {value}" for label, value in facts if value != ""]


def plain_text(result: Result) -> str:
    if result.verbatim():
        return result.body()
    parts = [result.summary()] if result.summary() else []
    table = result.table()
    if table is not None:
        parts.append("\n".join(format_table(table)))
    if result.facts():
        parts.append("\n".join(format_facts(result.facts())))
    if result.body():
        parts.append(result.body())
    return "\n".join(parts)


def _code_sections(lines: list[str], budget: int) -> tuple[list[Block], int]:
    """Lines in code-block sections within Slack's text limit; returns how many lines fit."""
    sections: list[Block] = []
    chunk: list[str] = []
    used = 0

    def flush() -> None:
        sections.append(
            SectionBlock(text=MarkdownTextObject(text="```" + "\n".join(chunk) + "```"))
        )

    for line in lines:
        line = line[: SECTION_LIMIT - 10]
        if chunk and sum(len(c) + 1 for c in chunk) + len(line) + 7 > SECTION_LIMIT:
            if len(sections) + 1 >= budget:
                break
            flush()
            chunk = []
        chunk.append(line)
        used += 1
    if chunk:
        flush()
    return sections, used


PAGE_ROWS = 20  # table rows a message shows; Next/Previous buttons page through the rest
BODY_LIMIT = 2800  # characters of free text shown before it becomes a file with an excerpt
EXCERPT_LINES = 20


@dataclass(frozen=True)
class Origin:
    """Where a reply came from, so its buttons can run follow-up commands the same way."""

    text: str = ""
    host: str = "local"
    page: int = 0


def _excerpt(result: Result, body: str) -> tuple[list[str], Upload | None]:
    if len(body) <= BODY_LIMIT:
        return body.splitlines(), None
    lines = body.splitlines()
    # Logs matter at their end, everything else at its start.
    tail = isinstance(result, ContainerLogsResult | ContainerRun)
    shown = lines[-EXCERPT_LINES:] if tail else lines[:EXCERPT_LINES]
    while shown and sum(len(x) + 1 for x in shown) > BODY_LIMIT:
        shown = shown[1:] if tail else shown[:-1]
    kind = "logs" if isinstance(result, ContainerLogsResult) else "output"
    name = getattr(result, "container", None) or getattr(result, "name", None) or "dockhand"
    note = f"… {len(lines) - len(shown)} more lines in the attached file"
    upload = Upload(filename=f"{name}-{kind}.txt", content=body, title=result.summary())
    return ([note, *shown] if tail else [*shown, note]), upload


def chat_view(
    result: Result, origin: Origin, context: str = ""
) -> tuple[list[dict[str, Any]], Upload | None, int]:
    """Block Kit for one page of a result: (blocks, an upload if any, number of pages)."""
    blocks: list[Block] = []
    if result.summary():
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{result.summary()[:2900]}*")))
    table = result.table()
    lines: list[str] = []
    pages = 1
    upload = None
    if table is not None and table.rows:
        pages = max(1, -(-len(table.rows) // PAGE_ROWS))
        page = min(max(origin.page, 0), pages - 1)
        first = page * PAGE_ROWS
        window = Table(
            columns=table.columns,
            rows=table.rows[first : first + PAGE_ROWS],
            marks=table.marks[first : first + PAGE_ROWS],
        )
        lines = format_table(window, chat=True)
        if pages > 1:
            context = (
                f"rows {first + 1}–{first + len(window.rows)} of {len(table.rows)} · {context}"
            )
    elif result.facts():
        lines = format_facts(result.facts())
    if result.body():
        shown, upload = _excerpt(result, result.body())
        lines += shown
    if lines:
        sections, used = _code_sections(lines, BLOCK_LIMIT - len(blocks) - 3)
        blocks += sections
        if used < len(lines):
            context = f"showing {used - 1} of {len(lines) - 1} lines · {context}"
    actions = _actions(result, origin, pages)
    if actions:
        blocks.append(actions)
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context.strip(" ·"))]))
    return [block.to_dict() for block in blocks], upload, pages


def run_value(text: str, host: str) -> str:
    """A button's value: the command it runs, as typed, on the same host."""
    return text if host == "local" else f"-H {host} {text}"


def _actions(result: Result, origin: Origin, pages: int) -> ActionsBlock | None:
    elements: list[Any] = []
    if isinstance(result, ContainerList) and not result.quiet and result.containers:
        first = origin.page * PAGE_ROWS
        shown = result.containers[first : first + PAGE_ROWS]
        for label, verb in (
            ("Logs…", "logs --tail 100"),
            ("Restart…", "restart"),
            ("Stop…", "stop"),
        ):
            options = [
                Option(
                    text=PlainTextObject(text=c.name[:75] or c.id[:12]),
                    value=run_value(f"{verb} {c.name or c.id}", origin.host),
                )
                for c in shown
            ]
            elements.append(
                StaticSelectElement(
                    placeholder=PlainTextObject(text=label),
                    action_id=f"{RUN_ACTION}:{verb.split()[0]}",
                    options=options,
                )
            )
    if isinstance(result, ContainerRun) and result.verb == "container:run":
        elements.append(
            ButtonElement(
                text="Logs",
                action_id=f"{RUN_ACTION}:logs",
                value=run_value(f"logs --tail 100 {result.name}", origin.host),
            )
        )
        if result.still_running or (result.started and result.exit_code is None):
            elements.append(
                ButtonElement(
                    text="Stop",
                    action_id=f"{RUN_ACTION}:stop",
                    style="danger",
                    value=run_value(f"stop {result.name}", origin.host),
                )
            )
    if pages > 1 and origin.text:
        if origin.page > 0:
            elements.append(
                ButtonElement(
                    text="◀ Previous",
                    action_id=f"{PAGE_ACTION}:prev",
                    value=json.dumps({"t": origin.text, "p": origin.page - 1}),
                )
            )
        if origin.page < pages - 1:
            elements.append(
                ButtonElement(
                    text="Next ▶",
                    action_id=f"{PAGE_ACTION}:next",
                    value=json.dumps({"t": origin.text, "p": origin.page + 1}),
                )
            )
    return ActionsBlock(elements=elements) if elements else None


def reply_for(
    result: Result, *, ephemeral: bool, context: str = "", origin: Origin | None = None
) -> Reply:
    failed = result.failed()
    origin = origin or Origin()
    blocks, upload, pages = chat_view(result, origin, context)
    return Reply(
        ok=not failed,
        text=plain_text(result),
        blocks=blocks,
        result=result,
        ephemeral=ephemeral,
        exit_status=1 if failed else 0,
        upload=upload,
        page=min(origin.page, pages - 1),
        pages=pages,
    )


def error_reply(exc: DockhandError) -> Reply:
    """A user-visible failure: the message, and for usage errors the usage line."""
    if isinstance(exc, NotAllowed):
        shown = messages.denied(exc.message)
    elif isinstance(exc, EngineError):
        shown = messages.engine_failed(exc.message)
    else:
        shown = exc.message
    text = exc.message
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=shown[:SECTION_LIMIT]))]
    if isinstance(exc, UsageError) and exc.usage:
        text += f"\n{exc.usage}"
        usage = "```" + exc.usage[: SECTION_LIMIT - 6] + "```"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=usage)))
    return Reply(
        ok=False,
        text=text,
        blocks=[b.to_dict() for b in blocks],
        ephemeral=True,
        exit_status=exc.exit_status,
    )


def apology_reply(reference: str) -> Reply:
    text = messages.apology(reference)
    block = SectionBlock(text=MarkdownTextObject(text=f":x: {text}"))
    return Reply(ok=False, text=text, blocks=[block.to_dict()], exit_status=1, reference=reference)


def preview_reply(shown: Preview, pending: Pending) -> Reply:
    """What a destructive command would do, with Confirm / Cancel. Under the two-person rule
    it is posted in the channel, where a second person can see it."""
    title = f"`/docker {pending.text}` {shown.summary()}"
    lines = shown.lines()
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{title[:2900]}*"))]
    if lines:
        sections, used = _code_sections(lines, BLOCK_LIMIT - 4)
        blocks += sections
        if used < len(lines):
            blocks.append(
                ContextBlock(
                    elements=[MarkdownTextObject(text=f"showing {used} of {len(lines)} items")]
                )
            )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Confirm", action_id=CONFIRM_ACTION, value=pending.id, style="danger"
                ),
                ButtonElement(text="Cancel", action_id=CANCEL_ACTION, value=pending.id),
            ]
        )
    )
    minutes = max(1, round((pending.expires - time.time()) / 60))
    note = f"{messages.confirm_prompt(pending.two_person, pending.user)} · expires in {minutes} min"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    text = "\n".join([title, *lines, note])
    return Reply(
        ok=False,
        text=text,
        blocks=[b.to_dict() for b in blocks],
        ephemeral=not pending.two_person,
        exit_status=1,
        pending=pending.id,
    )


def audit_result(entries: list[Entry]) -> TableResult:
    rows = [
        [
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.time)),
            e.user,
            e.channel,
            e.verb or "-",
            e.decision,
            e.outcome[:40],
            e.text[:60],
        ]
        for e in entries
    ]
    return TableResult(
        title=f"{len(rows)} audit entries (newest first)",
        grid=Table(
            columns=["TIME (UTC)", "USER", "CHANNEL", "VERB", "DECISION", "OUTCOME", "COMMAND"],
            rows=rows,
        ),
    )
