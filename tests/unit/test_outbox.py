"""The outbox without servers: a scripted Slack, no Redis (the in-memory spool). Each message
is delivered once, Retry-After is waited out, order per channel holds, and what cannot be
delivered is handed to `on_failed` once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.budget import ChannelBudgets, RateBudget
from bot.delivery import Outcome
from bot.dispatch import Dispatch
from bot.metrics import Metrics
from bot.outbox import Message, Outbox
from bot.policy import Requester
from bot.reply import Reply
from bot.spool import Spool


class ScriptedSlack:
    """Answers from a script per channel (then ok), recording every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, dict[str, Any]]] = []
        self.script: dict[str, list[Outcome]] = {}
        self._n = 0
        self._lock = threading.Lock()

    def call(self, method: str, **arguments: Any) -> Outcome:
        with self._lock:
            self.calls.append((time.monotonic(), method, arguments))
            if method == "conversations.open":
                return Outcome(ok=True, data={"channel": {"id": f"D{arguments['users']}"}})
            queued = self.script.get(str(arguments.get("channel")))
            if queued:
                return queued.pop(0)
            self._n += 1
            return Outcome(ok=True, ts=f"1.{self._n:06d}", data={"channel": arguments["channel"]})

    def respond(self, url: str, payload: dict[str, Any]) -> Outcome:
        return self.call("response_url", channel=url, **payload)

    def posted(self, text: str) -> int:
        return sum(1 for _, _, a in self.calls if a.get("text") == text)


@pytest.fixture
def slack() -> ScriptedSlack:
    return ScriptedSlack()


@pytest.fixture
def outbox(slack: ScriptedSlack) -> Iterator[Outbox]:
    box = Outbox(
        slack,  # type: ignore[arg-type]
        None,
        Spool(None, 100, "outbox"),
        deadline=5.0,
        edit_budget=RateBudget(600, 50),
        channel_budgets=ChannelBudgets(per_minute=6000, burst=50),
    )
    thread = threading.Thread(target=box.run, daemon=True)
    thread.start()
    yield box
    box.stop()
    thread.join(5)


def post(channel: str, text: str, key: str | None = None) -> Message:
    extra = {"key": key} if key else {}
    return Message(
        kind="result", method="chat.postMessage", args={"channel": channel, "text": text}, **extra
    )


def test_retry_after_is_waited_out_and_the_message_goes_once(
    slack: ScriptedSlack, outbox: Outbox
) -> None:
    limited = Outcome(ok=False, error="ratelimited", retry_after=1.0, status=429)
    slack.script["C1"] = [limited, limited]
    started = time.monotonic()
    outcome = outbox.send(post("C1", "hello", "k1"), wait=10)
    assert outcome is not None and outcome.ok and outcome.ts
    tries = [at for at, _, a in slack.calls if a.get("text") == "hello"]
    assert len(tries) == 3
    assert tries[1] - tries[0] >= 0.95 and tries[2] - tries[1] >= 0.95
    assert time.monotonic() - started >= 1.9
    # The same key again: nothing is posted a second time.
    assert not outbox.put(post("C1", "hello", "k1"))
    time.sleep(0.3)
    assert slack.posted("hello") == 3


def test_a_channel_keeps_its_order_behind_a_retry(slack: ScriptedSlack, outbox: Outbox) -> None:
    slack.script["C1"] = [Outcome(ok=False, error="fatal_error", status=500)]
    for n in range(5):
        outbox.put(post("C1", f"m{n}"))
    outbox.put(post("C2", "other"))
    deadline = time.monotonic() + 10
    while outbox.backlog() and time.monotonic() < deadline:
        time.sleep(0.05)
    delivered = [a["text"] for _, _, a in slack.calls if a["channel"] == "C1"]
    assert delivered == ["m0", "m0", "m1", "m2", "m3", "m4"]
    assert slack.posted("other") == 1


def test_a_refusal_is_reported_once_and_not_retried(slack: ScriptedSlack, outbox: Outbox) -> None:
    failed: list[tuple[Message, Outcome]] = []
    outbox.on_failed = lambda m, o: failed.append((m, o))
    slack.script["CX"] = [Outcome(ok=False, error="not_in_channel")]
    outcome = outbox.send(post("CX", "lost?"), wait=5)
    assert outcome is not None and outcome.error == "not_in_channel"
    time.sleep(0.3)
    assert slack.posted("lost?") == 1
    assert [o.error for _, o in failed] == ["not_in_channel"]


def test_past_the_deadline_it_is_given_up_and_reported(slack: ScriptedSlack) -> None:
    box = Outbox(slack, None, Spool(None, 10, "outbox"), deadline=5.0)  # type: ignore[arg-type]
    failed: list[Outcome] = []
    box.on_failed = lambda m, o: failed.append(o)
    slack.script["C9"] = [Outcome(ok=False, error="unreachable")] * 100
    message = post("C9", "late")
    message.created -= 4.5  # written down 4.5 s ago: half a second of patience left
    thread = threading.Thread(target=box.run, daemon=True)
    thread.start()
    try:
        outcome = box.send(message, wait=10)
    finally:
        box.stop()
        thread.join(5)
    assert outcome is not None and outcome.error == "gave_up:unreachable"
    assert len(failed) == 1 and 1 < slack.posted("late") < 6


def test_a_full_spool_refuses_and_says_so(slack: ScriptedSlack) -> None:
    box = Outbox(slack, None, Spool(None, 2, "outbox"))  # type: ignore[arg-type]
    assert box.put(post("C1", "a")) and box.put(post("C1", "b"))
    assert not box.put(post("C1", "c"))
    assert box.backlog() == 2


def test_a_result_the_channel_refuses_reaches_the_requester_in_their_dm(
    slack: ScriptedSlack, outbox: Outbox
) -> None:
    """not_in_channel, then the response_url used up: the DM gets the result once, with how
    to fix it; nothing is posted twice."""
    dispatch = Dispatch(outbox, Metrics())
    slack.script["C1"] = [Outcome(ok=False, error="not_in_channel")]
    slack.script["https://hooks/r1"] = [Outcome(ok=False, error="used_url", status=404)]
    reply = Reply(ok=True, text="started web", ephemeral=False)
    dispatch.post_result(reply, Requester(user="U7", channel="C1"), "https://hooks/r1", "result")
    deadline = time.monotonic() + 10
    while not any(a.get("channel") == "DU7" for _, _, a in slack.calls):
        assert time.monotonic() < deadline, slack.calls
        time.sleep(0.05)
    time.sleep(0.3)
    where = [(m, a.get("channel")) for _, m, a in slack.calls if m != "conversations.open"]
    assert where == [
        ("chat.postMessage", "C1"),
        ("response_url", "https://hooks/r1"),
        ("chat.postMessage", "DU7"),
    ]
    said = next(a for _, _, a in slack.calls if a.get("channel") == "DU7")
    assert "started web" in said["text"] and "/invite @dockhand" in said["text"]


def test_the_requester_is_told_why_and_what_to_do() -> None:
    from bot.messages import not_delivered

    assert "/invite @dockhand" in not_delivered("C1", "not_in_channel")
    given_up = not_delivered("C1", "gave_up:unreachable")
    assert "for minutes" in given_up and "`unreachable`" in given_up
