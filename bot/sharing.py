"""Reads stay with the requester; sharing one with the channel is the requester's choice.

A read (`ps`, `logs`, `inspect`, `system df -v`…) answers only the person who asked: an
excerpt in an ephemeral reply, the whole output as a file in their DM with Dockhand. It goes
to the channel only when they say so, in one of two ways:

- `--share`, a Dockhand flag like `-H`: before the verb (`/docker --share logs web`) or as
  the last word (`/docker logs web --share`). It is taken out before the docker CLI's own
  parsing; after `run`, `create` and `exec` a last `--share` is left alone, since the words
  there belong to the container's command.
- the "Share to channel" button on the ephemeral reply, which posts the very answer the
  requester saw (kept for an hour), not a new run of the command.

Either way the channel gets a copy attributed to whoever shared it, with Env values masked
as for any viewer (an admin's inspect shows them to the admin alone), without buttons (a
snapshot; its rows' menus would act with the clicker's rights, but Previous/Next would page
someone else's command), and with the whole output attached in its thread.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import redis

from bot import messages
from bot import slack_limits as limits
from bot.reply import Origin, Reply, Upload
from bot.response_urls import from_click
from bot.text import normalize, safe, trusted
from config.policy import Requester

if TYPE_CHECKING:
    from handlers.commands import Command

log = logging.getLogger("dockhand.sharing")

FLAG = "--share"
ACTION = "dockhand.share"
#: seconds a read is kept for its Share button (Slack keeps the ephemeral reply until reload)
KEEP = 3600
_KEY = "dockhand:share:"
_WORD = re.compile(r"\S+")
# Verbs whose last words are the container's command, not flags of Dockhand or docker.
_CONTAINER_ARGS = {"run", "create", "exec"}


def split_share(text: str) -> tuple[str, bool]:
    """The command without Dockhand's `--share`, and whether it was there."""
    words = list(_WORD.finditer(text))
    kinds = [normalize(w.group()) for w in words]
    position = 0
    while position < len(kinds) and kinds[position].startswith("-"):
        if kinds[position] == FLAG:
            return _without(text, words, position), True
        # -H NAME takes the next word; -H=NAME, --host=NAME do not
        position += 2 if kinds[position] in ("-H", "--host") else 1
    if len(kinds) <= position + 1 or kinds[-1] != FLAG:
        return text, False
    verb = kinds[position].lower()
    if verb == "container" and position + 1 < len(kinds):
        verb = kinds[position + 1].lower()
    if verb in _CONTAINER_ARGS:
        return text, False
    return _without(text, words, len(words) - 1), True


def _without(text: str, words: list[re.Match[str]], index: int) -> str:
    word = words[index]
    return (text[: word.start()] + text[word.end() :]).strip().replace("  ", " ", 1)


def channel_copy(reply: Reply, command: Command, sharer: Requester) -> Reply | None:
    """What the channel gets of a private answer: the same result, Env values masked, no
    buttons, attributed to `sharer`. None for an answer that is not a result (an error)."""
    from bot.redaction import redact_result
    from bot.render import reply_for
    from handlers.commands import Help

    if reply.result is None or not reply.ok or isinstance(command, Help):
        return None  # an error, or help: nothing the channel needs
    result = redact_result(reply.result, command, admin=False)
    context = trusted(f"{messages.shared_by(sharer.mention)} · {safe(command.host)}")
    # The page the requester was looking at; no command text, so no page buttons.
    origin = Origin(host=command.host, page=reply.page)
    shared = reply_for(result, ephemeral=False, context=context, origin=origin)
    shared.blocks = [b for b in shared.blocks if b.get("type") != "actions"]
    return shared


def with_button(reply: Reply, share_id: str) -> list[dict[str, Any]]:
    """The reply's blocks with a "Share to channel" button, when it still fits Slack's limits
    (in the reply's own actions block if it has one, else in a new one)."""
    button = {
        "type": "button",
        "action_id": ACTION,
        "text": {"type": "plain_text", "text": "Share to channel"},
        "value": share_id,
    }
    blocks = [dict(b) for b in reply.blocks]
    actions = next((b for b in blocks if b.get("type") == "actions"), None)
    if actions is not None and len(actions["elements"]) < limits.ACTIONS_ELEMENTS:
        actions["elements"] = [*actions["elements"], button]
    else:
        # before the closing context line, where the eye looks for what to do next
        at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "context" else len(blocks)
        blocks.insert(at, {"type": "actions", "elements": [button]})
    return blocks if not limits.problems(reply.chat_text, blocks) else list(reply.blocks)


@dataclass(frozen=True)
class Kept:
    """A private answer kept for its Share button: the channel's copy and what the requester
    saw (to put back, without the button, once shared)."""

    owner: str
    channel: str
    shared: Reply
    private_text: str
    private_blocks: list[dict[str, Any]]


class SharedReads:
    """Private answers kept an hour in the store, by an id a button can carry."""

    def __init__(self, store: redis.Redis) -> None:
        self.store = store

    def keep(self, kept: Kept) -> str:
        share_id = secrets.token_urlsafe(12)
        upload = kept.shared.upload
        record = {
            "owner": kept.owner,
            "channel": kept.channel,
            "text": kept.shared.text,
            "chat_text": kept.shared.chat_text,
            "blocks": kept.shared.blocks,
            "upload": None if upload is None else [upload.filename, upload.content, upload.title],
            "private_text": kept.private_text,
            "private_blocks": kept.private_blocks,
        }
        self.store.set(_KEY + share_id, json.dumps(record), ex=KEEP)
        return share_id

    def get(self, share_id: str) -> Kept | None:
        raw = self.store.get(_KEY + share_id)
        if raw is None:
            return None
        record = json.loads(raw)
        upload = record["upload"]
        shared = Reply(
            ok=True,
            text=record["text"],
            blocks=record["blocks"],
            ephemeral=False,
            upload=None if upload is None else Upload(*upload),
            chat_text=record["chat_text"],
        )
        return Kept(
            record["owner"],
            record["channel"],
            shared,
            record["private_text"],
            record["private_blocks"],
        )

    def forget(self, share_id: str) -> None:
        self.store.delete(_KEY + share_id)


class FrontEnd(Protocol):
    """What sharing needs of the Slack front end (bot/slack_app.py implements it)."""

    def notify(self, channel: str, reply: Reply, thread_ts: str | None = None) -> str | None:
        """Post in a channel, long output attached in its thread; the ts or None."""

    def respond(self, reply: Reply, requester: Requester, response_url: str) -> None:
        """An ephemeral reply to the requester: a new message, or the clicked one replaced
        when `response_url` came with the click (bot/response_urls.py)."""


def answer_read(
    front: FrontEnd,
    shelf: SharedReads | None,
    reply: Reply,
    command: Command,
    requester: Requester,
    response_url: str,
    *,
    share: bool,
) -> None:
    """A read's answer: in the channel when the requester asked to share it, else to them
    alone with a Share button."""
    copy = channel_copy(reply, command, requester)
    if copy is None:
        front.respond(reply, requester, response_url)
        return
    if share:
        if front.notify(requester.channel, copy) is None:
            # The channel did not take it (Dockhand not invited…): the answer is still theirs.
            note = messages.share_failed(requester.channel)
            front.respond(_with_note(reply, note), requester, response_url)
        return
    if shelf is not None:
        share_id = shelf.keep(
            Kept(requester.user, requester.channel, copy, reply.chat_text, reply.blocks)
        )
        buttoned = Reply(
            ok=reply.ok,
            text=reply.text,
            blocks=with_button(reply, share_id),
            result=reply.result,
            upload=reply.upload,
            chat_text=reply.chat_text,
        )
        front.respond(buttoned, requester, response_url)
        return
    front.respond(reply, requester, response_url)


def on_share_clicked(
    front: FrontEnd, shelf: SharedReads, body: dict[str, Any], clicker: Requester
) -> None:
    """The Share button: the kept answer posted in its channel, attributed to the clicker
    (who is its requester: an ephemeral reply is seen by no one else), and the private reply
    replaced by what it was, without the button, with where it went."""
    share_id = str(body["actions"][0].get("value") or "")
    response_url = str(body.get("response_url") or "")
    kept = shelf.get(share_id)
    if kept is None or kept.owner != clicker.user:
        # A new message: the requester keeps what they were looking at.
        front.respond(Reply(ok=False, text=messages.share_expired()), clicker, response_url)
        return
    if front.notify(kept.channel, kept.shared) is None:
        failed = Reply(ok=False, text=messages.share_failed(kept.channel))
        failed.chat_text = trusted(failed.text)
        front.respond(failed, clicker, response_url)
        return
    shelf.forget(share_id)  # one post per answer, however often the button is clicked
    note = {"type": "mrkdwn", "text": messages.shared_in(kept.channel)}
    shown = Reply(
        ok=True,
        text=kept.private_text,
        blocks=[*kept.private_blocks, {"type": "context", "elements": [note]}],
        chat_text=trusted(kept.private_text),
    )
    if limits.problems(shown.chat_text, shown.blocks):
        shown.blocks = kept.private_blocks
    front.respond(shown, clicker, from_click(response_url))


def _with_note(reply: Reply, note: str) -> Reply:
    blocks = [
        *reply.blocks,
        {"type": "context", "elements": [{"type": "mrkdwn", "text": trusted(note)}]},
    ]
    if limits.problems(reply.chat_text, blocks):
        blocks = list(reply.blocks)
    return Reply(
        ok=reply.ok,
        text=reply.text,
        blocks=blocks,
        result=reply.result,
        upload=reply.upload,
        chat_text=reply.chat_text,
    )
