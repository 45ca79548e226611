"""A reply, as every front end receives it: the plain text, the result behind it, and the
Block Kit blocks a Slack renderer (bot/render.py) put in it. Nothing here needs Slack's SDK,
so the terminal and the jobs load without it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import slack_limits as limits
from bot.text import ELLIPSIS, Mrkdwn, clip, safe
from handlers.results import Result


@dataclass(frozen=True)
class Upload:
    """Output too long for a message: it goes to Slack as a file, with an excerpt shown."""

    filename: str
    content: str
    title: str


@dataclass
class Reply:
    """What one command produced, ready for any front end.

    `text` is plain, for terminals, logs and the audit (what the docker CLI would print).
    `chat_text` is Slack's `text` field: escaped, own mentions live, within Slack's limits;
    left empty, it is `text` escaped whole. Slack front ends send `chat_text` and `blocks`
    (see `slack_message`), never `text`.
    """

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
    chat_text: str = ""

    def __post_init__(self) -> None:
        if not self.chat_text:
            self.chat_text = fallback_text(self.text)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "text": self.text,
            "blocks": self.blocks,
            "result": self.result.model_dump(mode="json") if self.result else None,
        }


def slack_message(reply: Reply) -> dict[str, Any]:
    """The `text` and `blocks` arguments of chat.postMessage/update/postEphemeral and of a
    response_url payload, for this reply."""
    return {"text": reply.chat_text, "blocks": reply.blocks}


def fallback_text(text: str) -> Mrkdwn:
    """Slack's `text` for a message: safe and within Dockhand's fallback budget, saying how
    much was left out."""
    ready = safe(text)
    if len(ready) <= limits.FALLBACK_TEXT:
        return ready
    note = f"\n{ELLIPSIS} {len(ready) - limits.FALLBACK_TEXT:,}+ more characters"
    return Mrkdwn(clip(ready, limits.FALLBACK_TEXT - len(note)) + note)


def format_facts(facts: list[tuple[str, str]]) -> list[str]:
    width = max((len(label) for label, _ in facts), default=0)
    return [f"{label + ':':<{width + 1}} {value}" for label, value in facts if value != ""]


@dataclass(frozen=True)
class Origin:
    """Where a reply came from, so its buttons can run follow-up commands the same way."""

    text: str = ""
    host: str = "local"
    page: int = 0
