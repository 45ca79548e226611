"""The Slack experience end to end: who sees what, progress, pages, uploads, buttons, login."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.fake_slack import FakeSlack
from tests.helpers import Bot, action_body, signed_headers, slash_body, start_bot
from tests.rig import (
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    TEST_IMAGE,
    Engine,
    RedisServer,
    Registry,
)


@pytest.fixture
def bot(
    clean_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> Iterator[Bot]:
    started = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_WORKERS="8",
        DOCKHAND_RUN_WAIT="20",
        # Without a key, `login` from Slack is refused (tests/test_secure_defaults.py).
        DOCKHAND_SECRET_KEY=Fernet.generate_key().decode(),
    )
    yield started
    started.stop()


def command(bot: Bot, fake: FakeSlack, text: str, key: str, user: str = "U1") -> requests.Response:
    body = slash_body(text, fake.response_url(key), user=user)
    return bot.post(body, signed_headers(body))


def method(name: str):  # type: ignore[no-untyped-def]
    return lambda call: call.method == name


def test_state_change_is_posted_in_channel_with_buttons(bot: Bot, fake_slack: FakeSlack) -> None:
    command(bot, fake_slack, f"run -d --name web {TEST_IMAGE} sleep 300", "run")
    posted = fake_slack.wait_for(method("chat.postMessage"))
    assert posted.body["channel"] == "C1"
    text = json.dumps(posted.body["blocks"])
    assert "started web" in text and "by <@U1>" in text
    actions = next(b for b in posted.body["blocks"] if b["type"] == "actions")
    values = {e["action_id"]: e["value"] for e in actions["elements"]}
    assert values == {"dockhand.run:logs": "logs --tail 100 web", "dockhand.run:stop": "stop web"}
    # Nothing is sent to delete the ack: delete_original does not act on a slash command's
    # response (bot/response_urls.py), and the ack is a receipt that stays true.
    time.sleep(0.5)
    assert not fake_slack.find(lambda c: c.path == "/response/run")


def test_pull_progress_edits_one_message_at_most_once_a_second(
    clean_engine: Engine,
    redis_server: RedisServer,
    fake_slack: FakeSlack,
    registry: Registry,
    log_dir: Path,
) -> None:
    reference = f"{registry.address}/progress/big:1.0"
    clean_engine.import_busybox(reference, extra=os.urandom(64 << 20))
    clean_engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
    clean_engine.cli("push", reference)
    clean_engine.cli("rmi", reference)
    clean_engine.cli("logout", registry.address)
    credentials = {registry.address: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}}
    bot = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_REGISTRY_CREDENTIALS=json.dumps(credentials),
    )
    try:
        command(bot, fake_slack, f"pull {reference}", "pull")
        first = fake_slack.wait_for(method("chat.postMessage"))
        final = fake_slack.wait_for(
            lambda c: c.method == "chat.update" and bool(c.body.get("blocks")), 60
        )
    finally:
        bot.stop()
    edits = fake_slack.find(method("chat.update"))
    assert edits[-1] is final and len(edits) >= 2, [e.body.get("text") for e in edits]
    assert all(e.body["ts"] == edits[0].body["ts"] for e in edits)  # one message, edited
    times = [c.at for c in edits]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times)), times
    assert first.at <= times[0]
    shown = json.dumps(final.body["blocks"])
    assert "Digest" in shown and "Downloaded newer image" in shown
    clean_engine.cli("rmi", reference)


def test_seventh_command_is_acked_while_six_long_ones_run(bot: Bot, fake_slack: FakeSlack) -> None:
    for n in range(6):
        assert command(bot, fake_slack, f"run --name long{n} {TEST_IMAGE} sleep 4", f"l{n}").ok
    time.sleep(0.5)  # all six are now on the executor
    started = time.monotonic()
    answer = command(bot, fake_slack, "version", "seventh")
    assert answer.status_code == 200 and time.monotonic() - started < 3.0
    fake_slack.wait_for(lambda c: c.path == "/response/seventh", 10)
    finished = [
        fake_slack.wait_for(
            lambda c, n=n: (
                c.method == "chat.postMessage" and f"long{n} exited" in json.dumps(c.body)
            ),
            30,
        )
        for n in range(6)
    ]
    assert len(finished) == 6


def test_huge_logs_arrive_as_a_file_and_an_excerpt(
    bot: Bot, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    clean_engine.cli("run", "--name", "chatty", TEST_IMAGE, "seq", "1", "100000")
    command(bot, fake_slack, "logs chatty", "logs")
    reply = fake_slack.wait_for(lambda c: c.path == "/response/logs" and "blocks" in c.body, 30)
    shown = json.dumps(reply.body["blocks"])
    assert "100000" in shown and "chatty-logs.txt" in shown
    upload = fake_slack.wait_for(lambda c: c.path.startswith("/upload/"))
    assert upload.body["raw"].count(b"\n") >= 100000
    completed = fake_slack.wait_for(method("files.completeUploadExternal"))
    # A read is the requester's: the whole output goes to their DM, never the channel.
    assert completed.body["channel_id"] == "DU1", completed.body
    assert "your DM" in shown
    rejected = [
        c
        for c in fake_slack.calls
        if c.path.startswith(("/api/chat", "/response")) and len(json.dumps(c.body)) > 40000
    ]
    assert rejected == []


def test_next_page_button_reruns_for_the_clicker(
    bot: Bot, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    clean_engine.create_containers(25)
    command(bot, fake_slack, "ps -a", "page1")
    first = fake_slack.wait_for(lambda c: c.path == "/response/page1" and "blocks" in c.body)
    actions = next(b for b in first.body["blocks"] if b["type"] == "actions")
    next_button = next(e for e in actions["elements"] if e["action_id"] == "dockhand.page:next")
    payload = {
        "type": "block_actions",
        "user": {"id": "U2"},
        "channel": {"id": "C1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "t1",
        "response_url": fake_slack.response_url("page2"),
        "container": {"type": "message", "is_ephemeral": True},
        "actions": [
            {
                "action_id": next_button["action_id"],
                "value": next_button["value"],
                "type": "button",
                "block_id": "b",
            }
        ],
    }
    body = action_body(payload)
    assert bot.post(body, signed_headers(body)).status_code == 200
    second = fake_slack.wait_for(lambda c: c.path == "/response/page2" and "blocks" in c.body)
    assert "rows 21–25 of 25" in json.dumps(second.body["blocks"], ensure_ascii=False)
    assert second.body.get("replace_original") is True

    # Previous, back to page 1, replaces the list too (it used to post a new message).
    actions = next(b for b in second.body["blocks"] if b["type"] == "actions")
    previous = next(e for e in actions["elements"] if e["action_id"] == "dockhand.page:prev")
    payload["actions"] = [{**payload["actions"][0], **previous}]  # type: ignore[list-item]
    payload["response_url"] = fake_slack.response_url("page1again")
    body = action_body(payload)
    assert bot.post(body, signed_headers(body)).status_code == 200
    back = fake_slack.wait_for(lambda c: c.path == "/response/page1again" and "blocks" in c.body)
    assert back.body.get("replace_original") is True
    assert "rows 1–20 of 25" in json.dumps(back.body["blocks"], ensure_ascii=False)


def test_login_opens_a_modal_and_never_shows_the_password(
    bot: Bot, fake_slack: FakeSlack, registry: Registry
) -> None:
    answer = command(bot, fake_slack, f"login {registry.address}", "login").json()
    assert "private form" in answer["text"]
    opened = fake_slack.wait_for(method("views.open"))
    view = opened.body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "dockhand.login"
    submission = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "t2",
        "view": {
            "id": "V1",
            "callback_id": "dockhand.login",
            "type": "modal",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "username": {"value": {"value": REGISTRY_USER}},
                    "password": {"value": {"value": REGISTRY_PASSWORD}},
                }
            },
        },
    }
    body = action_body(submission)
    assert bot.post(body, signed_headers(body)).status_code == 200
    reply = fake_slack.wait_for(method("chat.postEphemeral"), 20)
    assert "Login Succeeded" in reply.body["text"]
    everything = json.dumps([c.body for c in fake_slack.calls if c.path != "/api/views.open"])
    assert REGISTRY_PASSWORD not in everything.replace(json.dumps(submission), "")
    assert REGISTRY_PASSWORD not in bot.log.read_text()


def block_action(
    fake: FakeSlack,
    user: str,
    action_id: str,
    value: str,
    key: str,
    message: dict[str, object] | None = None,
) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": "C1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"t-{key}",
        "response_url": fake.response_url(key),
        "container": {"type": "message", "is_ephemeral": True},
        "message": message or {"blocks": []},
        "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
    }
    return action_body(payload)


def test_confirm_flow_over_slack(bot: Bot, fake_slack: FakeSlack, clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "victim", TEST_IMAGE, "sleep", "300")
    command(bot, fake_slack, "rm -f victim", "ask")
    preview = fake_slack.wait_for(lambda c: c.path == "/response/ask" and "blocks" in c.body)
    shown = json.dumps(preview.body["blocks"])
    assert "would remove 1 container" in shown and "victim (running)" in shown
    assert preview.body["response_type"] == "ephemeral"
    actions = next(b for b in preview.body["blocks"] if b["type"] == "actions")
    pending = actions["elements"][0]["value"]

    body = block_action(fake_slack, "U2", "dockhand.confirm", pending, "other")
    assert bot.post(body, signed_headers(body)).status_code == 200
    refused = fake_slack.wait_for(method("chat.postEphemeral"))
    assert refused.body["user"] == "U2" and "Only <@U1> can confirm" in refused.body["text"]
    assert clean_engine.cli("ps", "-q").stdout.strip()

    body = block_action(fake_slack, "U1", "dockhand.confirm", pending, "mine")
    assert bot.post(body, signed_headers(body)).status_code == 200
    done = fake_slack.wait_for(
        lambda c: c.method == "chat.postMessage" and "removed" in json.dumps(c.body)
    )
    assert "confirmed by <@U1>" in json.dumps(done.body)
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""
    closed = fake_slack.wait_for(lambda c: c.path == "/response/mine")
    assert "confirmed by" in closed.body["text"]

    body = block_action(fake_slack, "U1", "dockhand.confirm", pending, "twice")
    assert bot.post(body, signed_headers(body)).status_code == 200
    fake_slack.wait_for(
        lambda c: c.method == "chat.postEphemeral" and "already used" in c.body.get("text", "")
    )


def test_unsigned_button_payload_is_refused(bot: Bot, fake_slack: FakeSlack) -> None:
    body = block_action(fake_slack, "U_ADMIN", "dockhand.run:stop", "stop web", "forged")
    assert bot.post(body, {"Content-Type": "application/x-www-form-urlencoded"}).status_code == 401
    assert bot.post(body, signed_headers(body, secret="guessed")).status_code == 401


def test_button_runs_as_the_clicker_with_their_role(
    clean_engine: Engine,
    redis_server: RedisServer,
    fake_slack: FakeSlack,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "bindings:\n  - {role: operator, users: [U_OP]}\n  - {role: viewer, users: [U_VIEW]}\n"
    )
    clean_engine.cli("run", "-d", "--name", "svc", TEST_IMAGE, "sleep", "300")
    bot = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_POLICY=str(policy),
    )
    try:
        body = block_action(fake_slack, "U_VIEW", "dockhand.run:stop", "stop svc", "viewer")
        assert bot.post(body, signed_headers(body)).status_code == 200
        denied = fake_slack.wait_for(method("chat.postEphemeral"))
        assert denied.body["user"] == "U_VIEW"
        assert "may not run `container:stop`" in denied.body["text"]
        assert clean_engine.cli("ps", "-q").stdout.strip()
    finally:
        bot.stop()


def test_app_home_shows_each_host(bot: Bot, fake_slack: FakeSlack, clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "homey", TEST_IMAGE, "sleep", "300")
    event = {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
    }
    body = json.dumps(event)
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    assert bot.post(body, headers).status_code == 200
    published = fake_slack.wait_for(method("views.publish"), 15)
    view = published.body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    shown = json.dumps(view)
    running = clean_engine.client().info()["ContainersRunning"]
    assert "*local* :large_green_circle:" in shown and f"{running} running" in shown
    assert "Scheduled jobs" in shown and "Last alerts" in shown


def test_group_roles_audit_channel_and_no_secret_in_logs(
    clean_engine: Engine,
    redis_server: RedisServer,
    fake_slack: FakeSlack,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    from tests.helpers import BOT_TOKEN, SIGNING_SECRET

    fake_slack.usergroups = [{"id": "S_OPS", "users": ["U_G"]}]
    policy = tmp_path / "policy.yml"
    policy.write_text("bindings:\n  - {role: operator, groups: [S_OPS]}\naudit_channel: C_AUDIT\n")
    bot = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_POLICY=str(policy),
    )
    try:
        command(bot, fake_slack, f"run -d --name grouped {TEST_IMAGE} sleep 60", "g", user="U_G")
        fake_slack.wait_for(
            lambda c: c.method == "chat.postMessage" and "started grouped" in json.dumps(c.body)
        )
        denied = command(bot, fake_slack, "ps", "x", user="U_X").json()
        assert "may not run `container:ls`" in denied["text"] and "no role" in denied["text"]
        mirrored = [
            fake_slack.wait_for(
                lambda c, who=who: (
                    c.body.get("channel") == "C_AUDIT" and who in c.body.get("text", "")
                ),
                10,
            )
            for who in ("<@U_G>", "<@U_X>")
        ]
        assert "`allowed`" in mirrored[0].body["text"] and "`denied`" in mirrored[1].body["text"]

        # A role from a group holds at confirmation time too.
        command(bot, fake_slack, "rm -f grouped", "gone", user="U_G")
        preview = fake_slack.wait_for(lambda c: c.path == "/response/gone" and "blocks" in c.body)
        actions = next(b for b in preview.body["blocks"] if b["type"] == "actions")
        body = block_action(
            fake_slack, "U_G", "dockhand.confirm", actions["elements"][0]["value"], "gone2"
        )
        assert bot.post(body, signed_headers(body)).status_code == 200
        deadline = time.monotonic() + 20
        while "grouped" in clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout:
            assert time.monotonic() < deadline, [c.path for c in fake_slack.calls[-5:]]
            time.sleep(0.3)
    finally:
        bot.stop()
    logged = bot.log.read_text()
    assert "Sending a request" in logged  # DEBUG traces of every Slack call were written
    assert BOT_TOKEN not in logged and SIGNING_SECRET not in logged


def test_a_channel_without_the_bot_still_gets_the_result_to_the_requester(
    bot: Bot, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    """not_in_channel: the result reaches the requester through the response_url with how
    to fix it, as a new message below the ack (nothing is deleted)."""
    fake_slack.not_in.add("C1")
    command(bot, fake_slack, f"run -d --name lonely {TEST_IMAGE} sleep 300", "lonely")
    answer = fake_slack.wait_for(lambda c: c.path == "/response/lonely" and "blocks" in c.body, 30)
    shown = json.dumps(answer.body)
    assert "started lonely" in shown and "/invite @dockhand" in shown
    assert answer.body["response_type"] == "ephemeral"
    time.sleep(1)
    assert not fake_slack.find(
        lambda c: c.path == "/response/lonely" and c.body.get("delete_original")
    )
    assert clean_engine.cli("ps", "--format", "{{.Names}}").stdout.strip() == "lonely"


def test_slack_refusing_every_retry_still_delivers_once(
    bot: Bot, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    """chat.postMessage answers 500 four times running: the outbox keeps trying (for minutes,
    not three tries) and the result lands in the channel exactly once, nowhere else."""
    fake_slack.fail_many("chat.postMessage", 500, 4)
    command(bot, fake_slack, f"run -d --name stubborn {TEST_IMAGE} sleep 300", "stubborn")
    deadline = time.monotonic() + 40
    while len(fake_slack.find(lambda c: "started stubborn" in json.dumps(c.body))) < 5:
        assert time.monotonic() < deadline, [c.path for c in fake_slack.calls]
        time.sleep(0.2)
    time.sleep(2)
    tries = [c for c in fake_slack.calls if "started stubborn" in json.dumps(c.body)]
    assert [c.path for c in tries] == ["/api/chat.postMessage"] * 5
    # Each try came later than the one before: backed off, not hammered.
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert all(g >= 0.4 for g in gaps), gaps
