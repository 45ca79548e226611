"""Results and errors as a Reply: plain text for terminals, Block Kit and a fallback `text`
for Slack.

Two rules hold for everything Slack gets from here. Text that is not Dockhand's own wording
(output, names, labels, errors, what the user typed) is escaped (bot/text.py: `safe`), code
blocks included; mrkdwn objects are built by `_md`, which takes `Mrkdwn` only. And every
message fits Slack's limits (bot/slack_limits.py): long output is cut with a count ("… and 250
more lines") and goes whole to the requester as an Upload; a menu value that would not fit
uses the container ID or is left out. Rendering never raises on a result's size or content.
"""

from __future__ import annotations

import json
import logging
import re
import time
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

from bot import messages, update_messages
from bot import slack_limits as limits
from bot.audit import Entry
from bot.confirm import Pending

# The reply and its plain parts are neutral (the terminal draws them too); they live in
# bot/reply.py, without Slack's SDK, and are re-exported here for the Slack side.
from bot.reply import Origin as Origin
from bot.reply import Reply as Reply
from bot.reply import Upload as Upload
from bot.reply import fallback_text as fallback_text
from bot.reply import format_facts as format_facts
from bot.reply import slack_message as slack_message
from bot.text import (
    CODE_FENCES,
    ELLIPSIS,
    Mrkdwn,
    clip,
    code_block,
    code_line,
    join,
    keep_user_mentions,
    safe,
    trusted,
)
from handlers.errors import DockhandError, EngineError, NotAllowed, UsageError
from handlers.fleet import ERROR_MARK, FleetResult, printed_lines
from handlers.health import HealthPass
from handlers.image_update import ImageUpdate
from handlers.preview import Preview
from handlers.results import (
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    Result,
    Table,
    TableResult,
    TextResult,
)
from handlers.updates import UpdateCheck, UpdatePreview

log = logging.getLogger("dockhand.render")

# action_id prefixes of Dockhand's buttons: run a command, turn a page.
RUN_ACTION = "dockhand.run"
PAGE_ACTION = "dockhand.page"
CONFIRM_ACTION = "dockhand.confirm"
CANCEL_ACTION = "dockhand.cancel"
# Slack's own limits, kept under their old names for callers.
SECTION_LIMIT = limits.SECTION_TEXT
BLOCK_LIMIT = limits.MESSAGE_BLOCKS
# One line of a table or output in chat: a 300-character container name still shows, a
# megabyte-long log line does not take the whole message.
LINE_LIMIT = 600
SUMMARY_LIMIT = 1_000
CONTEXT_LIMIT = 1_000
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
    ERROR_MARK: "❗",  # a host that did not answer its part of a fan-out
}


def _md(text: Mrkdwn) -> MarkdownTextObject:
    """The one way this module makes a mrkdwn object: from text already ready for Slack."""
    return MarkdownTextObject(text=text)


def _section(text: Mrkdwn) -> SectionBlock:
    # Slack refuses an empty text object; an error without words still says something.
    return SectionBlock(text=_md(clip(text, limits.SECTION_TEXT) or trusted("(no message)")))


def _context(text: Mrkdwn) -> ContextBlock:
    return ContextBlock(elements=[_md(clip(text, limits.TEXT_OBJECT))])


def _bold(text: str, limit: int = SUMMARY_LIMIT) -> Mrkdwn:
    return Mrkdwn(f"*{clip(text, limit)}*")


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


def summary_of(result: Result) -> str:
    """The result's summary line, with what Dockhand suggests next (handlers give facts)."""
    summary = result.summary()
    if isinstance(result, ContainerRun) and result.detached:
        return messages.left_running(result.name, result.id, result.seconds or 0)
    if isinstance(result, ContainerRun) and result.still_running:
        return messages.follow_logs(summary, result.name)
    if isinstance(result, UpdateCheck):
        return update_messages.check_summary(result)
    if isinstance(result, ImageUpdate):
        return update_messages.update_summary(result)
    return summary


def body_of(result: Result) -> str:
    """The result's free text; a health pass's findings are kinds and facts, said here."""
    if isinstance(result, HealthPass):
        return "\n".join(messages.finding_line(f) for f in result.findings)
    if isinstance(result, FleetResult):  # each host's words, said as for that host alone
        return "\n".join(
            f"{answer.host}: {line}"
            for answer in result.answers
            if answer.result is not None and printed_lines(answer.result) is None
            for line in body_of(answer.result).splitlines()
        )
    return result.body()


def plain_text(result: Result) -> str:
    if result.verbatim():
        return result.body()
    summary = summary_of(result)
    parts = [summary] if summary else []
    table = result.table()
    if table is not None:
        parts.append("\n".join(format_table(table)))
    if result.facts():
        parts.append("\n".join(format_facts(result.facts())))
    body = body_of(result)
    if body:
        parts.append(body)
    return "\n".join(parts)


def _code_sections(
    lines: list[str], max_blocks: int, max_chars: int
) -> tuple[list[Block], int, int]:
    """Lines in code-block sections within Slack's limits: at most `max_blocks` sections and
    `max_chars` characters in all. Returns (sections, lines shown, characters used)."""
    sections: list[Block] = []
    chunk: list[Mrkdwn] = []
    size = 0  # characters of the chunk, newlines included
    used = 0
    total = 0
    per_section = limits.SECTION_TEXT - CODE_FENCES

    def flush() -> None:
        nonlocal total
        text = code_block(chunk)
        total += len(text)
        sections.append(SectionBlock(text=_md(text)))

    for raw in lines:
        line = code_line(raw, LINE_LIMIT)
        grows = len(line) + (1 if chunk else 0)
        if chunk and size + grows > per_section:
            if len(sections) + 1 >= max_blocks:
                break
            flush()
            chunk, size, grows = [], 0, len(line)
        if max_blocks < 1 or total + size + grows + CODE_FENCES > max_chars:
            break
        chunk.append(line)
        size += grows
        used += 1
    if chunk:
        flush()
    return sections, used, total


PAGE_ROWS = 20  # table rows a message shows; Next/Previous buttons page through the rest
BODY_LIMIT = 2800  # characters of free text shown before it becomes a file with an excerpt
EXCERPT_LINES = 20
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def _filename(name: str, kind: str) -> str:
    """A file name Slack shows and Dockhand quotes: letters, digits and . _ - only, short."""
    stem = _FILENAME.sub("-", name).strip("-.")[:60] or "dockhand"
    return f"{stem}-{kind}.txt"


def _upload_of(result: Result, kind: str = "output") -> Upload:
    name = getattr(result, "container", None) or getattr(result, "name", None) or "dockhand"
    return Upload(
        filename=_filename(str(name), kind),
        content=plain_text(result),
        title=summary_of(result)[:200] or "Dockhand output",
    )


def _excerpt(result: Result, body: str) -> tuple[list[str], Upload | None]:
    if len(body) <= BODY_LIMIT:
        return body.splitlines(), None
    lines = body.splitlines()
    # Logs matter at their end, everything else at its start.
    tail = isinstance(result, ContainerLogsResult | ContainerRun)
    shown = lines[-EXCERPT_LINES:] if tail else lines[:EXCERPT_LINES]
    while shown and sum(min(len(x), LINE_LIMIT) + 1 for x in shown) > BODY_LIMIT:
        shown = shown[1:] if tail else shown[:-1]
    kind = "logs" if isinstance(result, ContainerLogsResult) else "output"
    name = getattr(result, "container", None) or getattr(result, "name", None) or "dockhand"
    note = f"… {len(lines) - len(shown)} more lines in the attached file"
    upload = Upload(
        filename=_filename(str(name), kind), content=body, title=summary_of(result)[:200]
    )
    return ([note, *shown] if tail else [*shown, note]), upload


def text_pages(body: str) -> list[list[str]]:
    """A long text's lines in pages of at most BODY_LIMIT characters each (as shown in a
    code block: long lines cut), whole lines only; always at least one page."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in body.splitlines():
        grows = min(len(code_line(line, LINE_LIMIT)), LINE_LIMIT) + 1
        if pages[-1] and size + grows > BODY_LIMIT:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += grows
    return pages


def _context_text(context: str) -> Mrkdwn:
    """The context line callers pass: Dockhand's wording (host, duration, who did it). Marked
    `trusted` it is used as it is; a plain str keeps only its user mentions live."""
    return keep_user_mentions(context)


def chat_view(
    result: Result, origin: Origin, context: str = ""
) -> tuple[list[dict[str, Any]], Upload | None, int]:
    """Block Kit for one page of a result: (blocks, an upload if any, number of pages)."""
    blocks: list[Block] = []
    notes: list[Mrkdwn] = []
    summary = summary_of(result)
    if summary:
        blocks.append(_section(_bold(summary)))
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
            notes.append(
                trusted(f"rows {first + 1}–{first + len(window.rows)} of {len(table.rows)}")
            )
    elif result.facts():
        lines = format_facts(result.facts())
    body = body_of(result)
    if body and isinstance(result, TextResult) and len(body) > BODY_LIMIT:
        # Words to read in chat (help, help VERB) page like lists, with Previous/Next: a
        # file is one more thing to open, and an ack (where help is answered) carries none.
        chunks = text_pages(body)
        pages = len(chunks)
        page = min(max(origin.page, 0), pages - 1)
        lines += chunks[page]
        notes.append(trusted(f"page {page + 1} of {pages}"))
    elif body:
        shown, upload = _excerpt(result, body)
        lines += shown
    actions = _actions(result, origin, pages)
    if lines:
        spent = sum(len(t) for b in blocks for t in _texts(b))
        sections, used, _ = _code_sections(
            lines,
            limits.MESSAGE_BLOCKS - len(blocks) - 3,  # actions, context, an upload note
            limits.MESSAGE_BLOCKS_TEXT - spent - _action_chars(actions) - CONTEXT_LIMIT - 20,
        )
        blocks += sections
        if used < len(lines):
            notes.append(trusted(f"{ELLIPSIS} and {len(lines) - used:,} more lines"))
            if upload is None:
                upload = _upload_of(result)
            notes.append(trusted("all of it in the attached file"))
    if actions:
        blocks.append(actions)
    if context:
        notes.append(_context_text(context))
    if notes:
        blocks.append(_context(clip(join(" · ", notes), CONTEXT_LIMIT)))
    return [block.to_dict() for block in blocks], upload, pages


def _texts(block: Block) -> list[str]:
    return [t for _, t in limits._walk_texts([block.to_dict()])]


def _action_chars(actions: ActionsBlock | None) -> int:
    return sum(len(t) for t in _texts(actions)) if actions else 0


def run_value(text: str, host: str) -> str:
    """A button's value: the command it runs, as typed, on the same host."""
    return text if host == "local" else f"-H {host} {text}"


def _target_value(verb: str, name: str, short_id: str, host: str, limit: int) -> str | None:
    """The command a menu option or button runs on one container: by name when that fits
    Slack's limit, else by the short ID (names may be hundreds of characters); None when
    neither fits (a very long host name), so the caller leaves the option out."""
    for target in (name, short_id):
        if target:
            value = run_value(f"{verb} {target}", host)
            if len(value) <= limit:
                return value
    return None


def _plain(text: str, limit: int) -> PlainTextObject:
    """plain_text is shown as typed (no mentions, no links): only its length matters."""
    return PlainTextObject(text=text if len(text) <= limit else text[: limit - 1] + ELLIPSIS)


def _actions(result: Result, origin: Origin, pages: int) -> ActionsBlock | None:
    elements: list[Any] = []
    if isinstance(result, ContainerList) and not result.quiet and result.containers:
        first = min(max(origin.page, 0), pages - 1) * PAGE_ROWS
        shown = result.containers[first : first + PAGE_ROWS][: limits.SELECT_OPTIONS]
        for label, verb in (
            ("Logs…", "logs --tail 100"),
            ("Restart…", "restart"),
            ("Stop…", "stop"),
        ):
            options = []
            for c in shown:
                value = _target_value(verb, c.name, c.id[:12], origin.host, limits.OPTION_VALUE)
                if value is not None:
                    options.append(
                        Option(text=_plain(c.name or c.id[:12], limits.OPTION_TEXT), value=value)
                    )
            if options:  # a select needs at least one option
                elements.append(
                    StaticSelectElement(
                        placeholder=_plain(label, limits.SELECT_PLACEHOLDER),
                        action_id=f"{RUN_ACTION}:{verb.split()[0]}",
                        options=options,
                    )
                )
    if isinstance(result, ContainerRun) and result.verb == "container:run":
        logs = _target_value(
            "logs --tail 100", result.name, result.id[:12], origin.host, limits.BUTTON_VALUE
        )
        if logs is not None:
            elements.append(ButtonElement(text="Logs", action_id=f"{RUN_ACTION}:logs", value=logs))
        stop = _target_value("stop", result.name, result.id[:12], origin.host, limits.BUTTON_VALUE)
        if stop is not None and (
            result.still_running or (result.started and result.exit_code is None)
        ):
            elements.append(
                ButtonElement(
                    text="Stop", action_id=f"{RUN_ACTION}:stop", style="danger", value=stop
                )
            )
    if isinstance(result, UpdateCheck):
        # One Update button a stale container: it runs `update-image` as the clicker, with
        # its preview and confirmation, and answers in this message's thread.
        updatable = [s for s in result.stale if s.mode != "internal"]
        for n, stale in enumerate(updatable[: limits.ACTIONS_ELEMENTS - 2]):
            value = _target_value(
                "update-image", stale.name, stale.container[:12], result.host, limits.BUTTON_VALUE
            )
            if value is not None:
                elements.append(
                    ButtonElement(
                        text=_plain(update_messages.update_button(stale.name), limits.BUTTON_TEXT),
                        action_id=f"{RUN_ACTION}:update-image:{n}",
                        value=value,
                    )
                )
    if pages > 1 and origin.text:
        # A command too long to carry in a button's value gets no page buttons; the context
        # line still says which rows are shown.
        for label, action, page in (
            ("◀ Previous", f"{PAGE_ACTION}:prev", origin.page - 1),
            ("Next ▶", f"{PAGE_ACTION}:next", origin.page + 1),
        ):
            value = json.dumps({"t": origin.text, "p": page})
            if 0 <= page < pages and len(value) <= limits.BUTTON_VALUE:
                elements.append(ButtonElement(text=label, action_id=action, value=value))
    elements = elements[: limits.ACTIONS_ELEMENTS]
    return ActionsBlock(elements=elements) if elements else None


def _checked(reply: Reply) -> Reply:
    """The last guard: a reply the renderer got wrong is replaced by one that Slack takes,
    with the whole output attached, rather than an exception the user never hears of."""
    found = limits.problems(reply.chat_text, reply.blocks)
    if not found:
        return reply
    log.error("reply over Slack's limits, sent as a file instead: %s", "; ".join(found[:5]))
    note = trusted(f"{ELLIPSIS} the reply was too large for one message; it is attached")
    reply.blocks = [_section(clip(reply.chat_text, 1_000)).to_dict(), _context(note).to_dict()]
    reply.chat_text = clip(reply.chat_text, 1_000)
    if reply.upload is None:
        reply.upload = Upload(filename="dockhand-output.txt", content=reply.text, title="output")
    return reply


def reply_for(
    result: Result, *, ephemeral: bool, context: str = "", origin: Origin | None = None
) -> Reply:
    failed = result.failed()
    origin = origin or Origin()
    blocks, upload, pages = chat_view(result, origin, context)
    text = plain_text(result)
    return _checked(
        Reply(
            ok=not failed,
            text=text,
            blocks=blocks,
            result=result,
            ephemeral=ephemeral,
            exit_status=1 if failed else 0,
            upload=upload,
            page=min(origin.page, pages - 1),
            pages=pages,
            chat_text=fallback_text(text),
        )
    )


def error_reply(exc: DockhandError) -> Reply:
    """A user-visible failure: the message, and for usage errors the usage line. The message
    is escaped unless it is marked `trusted` (Dockhand's own, with a live mention)."""
    said = messages.hint(exc.message, exc.hint) if exc.hint is not None else exc.message
    message = safe(said)
    if isinstance(exc, NotAllowed):
        shown = trusted(messages.denied(message))
    elif isinstance(exc, EngineError):
        shown = trusted(messages.engine_failed(message))
    else:
        shown = message
    text = said
    chat = message
    blocks: list[Block] = [_section(shown)]
    if isinstance(exc, UsageError) and exc.usage:
        text += f"\n{exc.usage}"
        chat = Mrkdwn(f"{chat}\n{safe(exc.usage)}")
        sections, _, _ = _code_sections(exc.usage.splitlines(), 1, limits.SECTION_TEXT)
        blocks += sections
    return _checked(
        Reply(
            ok=False,
            text=text,
            blocks=[b.to_dict() for b in blocks],
            ephemeral=True,
            exit_status=exc.exit_status,
            chat_text=fallback_text(chat),
        )
    )


def apology_reply(reference: str) -> Reply:
    text = messages.apology(reference)
    block = _section(trusted(f":x: {safe(text)}"))
    return Reply(
        ok=False,
        text=text,
        blocks=[block.to_dict()],
        exit_status=1,
        reference=reference,
        chat_text=safe(text),
    )


def preview_reply(shown: Preview, pending: Pending) -> Reply:
    """What a destructive command would do, with Confirm / Cancel. Under the two-person rule
    it is posted in the channel, where a second person can see it. A long list is cut with a
    count, and goes whole as a file."""
    summary, lines = (
        update_messages.preview_words(shown)
        if isinstance(shown, UpdatePreview)
        else (shown.summary(), shown.lines())
    )
    title = f"`/docker {pending.text}` {summary}"
    blocks: list[Block] = [_section(_bold(title))]
    minutes = max(1, round((pending.expires - time.time()) / 60))
    note = trusted(
        f"{messages.confirm_prompt(pending.two_person, pending.user)} · expires in {minutes} min"
    )
    upload = None
    if lines:
        spent = len(blocks[0].to_dict()["text"]["text"]) + len(note)
        sections, used, _ = _code_sections(
            lines, limits.MESSAGE_BLOCKS - 4, limits.MESSAGE_BLOCKS_TEXT - spent - 500
        )
        blocks += sections
        if used < len(lines):
            upload = Upload(
                filename=f"{_filename(pending.verb, 'preview')}",
                content="\n".join([title, *lines]),
                title=shown.summary()[:200],
            )
            more = f"showing {used} of {len(lines)} items ({ELLIPSIS} and {len(lines) - used:,}"
            blocks.append(_context(trusted(f"{more} more in the attached file)")))
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
    blocks.append(_context(note))
    text = "\n".join([title, *lines, note])
    return _checked(
        Reply(
            ok=False,
            text=text,
            blocks=[b.to_dict() for b in blocks],
            ephemeral=not pending.two_person,
            exit_status=1,
            pending=pending.id,
            upload=upload,
            chat_text=Mrkdwn(f"{clip(title, limits.FALLBACK_TEXT - 600)}\n{note}"),
        )
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
