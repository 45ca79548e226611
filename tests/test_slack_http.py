"""End to end: signed slash commands over HTTP to `dockhand serve`; replies on the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer


@pytest.fixture
def bot(
    clean_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> Iterator[Bot]:
    started = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
    )
    yield started
    started.stop()


def response_to(key: str):  # type: ignore[no-untyped-def]
    return lambda call: call.path == f"/response/{key}"


def code_text(call: Call) -> str:
    return "\n".join(b["text"]["text"] for b in call.body["blocks"] if b["type"] == "section")


def test_ps_reply_lists_what_the_cli_lists(
    bot: Bot, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("run", "--name", "job", TEST_IMAGE, "sh", "-c", "exit 2", check=False)
    body = slash_body("ps -a", fake_slack.response_url("ps"))
    answer = bot.post(body, signed_headers(body))
    assert answer.status_code == 200
    ack = answer.json()
    # A receipt that stays true: Slack lets no one remove a slash command's ack.
    assert ack["response_type"] == "ephemeral" and "received" in ack["text"]

    call = fake_slack.wait_for(response_to("ps"))
    # A new message: replace_original is documented for a click's response_url only.
    assert call.body["response_type"] == "ephemeral" and "replace_original" not in call.body
    shown = code_text(call)
    cli = clean_engine.cli("ps", "-a", "--format", "{{.ID}} {{.Names}} {{.State}}").stdout
    for line in cli.splitlines():
        short_id, name, state = line.split()
        row = next(r for r in shown.splitlines() if short_id in r)
        assert name in row
        assert ("Up " in row) == (state == "running")
    assert "Exited (2)" in shown


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "stale timestamp", "tampered body"])
def test_bad_signatures_get_401_and_run_nothing(bot: Bot, fake_slack: FakeSlack, how: str) -> None:
    body = slash_body("ps -a", fake_slack.response_url(how))
    if how == "unsigned":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    elif how == "wrong secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif how == "stale timestamp":
        headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    else:
        headers = signed_headers(body)
        body = body.replace("ps+-a", "ps+-q")
    assert bot.post(body, headers).status_code == 401
    # A valid command sent after it is answered; the refused one never is.
    good = slash_body("version", fake_slack.response_url("after"))
    assert bot.post(good, signed_headers(good)).status_code == 200
    fake_slack.wait_for(response_to("after"))
    assert fake_slack.find(response_to(how)) == []


def test_unknown_subcommand_gets_ephemeral_usage_with_suggestion(
    bot: Bot, fake_slack: FakeSlack
) -> None:
    body = slash_body("contianer ls", fake_slack.response_url("typo"))
    ack = bot.post(body, signed_headers(body)).json()
    assert ack["response_type"] == "ephemeral"
    assert "unknown command `contianer" in ack["text"]  # the word, or the words it began
    assert "Did you mean" in ack["text"] and "container" in ack["text"]
    assert "/docker" in json.dumps(ack["blocks"])  # the usage line


def test_help_is_answered_in_the_ack(bot: Bot, fake_slack: FakeSlack) -> None:
    body = slash_body("help ps", fake_slack.response_url("help"))
    ack = bot.post(body, signed_headers(body)).json()
    assert ack["response_type"] == "ephemeral"
    assert "--filter" in ack["text"] and "/docker container ls" in ack["text"]


def test_retried_request_runs_once(bot: Bot, fake_slack: FakeSlack) -> None:
    body = slash_body("version", fake_slack.response_url("once"))
    assert bot.post(body, signed_headers(body)).status_code == 200
    retry = {
        **signed_headers(body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert bot.post(body, retry).status_code == 200
    fake_slack.wait_for(response_to("once"))
    time.sleep(1.0)  # a second execution would post within this time
    assert len(fake_slack.find(response_to("once"))) == 1
