"""The scenario layer's one piece of machinery: Dockhand's Bolt app built in this process
(bot/slack_app.py's build_app, as `serve` builds it), signed requests dispatched into it as
bolt-python's tests/scenario_tests do, and the Web API stand-in (tests/fake_slack.py) as its
Slack. No bot process, no HTTP server of ours: a scenario costs what its command costs.

What the user sees is the fake's model (tests/fake_response_urls.py): each slash command's
acknowledgement and every ephemeral reply, in order, replaced or deleted only where Slack
documents it; channel posts are the fake's recorded chat.postMessage/chat.update calls.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.runtime import Runtime
from bot.slack_app import build_app
from config.settings import Settings
from tests.fake_response_urls import Shown
from tests.fake_slack import Call, FakeSlack
from tests.helpers import action_body, slash_body

SECRET = "scenario-signing-secret"
TOKEN = "xoxb-scenario"


def signed(body: str, *, secret: str = SECRET, at: int | None = None) -> BoltRequest:
    """A request as Slack signs it (v0 HMAC of the timestamp and the raw body)."""
    ts = str(int(time.time()) if at is None else at)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers: dict[str, str | list[str]] = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [signature],
    }
    return BoltRequest(body=body, headers=headers)


class _Tracked(ThreadPoolExecutor):
    """The runtime's executor, with a way to wait until every job (and the jobs those jobs
    submit) has finished: a scenario's "then" runs once the bot has done all it will do."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, thread_name_prefix="scenario-docker")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def settle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(pending)} job(s) still running after {timeout} s")
            pending[0].result(timeout=left)


@dataclass
class Sent:
    """A slash command as dispatched: its response_url key, the HTTP answer, the ack shown."""

    key: str
    status: int
    ack: dict[str, Any]
    shown: Shown | None


class Scenario:
    """One Dockhand, in process, against `fake`."""

    def __init__(
        self,
        fake: FakeSlack,
        tmp_path: Path,
        *,
        docker_host: str = "unix:///nonexistent/scenario.sock",
        admins: str = "UADMIN",
        policy: str | None = None,
    ) -> None:
        env: dict[str, Any] = {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DOCKER_HOST": docker_host,
            "DOCKHAND_ADMINS": admins,
            "DOCKHAND_WORKERS": "4",
            "DOCKHAND_RUN_WAIT": "20",
        }
        if policy is not None:
            path = tmp_path / "policy.yml"
            path.write_text(policy)
            env["DOCKHAND_POLICY"] = str(path)
        settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]
        self.fake = fake
        self.runtime = Runtime.from_settings(settings, serving=True)
        self.runtime.executor.shutdown(wait=False)
        self.executor = _Tracked(4)
        self.runtime.executor = self.executor
        self.app: App = build_app(self.runtime)
        for start in self.runtime.on_start:
            start()

    def close(self) -> None:
        try:
            self.settle()
        finally:
            self.runtime.supervisor.stop()
            for stop in self.runtime.on_stop:
                stop()
            self.runtime.close()

    # --- given / when -----------------------------------------------------------------------

    def command(self, text: str, *, user: str = "U1", channel: str = "C1") -> Sent:
        """`/docker TEXT` typed by `user` in `channel`; its ack shown as Slack shows it."""
        key = f"cmd-{uuid.uuid4().hex[:10]}"
        body = slash_body(text, self.fake.response_url(key), user=user, channel=channel)
        response = self.app.dispatch(signed(body))
        ack = json.loads(response.body) if response.body else {}
        return Sent(key, response.status, ack, self.fake.responses.show_ack(key, ack))

    def click(
        self,
        on: Shown,
        action_id: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        choose: str | None = None,
    ) -> int:
        """A click on a button (or a choice in a menu: the option whose value is `choose`)
        of an ephemeral message the user sees; the HTTP status."""
        element = next((e for e in on.actions() if e["action_id"] == action_id), None)
        assert element is not None, f"no {action_id} on {on.words()[:500]}"
        key = f"click-{uuid.uuid4().hex[:10]}"
        self.fake.responses.click(key, on)
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": channel},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"t-{key}",
            "response_url": f"{self.fake.url}/response/{key}",
            "container": {"type": "message", "is_ephemeral": True, "channel_id": channel},
            "actions": [_action(element, choose)],
        }
        return self.app.dispatch(signed(action_body(payload))).status

    # --- then -----------------------------------------------------------------------------

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the bot has finished everything the requests so far started: the
        jobs on its executor and the messages queued for Slack (an outbox, when the front
        end delivers through one), until both are idle together."""
        deadline = time.monotonic() + timeout
        front = getattr(self.runtime.notifier, "__self__", None)
        outbox = getattr(front, "outbox", None)
        quiet = 0
        while quiet < 2:
            self.executor.settle(max(deadline - time.monotonic(), 0.1))
            busy = outbox is not None and outbox.backlog() > 0
            while outbox is not None and outbox.backlog() > 0:
                assert time.monotonic() < deadline, f"{outbox.backlog()} message(s) unsent"
                time.sleep(0.01)
            quiet = 0 if busy else quiet + 1
            time.sleep(0.01)

    def eventually(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait until `check()` holds (for what happens after a settle, e.g. a retry)."""
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.02)

    def seen(self, user_key: str | None = None) -> list[Shown]:
        """The ephemeral messages on the user's screen, in order (of one command's ack and
        replies when `user_key` is given)."""
        shown = list(self.fake.responses.shown)
        if user_key is None:
            return shown
        return [s for s in shown if user_key in s.origin]

    def posted(self, channel: str | None = None) -> list[Call]:
        """chat.postMessage calls Slack accepted (in `channel`)."""
        return [
            c
            for c in self.fake.calls
            if c.method == "chat.postMessage"
            and (channel is None or c.body.get("channel") == channel)
        ]

    def uploads(self) -> list[Call]:
        return [c for c in self.fake.calls if c.method == "files.completeUploadExternal"]


def _action(element: dict[str, Any], choose: str | None) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions`, as Slack writes it."""
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": "b",
        "type": element["type"],
        "action_ts": str(time.time()),
    }
    if element["type"] == "static_select":
        options = element["options"]
        action["selected_option"] = next(
            (o for o in options if choose is None or o["value"] == choose), options[0]
        )
    else:
        action["value"] = element.get("value", "")
    return action


def scenario(fake: FakeSlack, tmp_path: Path, **options: Any) -> Iterator[Scenario]:
    """A fixture body: a Scenario, closed after the test."""
    made = Scenario(fake, tmp_path, **options)
    try:
        yield made
    finally:
        made.close()
