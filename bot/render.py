"""Results and errors as a Reply: plain text for terminals and fallbacks, Block Kit for Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import messages
from handlers.errors import DockhandError, EngineError, NotAllowed, UsageError
from handlers.results import Result, Table

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


def blocks_for(result: Result, context: str = "") -> list[dict[str, Any]]:
    blocks: list[Block] = []
    if result.summary():
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{result.summary()}*")))
    table = result.table()
    lines: list[str] = []
    if table is not None and table.rows:
        lines = format_table(table, chat=True)
    elif result.facts():
        lines = format_facts(result.facts())
    if result.body():
        lines += result.body().splitlines()
    if lines:
        sections, used = _code_sections(lines, BLOCK_LIMIT - len(blocks) - 2)
        blocks += sections
        if used < len(lines):
            context = f"showing {used - 1} of {len(lines) - 1} rows · {context}".rstrip(" ·")
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    return [block.to_dict() for block in blocks]


def reply_for(result: Result, *, ephemeral: bool, context: str = "") -> Reply:
    failed = result.failed()
    return Reply(
        ok=not failed,
        text=plain_text(result),
        blocks=blocks_for(result, context),
        result=result,
        ephemeral=ephemeral,
        exit_status=1 if failed else 0,
    )


def error_reply(exc: DockhandError) -> Reply:
    """A user-visible failure: the message, and for usage errors the usage line."""
    if isinstance(exc, NotAllowed):
        shown = messages.denied(exc.message)
    elif isinstance(exc, EngineError):
        shown = messages.engine_failed(exc.message)
    else:
        shown = messages.usage_failed(exc.message)
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
