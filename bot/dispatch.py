"""Where replies go: each Reply becomes outbox messages (bot/outbox.py) with an idempotency
key, what to do once delivered (clear the "running…" note, upload the whole output, keep a
schedule's thread) and whom to tell if it cannot be (the requester, ephemerally through
response_url, else in their DM with Dockhand). Nothing here calls Slack itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot import messages, response_urls
from bot.delivery import Outcome
from bot.logs import REQUEST_ID
from bot.metrics import Metrics
from bot.outbox import Message, Outbox, message_key
from bot.policy import Requester
from bot.reply import Reply
from bot.text import clip, safe, trusted

log = logging.getLogger("dockhand.dispatch")
#: how long a job or alert waits to learn its message's ts (for its thread); it is
#: delivered all the same if Slack takes longer
NOTIFY_WAIT = 5.0


def request_key(purpose: str) -> str:
    """A message key for this request (bot/logs.py's request id) and purpose: the same
    request never delivers the same purpose twice."""
    request = REQUEST_ID.get()
    if request == "-":
        request = uuid.uuid4().hex
    return message_key(request, purpose)


def _note_block(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def _upload_of(reply: Reply) -> dict[str, str] | None:
    if reply.upload is None:
        return None
    return {
        "content": reply.upload.content,
        "filename": reply.upload.filename,
        "title": reply.upload.title,
    }


class Dispatch:
    def __init__(self, outbox: Outbox, metrics: Metrics) -> None:
        self.outbox = outbox
        self.metrics = metrics
        #: a new schedule's message was delivered: its runs report in that thread
        self.on_schedule_posted: Callable[[str, str], None] | None = None
        outbox.on_delivered = self._delivered
        outbox.on_failed = self._failed

    # --- replies -------------------------------------------------------------------------

    def respond(self, reply: Reply, requester: Requester, response_url: str, purpose: str) -> None:
        """A reply only the requester sees, replacing the "running…" note. Output too long
        for a message goes to the requester's own DM with Dockhand, never the channel."""
        blocks = list(reply.blocks)
        upload = _upload_of(reply)
        if upload is not None:
            self.outbox.put(
                Message(
                    key=request_key(f"{purpose}:upload"),
                    kind="upload",
                    method="dm.upload",
                    args={"user": requester.user, **upload},
                )
            )
            blocks.append(_note_block(messages.uploaded_privately(upload["filename"])))
        after = {"requester": requester.user, "channel": requester.channel}
        if response_url:
            # A new message for a slash command, the clicked one replaced for a click
            # (bot/response_urls.py: what Slack documents).
            payload = response_urls.reply_payload(response_url, reply.chat_text, blocks)
            message = Message(
                key=request_key(purpose),
                kind="result",
                method="response_url",
                args={"url": response_url, "payload": payload},
                after=after,
            )
        else:
            message = Message(
                key=request_key(purpose),
                kind="result",
                method="chat.postEphemeral",
                args={
                    "channel": requester.channel,
                    "user": requester.user,
                    "text": reply.chat_text,
                    "blocks": blocks,
                },
                after=after,
            )
        self.outbox.put(message)

    def post_result(
        self,
        reply: Reply,
        requester: Requester,
        response_url: str,
        purpose: str,
        *,
        thread_ts: str | None = None,
        edit_ts: str | None = None,
        schedule: str | None = None,
    ) -> None:
        """A change's result in the channel: a new message, or the final edit of its
        progress message (`edit_ts`). A clicked message it answers is cleared only once it
        is delivered; if it cannot be, the requester gets it with why."""
        after: dict[str, Any] = {
            "requester": requester.user,
            "channel": requester.channel,
            "response_url": response_url,
            # delete_original acts only on a click's response_url; a slash command's ack is
            # a receipt that stays true (bot/response_urls.py).
            "clear": response_url if response_urls.replaces(response_url) else "",
            "upload": _upload_of(reply),
            "thread_ts": thread_ts,
            "schedule": schedule,
        }
        args: dict[str, Any] = {
            "channel": requester.channel,
            "text": reply.chat_text,
            "blocks": reply.blocks,
        }
        if edit_ts is not None:
            message = Message(
                key=request_key(purpose),
                kind="final",
                method="chat.update",
                args={**args, "ts": edit_ts},
                after=after,
            )
        else:
            message = Message(
                key=request_key(purpose),
                kind="result",
                method="chat.postMessage",
                args={**args, "thread_ts": thread_ts},
                after=after,
            )
        self.outbox.put(message)

    def notify(
        self,
        channel: str,
        reply: Reply,
        thread_ts: str | None = None,
        key: str | None = None,
        wait: float = NOTIFY_WAIT,
    ) -> str | None:
        """For jobs and alerts: post in the channel (or a thread), upload long output.
        Returns the ts if Slack took it within NOTIFY_WAIT seconds, "" if it is still on its
        way (it will be delivered all the same), None if it was refused."""
        message = Message(
            key=key or uuid.uuid4().hex,
            kind="notice",
            method="chat.postMessage",
            args={
                "channel": channel,
                "text": reply.chat_text,
                "blocks": reply.blocks,
                "thread_ts": thread_ts,
            },
            after={"upload": _upload_of(reply), "thread_ts": thread_ts},
        )
        outcome = self.outbox.send(message, wait)
        if outcome is None:
            return ""
        return outcome.ts if outcome.ok else None

    def edit(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], key: str
    ) -> None:
        """An edit that must land (a preview's buttons going away)."""
        self.outbox.put(
            Message(
                key=key,
                kind="note",
                method="chat.update",
                args={"channel": channel, "ts": ts, "text": text, "blocks": blocks},
            )
        )

    def replace(self, response_url: str, payload: dict[str, Any], key: str) -> None:
        self.outbox.put(
            Message(
                key=key,
                kind="note",
                method="response_url",
                args={"url": response_url, "payload": payload},
            )
        )

    def mirror_audit(self, channel: str, fields: dict[str, str]) -> None:
        """One line per audit entry in the audit channel, keyed by the entry itself."""
        # The command, host and outcome are people's and the engine's text: escaped. The ids
        # come from Slack's own payloads and stay live as a mention and a channel link.
        line = (
            f"`{safe(fields['decision'])}` <@{safe(fields['user'])}> in "
            f"<#{safe(fields['channel'])}> on {safe(fields['host'] or '-')}: "
            f"`{clip(fields['text'], 200)}` → {clip(fields['outcome'], 100)}"
        )
        key = message_key(
            "audit", fields.get("time"), fields.get("user"), fields.get("channel"), fields["text"]
        )
        self.outbox.put(
            Message(
                key=key,
                kind="audit",
                method="chat.postMessage",
                args={"channel": channel, "text": line},
            )
        )

    # --- after the outbox is done with a message ---------------------------------------------

    def _delivered(self, message: Message, outcome: Outcome) -> None:
        after = message.after
        if after.get("clear"):
            # Only now: the "running…" note stays until the result is there to replace it.
            self.replace(after["clear"], {"delete_original": True}, f"{message.key}:clear")
        upload = after.get("upload")
        if upload and after.get("private"):
            # Delivered to the requester alone: the whole output goes to their DM too.
            self.outbox.put(
                Message(
                    key=f"{message.key}:upload",
                    kind="upload",
                    method="dm.upload",
                    args={"user": after.get("requester"), **upload},
                )
            )
        elif upload:
            channel = str((outcome.data or {}).get("channel") or message.args.get("channel"))
            self.outbox.put(
                Message(
                    key=f"{message.key}:upload",
                    kind="upload",
                    method="files.upload",
                    args={
                        "channel": channel,
                        "thread_ts": after.get("thread_ts") or outcome.ts or message.args.get("ts"),
                        **upload,
                    },
                )
            )
        schedule = after.get("schedule")
        if schedule and outcome.ts and self.on_schedule_posted is not None:
            self.on_schedule_posted(str(schedule), outcome.ts)

    def _failed(self, message: Message, outcome: Outcome) -> None:
        """Not delivered: the requester gets it another way, with what went wrong and how to
        fix it; what has no requester (alerts, job notices) is counted and logged."""
        after = message.after
        user = after.get("requester")
        if message.kind == "fallback-url" and after.get("dm"):
            self.outbox.put(Message.model_validate(after["dm"]))  # the DM, then
            return
        if not user or message.kind in ("dm", "upload"):
            self.metrics.slack_errors.labels(method="undelivered").inc()
            log.error(
                "a %s for %s reached no one (%s): %s",
                message.kind,
                user or message.channel,
                outcome.error,
                clip(str(message.args.get("text") or message.args.get("filename") or ""), 300),
            )
            return
        text, blocks = _content_of(message)
        note = trusted(messages.not_delivered(str(after.get("channel") or ""), outcome.error))
        blocks = [*blocks, _note_block(note)]
        text = f"{text}\n{note}"
        dm = Message(
            key=f"{message.key}:dm",
            kind="dm",
            method="dm",
            args={"user": user, "text": text, "blocks": blocks},
            after={"upload": after.get("upload")},
        )
        response_url = after.get("response_url")
        if response_url and message.method != "response_url":
            # A new message below the command's receipt: replace_original does not act on a
            # slash command's response_url (bot/response_urls.py).
            payload = {"text": text, "blocks": blocks, "response_type": "ephemeral"}
            self.outbox.put(
                Message(
                    key=f"{message.key}:fallback",
                    kind="fallback-url",
                    method="response_url",
                    args={"url": response_url, "payload": payload},
                    after={
                        "requester": user,
                        "channel": after.get("channel"),
                        "upload": after.get("upload"),
                        "private": True,
                        "dm": dm.model_dump(mode="json"),
                    },
                )
            )
            return
        self.outbox.put(dm)


def _content_of(message: Message) -> tuple[str, list[dict[str, Any]]]:
    args = message.args.get("payload") or message.args
    return str(args.get("text") or ""), list(args.get("blocks") or [])
