"""The Bolt app: ack at once, run Docker work on our executor, post replies where they belong.

Who sees what: help, usage errors and denials are ephemeral (in the ack); reads answer the
requester through response_url; changes of state are posted in the channel, long ones as a
message edited with progress and finally the result. Buttons and menus run the same
pipeline as typed commands, authorized as the person who clicked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.models.blocks import (
    ContextBlock,
    MarkdownTextObject,
)

import jobs.context
from bot import messages, redaction, response_urls, sharing
from bot.dedupe import Seen, command_key, interactivity_middleware
from bot.delivery import SlackCalls
from bot.delivery_wiring import wire_delivery
from bot.dispatch import Dispatch, request_key
from bot.home import home_view
from bot.login_modal import LOGIN_VIEW, login_view, submitted, submitted_login
from bot.logs import REQUEST_ID, new_request_id, remember_secrets
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.pipeline import Prepared
from bot.policy import Requester
from bot.progress import EditBudget, MessageProgress, progress_text
from bot.render import CANCEL_ACTION, CONFIRM_ACTION, PAGE_ACTION, RUN_ACTION, Origin, Reply
from bot.runtime import Runtime
from bot.spool import Spool
from bot.text import clip, keep_user_mentions, trusted
from bot.user_groups import UserGroups
from handlers.commands import Help, Login, RunContainer
from handlers.context import RegistryAuth
from handlers.errors import NotAllowed
from handlers.progress import ProgressReport
from handlers.registry import DOCKER_HUB

log = logging.getLogger("dockhand.slack")


def retry_handlers(metrics: Metrics | None = None) -> list[RetryHandler]:
    """slack_sdk's own retry handlers (429 with Retry-After, 5xx, connection errors), each
    retry counted in dockhand_slack_retries."""

    def counted(cls: type[RetryHandler], count: int) -> RetryHandler:
        class Counted(cls):  # type: ignore[valid-type,misc]
            def prepare_for_next_attempt(self, **kwargs: Any) -> None:
                if metrics is not None:
                    metrics.slack_retries.inc()
                log.info("retrying a Slack call (%s)", cls.__name__)
                super().prepare_for_next_attempt(**kwargs)

        return Counted(max_retry_count=count)

    return [
        counted(ConnectionErrorRetryHandler, 2),
        counted(RateLimitErrorRetryHandler, 3),
        counted(ServerErrorRetryHandler, 2),
    ]


def bolt_app(runtime: Runtime) -> tuple[App, WebClient]:
    """A Bolt app and its Web API client, as the settings say, for the worker and the front
    alike. Listeners only parse, ack and hand over, so they run inside the request
    (process_before_response): Bolt's own listener pool never does Docker work."""
    settings = runtime.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret
    client = WebClient(
        token=token,
        base_url=str(settings.slack_api_url),
        retry_handlers=retry_handlers(runtime.metrics),
    )
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=True,
        # Socket Mode has no signatures to check.
        request_verification_enabled=secret is not None,
    )
    return app, client


def build_app(runtime: Runtime) -> App:
    settings = runtime.settings
    app, client = bolt_app(runtime)
    redaction.configure(settings.secret_names)
    slack = SlackFrontEnd(runtime, client)
    wire_delivery(runtime, slack)
    # Clicks and modal submissions Slack resends (or anyone replays) run once, as commands do.
    app.use(interactivity_middleware(slack.seen))

    app.command(settings.slash_command)(slack.on_command)
    app.action({"action_id": _prefix(RUN_ACTION)})(slack.on_run_action)
    app.action({"action_id": _prefix(PAGE_ACTION)})(slack.on_page_action)
    app.action(CONFIRM_ACTION)(slack.on_confirm)
    app.action(CANCEL_ACTION)(slack.on_cancel)
    app.action(sharing.ACTION)(slack.on_share)
    app.view(LOGIN_VIEW)(slack.on_login_submitted)
    app.event("app_home_opened")(slack.on_home_opened)
    return app


def _prefix(name: str) -> Any:
    import re

    return re.compile(rf"^{re.escape(name)}(:.*)?$")


class SlackFrontEnd:
    def __init__(self, runtime: Runtime, client: WebClient) -> None:
        self.runtime = runtime
        self.client = client
        # Without REDIS_URL the store is in-process anyway: a bounded set does the same.
        self.seen = Seen(runtime.store if runtime.settings.redis_url else None)
        # One chat.update budget for every progress message and final edit of this process.
        self.edit_budget = EditBudget()
        # Private answers kept an hour for their "Share to channel" button (bot/sharing.py).
        self.shelf = sharing.SharedReads(runtime.store)
        # Every call to Slack goes through `calls` once; what Slack must get goes through
        # the outbox, which retries, keeps to the budgets and reports what it cannot deliver.
        settings = runtime.settings
        self.calls = SlackCalls(client, runtime.metrics)
        self.outbox = Outbox(
            self.calls,
            runtime.store if settings.redis_url else None,
            Spool(settings.spool_dir, settings.spool_max, "outbox"),
            runtime.metrics,
            deadline=settings.delivery_deadline,
            edit_budget=self.edit_budget,
            report=runtime.supervisor.report,
        )
        self.dispatch = Dispatch(self.outbox, runtime.metrics)
        self.dispatch.on_schedule_posted = self._remember_thread
        self.groups = UserGroups(self.calls, lambda: runtime.pipeline.policy.document)
        # Schedules are judged as their owner at every run, groups included.
        jobs.context.install_groups(self._user_groups)

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        """Run `job` on Dockhand's executor under a request id of its own (in every log line
        it writes, and the reference of any apology)."""
        context = contextvars.copy_context()
        context.run(REQUEST_ID.set, new_request_id())
        self.runtime.executor.submit(context.run, job, *args)

    def requester(self, user: str, channel: str) -> Requester:
        """Who clicked or typed, with the user groups policy may bind roles to."""
        return Requester(user=user, channel=channel, groups=self._user_groups(user))

    def _user_groups(self, user: str) -> tuple[str, ...]:
        return self.groups(user)

    # --- slash command --------------------------------------------------------------

    def on_command(self, ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        key = command_key(body)
        retry = request.headers.get("x-slack-retry-num", [""])[0]
        # Dockhand's own --share comes out before the docker CLI's parsing (bot/sharing.py).
        text, share = sharing.split_share(body.get("text", ""))
        # Before anything can log the text (Bolt's DEBUG trace of our ack quotes it).
        redacted = redaction.redact_text(text)
        remember_secrets(redacted.secrets)

        requester = self.requester(body.get("user_id", ""), body.get("channel_id", ""))
        pipeline = self.runtime.pipeline
        try:
            prepared = pipeline.prepare(text, requester)
        except Exception as exc:
            _ack_with(ack, pipeline.failure(exc, text))
            return
        command = prepared.command
        if isinstance(command, Help):
            # With its origin, a long help pages with Previous/Next like a list.
            origin = Origin(text=prepared.text, host=command.host)
            _ack_with(ack, pipeline.finish(prepared, origin=origin))
            return
        if isinstance(command, Login) and self._needs_password(command):
            credentials = pipeline.credentials
            if credentials is not None and not credentials.persistent:
                # Without DOCKHAND_SECRET_KEY a stored login would be encrypted under a key
                # that dies with this process, then fail silently after a restart: refuse
                # in the ack itself, with how to set the key, and open no form.
                refusal = NotAllowed(messages.login_needs_key(), rule="no DOCKHAND_SECRET_KEY")
                _ack_with(ack, pipeline.failure(refusal, prepared.text))
                return
            ack(text=messages.login_prompt(command.server or DOCKER_HUB), response_type="ephemeral")
            self.submit(self.once, key, retry, self.open_login, prepared, body)
            return
        # A receipt, not a "running…" note: Slack lets no one remove it (bot/response_urls.py).
        ack(text=messages.received(redacted.text), response_type="ephemeral")
        url = body.get("response_url", "")
        self.submit(self.once, key, retry, self.complete, prepared, url, None, 0, share)

    def once(self, key: str, retry: str, job: Callable[..., None], *args: Any) -> None:
        """Run `job` unless this request was seen already: Slack resends what it thinks
        failed (X-Slack-Retry-Num). Checked here, off the ack path, to keep acks fast."""
        if not self.seen.first(key):
            log.info("duplicate delivery of %s (retry %s) ignored", key[:16], retry or "?")
            return
        job(*args)

    def complete(
        self,
        prepared: Prepared,
        response_url: str,
        thread_ts: str | None = None,
        page: int = 0,
        share: bool = False,
    ) -> None:
        """On the executor: run the command and post its reply where it belongs."""
        command = prepared.command
        origin = Origin(text=prepared.text, host=command.host, page=page)
        pipeline = self.runtime.pipeline
        if not command.changes_state:
            with self.runtime.operation(redaction.redact_command(prepared.text)):
                reply = pipeline.finish(prepared, origin=origin)
                # The requester's alone, with a Share button, unless they asked to share.
                sharing.answer_read(
                    self, self.shelf, reply, command, prepared.requester, response_url, share=share
                )
            return
        asked = pipeline.ask(prepared)
        if asked is not None and asked.pending and thread_ts and pipeline.confirmations:
            # Confirmed, it answers in the same thread (an Update button's run tells its story
            # under the updates message).
            pipeline.confirmations.keep_thread(asked.pending, thread_ts)
        if asked is not None:
            self.deliver_pending(asked, prepared.requester, response_url, thread_ts)
            return
        self.run_change(
            prepared, response_url, thread_ts, origin, by=f"by {prepared.requester.mention}"
        )

    def run_change(
        self,
        prepared: Prepared,
        response_url: str,
        thread_ts: str | None,
        origin: Origin,
        by: str,
        run: Callable[..., Reply] | None = None,
    ) -> None:
        """A change of state: posted in the channel; a long one as a message edited with
        progress (at most once a second) and finally with the result and its duration."""
        command = prepared.command
        channel = prepared.requester.channel
        progress: MessageProgress | None = None
        # What the channel, the logs and a shutdown notice may show of the command.
        shown = redaction.redact_command(prepared.text)

        def interrupted() -> None:
            note = Reply(ok=False, text=messages.interrupted(shown))
            requester = prepared.requester
            if progress is not None:
                self.dispatch.post_result(
                    note, requester, response_url, "interrupted", edit_ts=progress.ts
                )
            else:
                self.dispatch.respond(note, requester, response_url, "interrupted")

        attached = isinstance(command, RunContainer) and not command.detach
        with self.runtime.operation(shown, interrupted, detachable=attached):
            if command.long_running:
                first = self.post_progress(
                    channel,
                    # Who (mentions Dockhand wrote) and the command (typed text, escaped).
                    progress_text(
                        ProgressReport(
                            action=trusted(
                                f"{keep_user_mentions(by)}: `/docker {clip(shown, 500)}`"
                            )
                        )
                    ),
                    thread_ts=thread_ts,
                )
                if first is not None:
                    progress = MessageProgress(self.calls, channel, first, budget=self.edit_budget)
            if run is None:
                reply = self.runtime.pipeline.finish(
                    prepared, progress=progress, origin=origin, by=by, confirmed=True
                )
            else:
                reply = run(progress)
            requester = prepared.requester
            if not reply.ok and reply.result is None:
                # Refused before anything changed: tell the requester only (it replaces the
                # "running…" note).
                self.dispatch.respond(reply, requester, response_url, "refusal")
                if progress is not None:
                    self.dispatch.post_result(
                        reply, requester, "", "refusal-edit", edit_ts=progress.ts
                    )
                return
            if progress is not None:
                progress.wait_turn()
            # The outbox delivers it (retrying, within the budgets), clears the "running…"
            # note only once it is there, and gives it to the requester if the channel will
            # not take it.
            self.dispatch.post_result(
                reply,
                requester,
                response_url,
                "result",
                thread_ts=thread_ts,
                edit_ts=progress.ts if progress is not None else None,
                schedule=_schedule_created(reply),
            )

    def post_progress(self, channel: str, text: str, thread_ts: str | None) -> str | None:
        """The message a long change edits with its progress: its ts, or None (the change
        runs all the same and its result is posted, or handed to the requester, at the end).
        Within the channel's posting budget; not retried (it would be stale by then)."""
        self.outbox.channel_budgets.of(channel).wait_for()
        answer = self.calls.call(
            "chat.postMessage", channel=channel, text=text, thread_ts=thread_ts
        )
        if not answer.ok:
            log.warning("progress message in %s not posted: %s", channel, answer.error)
        return answer.ts if answer.ok else None

    def _remember_thread(self, schedule_id: str, ts: str) -> None:
        """A new schedule's message: its runs will report in that message's thread."""
        schedules = self.runtime.schedules
        if schedules is not None:
            record = schedules.record(schedule_id)
            if record is not None:
                record.thread_ts = ts
                schedules.save(record)

    def notify(
        self, channel: str, reply: Reply, thread_ts: str | None = None, key: str | None = None
    ) -> str | None:
        """For jobs, alerts and shares: posted in the channel (or a thread) through the
        outbox; the ts, "" while it is still on its way, None if Slack refused it."""
        return self.dispatch.notify(channel, reply, thread_ts, key)

    def respond(self, reply: Reply, requester: Requester, response_url: str) -> None:
        """A reply only the requester sees (bot/dispatch.py)."""
        self.dispatch.respond(reply, requester, response_url, f"respond:{uuid.uuid4().hex}")

    def deliver_pending(
        self, reply: Reply, requester: Requester, response_url: str, thread_ts: str | None
    ) -> None:
        if reply.ephemeral:
            self.respond(reply, requester, response_url)
            return
        # A preview with Confirm/Cancel in the channel; the whole list in its thread if cut.
        self.dispatch.post_result(reply, requester, response_url, "preview", thread_ts=thread_ts)

    # --- confirmations ---------------------------------------------------------------

    def on_confirm(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self.submit(self._confirmed, body["actions"][0]["value"], body)

    def _confirmed(self, pending_id: str, body: dict[str, Any]) -> None:
        pipeline = self.runtime.pipeline
        clicker = self.requester(body["user"]["id"], (body.get("channel") or {}).get("id", ""))
        refusal = pipeline.confirm_refusal(pending_id, clicker)
        if refusal is not None:
            reply, _ = pipeline.confirm(pending_id, clicker)  # audits the refusal
            self.respond(reply, clicker, "")
            return
        pending = pipeline.confirmations.peek(pending_id) if pipeline.confirmations else None
        if pending is None:
            return
        self._close_preview(body, f":white_check_mark: confirmed by {clicker.mention}")
        owner = self.requester(pending.user, pending.channel)
        try:
            prepared = pipeline.prepare(pending.text, owner)
        except Exception as exc:
            self.respond(pipeline.failure(exc, pending.text), clicker, "")
            return
        by = f"by {owner.mention}, confirmed by {clicker.mention}"
        self.run_change(
            prepared,
            "",
            pipeline.confirmations.thread_of(pending_id) if pipeline.confirmations else None,
            Origin(text=prepared.text, host=prepared.command.host),
            by,
            run=lambda progress: pipeline.confirm(
                pending_id, clicker, progress=progress, by=by, groups_of=self._user_groups
            )[0],
        )

    def on_cancel(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        clicker = self.requester(body["user"]["id"], (body.get("channel") or {}).get("id", ""))
        reply = self.runtime.pipeline.cancel(body["actions"][0]["value"], clicker)
        if reply.ok:
            self._close_preview(body, f"{reply.chat_text} ({clicker.mention})")
        else:
            self.respond(reply, clicker, "")

    def on_share(self, ack: Ack, body: dict[str, Any]) -> None:
        """ "Share to channel" on a private answer (bot/sharing.py)."""
        ack()
        clicker = self.requester(body["user"]["id"], (body.get("channel") or {}).get("id", ""))
        self.submit(sharing.on_share_clicked, self, self.shelf, body, clicker)

    def _close_preview(self, body: dict[str, Any], note: str) -> None:
        """The preview's buttons go away once it is decided."""
        blocks = [
            b for b in (body.get("message") or {}).get("blocks") or [] if b.get("type") != "actions"
        ]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
        container = body.get("container") or {}
        key = request_key("close-preview")
        if container.get("is_ephemeral") or not container.get("message_ts"):
            if body.get("response_url"):
                self.dispatch.replace(
                    body["response_url"],
                    {"replace_original": True, "text": note, "blocks": blocks},
                    key,
                )
            return
        self.dispatch.edit(
            container.get("channel_id", ""), container["message_ts"], note, blocks, key
        )

    # --- buttons and menus -----------------------------------------------------------

    def on_run_action(self, ack: Ack, body: dict[str, Any]) -> None:
        """A button or menu that runs a command: the same pipeline, authorized as the clicker."""
        ack()
        action = body["actions"][0]
        text = action.get("value") or (action.get("selected_option") or {}).get("value", "")
        self._follow_up(body, text, page=0)

    def on_page_action(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        wanted = json.loads(body["actions"][0]["value"])
        self._follow_up(body, str(wanted["t"]), page=int(wanted["p"]), paging=True)

    def _follow_up(
        self, body: dict[str, Any], text: str, page: int, *, paging: bool = False
    ) -> None:
        requester = self.requester(body["user"]["id"], (body.get("channel") or {}).get("id", ""))
        pipeline = self.runtime.pipeline
        response_url = body.get("response_url", "")
        try:
            prepared = pipeline.prepare(text, requester)
        except Exception as exc:
            self.respond(pipeline.failure(exc, text), requester, "")
            return
        message_ts = (body.get("container") or {}).get("message_ts")
        is_channel_message = not (body.get("container") or {}).get("is_ephemeral", False)
        if paging:
            # Previous / Next replace the list they are on, page 1 included: the click's
            # response_url may replace its message (bot/response_urls.py).
            self.submit(self.complete, prepared, response_urls.from_click(response_url), None, page)
            return
        thread = message_ts if is_channel_message else None
        # A follow-up answers in a new message: never replace the list it came from.
        self.submit(self.complete, prepared, "", thread)

    # --- login, privately --------------------------------------------------------------

    def _needs_password(self, command: Login) -> bool:
        credentials = self.runtime.pipeline.credentials
        server = command.server or DOCKER_HUB
        return credentials is None or server not in credentials.configured

    def open_login(self, prepared: Prepared, body: dict[str, Any]) -> None:
        command = prepared.command
        assert isinstance(command, Login)
        server = command.server or DOCKER_HUB
        view = login_view(server, command.username, prepared.text, prepared.requester.channel)
        # A trigger_id lives 3 seconds: one try, no outbox.
        opened = self.calls.call("views.open", trigger_id=body["trigger_id"], view=view.to_dict())
        if not opened.ok:
            log.error("could not open the login modal: %s", opened.error)

    def on_login_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        text, channel = submitted(view)
        requester = self.requester(body["user"]["id"], channel)
        pipeline = self.runtime.pipeline
        try:
            prepared = pipeline.prepare(text, requester)
        except Exception as exc:
            self.respond(pipeline.failure(exc, "login"), requester, "")
            return
        command = prepared.command
        assert isinstance(command, Login)
        auth = submitted_login(view, command.server or DOCKER_HUB)
        self.submit(self._finish_login, prepared, auth)

    def _finish_login(self, prepared: Prepared, auth: RegistryAuth) -> None:
        reply = self.runtime.pipeline.finish(prepared, login=auth)
        self.respond(reply, prepared.requester, "")

    # --- App Home --------------------------------------------------------------------------

    def on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return
        self.submit(self._publish_home, str(event.get("user", "")))

    def _publish_home(self, user: str) -> None:
        # App Home has no channel: roles bound to users and groups apply.
        viewer = self.requester(user, "")
        view = home_view(self.runtime, viewer)
        published = self.calls.call("views.publish", user_id=user, view=view.to_dict())
        if not published.ok:
            log.error("App Home for %s failed: %s", user, published.error)


def _schedule_created(reply: Reply) -> str | None:
    """A new schedule's id: its message becomes the thread its runs report in."""
    from bot.scheduling import ScheduleCreated

    return reply.result.schedule_id if isinstance(reply.result, ScheduleCreated) else None


def _ack_with(ack: Ack, reply: Reply) -> None:
    ack(text=reply.chat_text, blocks=reply.blocks, response_type="ephemeral")
