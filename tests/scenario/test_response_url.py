"""The "running…" note, against what Slack documents of response_url (bot/response_urls.py):
the user never keeps a stale note, Dockhand never counts on replace/delete where Slack does
not act on them, and the stand-in refuses what Slack refuses (a 6th post, a late one)."""

from __future__ import annotations

import requests

from tests.fake_slack import FakeSlack
from tests.rig import TEST_IMAGE, Engine
from tests.scenario.support import Scenario

# What the "running…" note Dockhand used to send said, and any note of work in progress.
STALE = ("hourglass", "running `/docker", "working on")


def _command_posts(fake: FakeSlack, key: str) -> list[dict[str, object]]:
    return [c.body for c in fake.calls if c.path == f"/response/{key}"]


def test_no_stale_note_after_a_read_or_a_change(
    docker_bot: Scenario, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    read = docker_bot.command("ps")
    change = docker_bot.command(f"run -d --name web2 {TEST_IMAGE} sleep 300", user="UADMIN")
    docker_bot.settle()
    # The read: its receipt, then its answer, below it; nothing claims work in progress.
    receipt, answer = docker_bot.seen(read.key)
    assert receipt.origin == f"ack:{read.key}" and "the answer follows" in receipt.text
    assert "web" in answer.words()
    # The change: its receipt on the requester's screen, the result in the channel.
    assert [s.words()[:300] for s in docker_bot.seen(change.key)][1:] == []
    assert any("started web2" in str(c.body) for c in docker_bot.posted("C1"))
    for shown in docker_bot.seen():
        assert not any(word in shown.words().lower() for word in STALE), shown.words()[:300]
    # Nothing is spent on flags Slack does not act on for a slash command's response_url.
    for key in (read.key, change.key):
        for body in _command_posts(fake_slack, key):
            assert "replace_original" not in body and "delete_original" not in body


def test_a_failing_read_leaves_no_stale_note(docker_bot: Scenario) -> None:
    sent = docker_bot.command("logs nosuchcontainer")
    docker_bot.settle()
    _receipt, answer = docker_bot.seen(sent.key)
    assert "no such container" in answer.words().lower()


def test_the_stand_in_refuses_a_sixth_post_and_a_late_one(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("cmd")
    answers = [requests.post(url, json={"text": f"n{n}"}, timeout=5) for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].json()["error"] == "used_url"
    assert [s.text for s in fake_slack.responses.shown] == [f"n{n}" for n in range(5)]

    late = fake_slack.response_url("late")
    fake_slack.responses.advance(30 * 60 + 1)
    answer = requests.post(late, json={"text": "too late"}, timeout=5)
    assert (answer.status_code, answer.json()["error"]) == (404, "expired_url")


def test_the_stand_in_replaces_only_for_a_click(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("typed")
    requests.post(url, json={"text": "first"}, timeout=5)
    # A slash command's response_url: the flags do nothing, a new message is added.
    requests.post(url, json={"text": "second", "replace_original": True}, timeout=5)
    requests.post(url, json={"delete_original": True}, timeout=5)
    assert [s.text for s in fake_slack.responses.shown] == ["first", "second"]
    # A click's response_url replaces, or deletes, the message clicked.
    first = fake_slack.responses.shown[0]
    fake_slack.responses.click("clicked", first)
    clicked = f"{fake_slack.url}/response/clicked"
    requests.post(clicked, json={"text": "first, again", "replace_original": True}, timeout=5)
    assert [s.text for s in fake_slack.responses.shown] == ["first, again", "second"]
    requests.post(clicked, json={"delete_original": True}, timeout=5)
    assert [s.text for s in fake_slack.responses.shown] == ["second"]
