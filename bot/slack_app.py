"""The Bolt app: ack the slash command at once, run Docker work on our executor, post the reply."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot import messages, store
from bot.pipeline import Prepared
from bot.policy import Requester
from bot.render import Reply
from bot.runtime import Runtime
from handlers.commands import Help

log = logging.getLogger("dockhand.slack")
RETRIES = [
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
]


def build_app(runtime: Runtime) -> App:
    settings = runtime.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret
    client = WebClient(token=token, base_url=str(settings.slack_api_url), retry_handlers=RETRIES)
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        # The listener only parses and submits, so it may run inside the request: Bolt's
        # own listener pool is never used for Docker work.
        process_before_response=True,
        # Socket Mode has no signatures to check.
        request_verification_enabled=secret is not None,
    )
    replies = SlashCommands(runtime, client)
    app.command(settings.slash_command)(replies.on_command)
    return app


class SlashCommands:
    def __init__(self, runtime: Runtime, client: WebClient) -> None:
        self.runtime = runtime
        self.client = client

    def on_command(self, ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        key = body.get("trigger_id") or f"{body.get('user_id')}:{body.get('text')}"
        if not store.first_sighting(self.runtime.store, str(key)):
            log.info(
                "duplicate delivery of %s (retry %s) ignored",
                key,
                _first(request.headers, "x-slack-retry-num"),
            )
            ack()
            return
        text = body.get("text", "")
        requester = Requester(user=body.get("user_id", ""), channel=body.get("channel_id", ""))
        pipeline = self.runtime.pipeline
        try:
            prepared = pipeline.prepare(text, requester)
        except Exception as exc:
            _ack_with(ack, pipeline.failure(exc, text))
            return
        if isinstance(prepared.command, Help):
            _ack_with(ack, pipeline.finish(prepared))
            return
        ack(text=messages.running(text), response_type="ephemeral")
        self.runtime.executor.submit(self.complete, prepared, body.get("response_url", ""))

    def complete(self, prepared: Prepared, response_url: str) -> None:
        reply = self.runtime.pipeline.finish(prepared)
        self.post(reply, prepared.requester, response_url)

    def post(self, reply: Reply, requester: Requester, response_url: str) -> None:
        try:
            if reply.ephemeral and response_url:
                # Replaces the "running…" note the requester sees; nobody else is bothered.
                answer = WebhookClient(response_url, retry_handlers=RETRIES).send(
                    text=reply.text[:3000],
                    blocks=reply.blocks,
                    response_type="ephemeral",
                    replace_original=True,
                )
                if answer.status_code != 200:
                    log.error(
                        "response_url refused the reply: %s %s", answer.status_code, answer.body
                    )
            else:
                self.client.chat_postMessage(
                    channel=requester.channel, text=reply.text[:3000], blocks=reply.blocks
                )
        except (SlackApiError, OSError) as exc:
            log.error("could not post the reply for %s: %s", requester, exc)


def _ack_with(ack: Ack, reply: Reply) -> None:
    ack(text=reply.text[:3000], blocks=reply.blocks, response_type="ephemeral")


def _first(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None
