"""End to end over signed HTTP: a click delivered three times restarts once; secrets typed
in a command reach neither the audit channel nor the log; a viewer's inspect hides Env."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.helpers import Bot, action_body, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer

SECRET = "Hunter2-correct-horse"
POLICY = (
    "default_role: viewer\n"
    "bindings:\n"
    "  - {role: operator, users: [U_OP]}\n"
    "  - {role: admin, users: [U_ADMIN]}\n"
    "audit_channel: C_AUDIT\n"
)


@pytest.fixture(params=["redis", "in-process"])
def bot(
    request: pytest.FixtureRequest,
    clean_engine: Engine,
    redis_server: RedisServer,
    fake_slack: FakeSlack,
    log_dir: Path,
    tmp_path: Path,
) -> Iterator[Bot]:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    store = {"REDIS_URL": redis_server.url} if request.param == "redis" else {}
    started = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_POLICY=str(policy),
        **store,
    )
    yield started
    started.stop()


def restart_menu_click(fake: FakeSlack, container: str) -> str:
    """What the ps listing's Restart… menu sends when an option is picked."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U_OP"},
        "channel": {"id": "C1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{time.time_ns()}",
        "response_url": fake.response_url("restart"),
        "container": {"type": "message", "is_ephemeral": True},
        "message": {"blocks": []},
        "actions": [
            {
                "type": "static_select",
                "action_id": "dockhand.run:restart",
                "block_id": "b",
                "selected_option": {
                    "text": {"type": "plain_text", "text": container},
                    "value": f"restart {container}",
                },
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return action_body(payload)


def restarts(engine: Engine, container: str, since: float) -> int:
    events = engine.client().events(
        since=int(since),
        until=int(time.time()) + 1,
        filters={"event": "restart", "container": container},
        decode=True,
    )
    return sum(1 for _ in events)


def test_the_same_click_three_times_restarts_once(
    bot: Bot, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    clean_engine.cli("run", "-d", "--name", "clicky", TEST_IMAGE, "sleep", "300")
    started = time.time() - 1
    body = restart_menu_click(fake_slack, "clicky")
    headers = signed_headers(body)
    retried = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    for sent in (headers, retried, headers):  # a retry, and a replay of the same payload
        assert bot.post(body, sent).status_code == 200
    fake_slack.wait_for(
        lambda c: c.method == "chat.postMessage" and "clicky" in json.dumps(c.body), 30
    )
    time.sleep(3)  # a second restart would have happened by now
    assert restarts(clean_engine, "clicky", started) == 1
    posted = [
        c
        for c in fake_slack.calls
        if c.method == "chat.postMessage" and "restarted" in json.dumps(c.body)
    ]
    assert len(posted) == 1

    # A new click (its own trigger and time) is a new request and runs.
    again = restart_menu_click(fake_slack, "clicky")
    assert bot.post(again, signed_headers(again)).status_code == 200
    deadline = time.time() + 30
    while restarts(clean_engine, "clicky", started) < 2 and time.time() < deadline:
        time.sleep(0.3)
    assert restarts(clean_engine, "clicky", started) == 2


def test_secrets_reach_neither_the_audit_channel_nor_the_log_and_viewers_see_no_env(
    bot: Bot, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    typed = (
        f"run -d --name vault -e 'DB_PASSWORD={SECRET}' -e API_KEY={SECRET}x {TEST_IMAGE} sleep 300"
    )
    body = slash_body(typed, fake_slack.response_url("run"), user="U_OP")
    ack = bot.post(body, signed_headers(body)).json()
    assert SECRET not in json.dumps(ack)
    fake_slack.wait_for(
        lambda c: c.method == "chat.postMessage" and "started vault" in json.dumps(c.body), 30
    )
    mirrored = fake_slack.wait_for(
        lambda c: c.body.get("channel") == "C_AUDIT" and "vault" in c.body.get("text", ""), 10
    )
    assert "DB_PASSWORD=***" in mirrored.body["text"]

    before = len(fake_slack.calls)
    viewer = slash_body("inspect vault", fake_slack.response_url("viewer"), user="U_VIEW")
    bot.post(viewer, signed_headers(viewer))
    fake_slack.wait_for(lambda c: c.path == "/response/viewer" and "blocks" in c.body, 20)
    time.sleep(1)  # a long inspect also uploads a file
    shown = json.dumps([c.body for c in fake_slack.calls[before:]], default=str)
    assert "DB_PASSWORD=<redacted>" in shown

    everything = json.dumps([c.body for c in fake_slack.calls], default=str)
    assert SECRET not in everything
    assert SECRET not in bot.log.read_text()

    admin = slash_body(
        "inspect -f '{{json .Config.Env}}' vault", fake_slack.response_url("admin"), user="U_ADMIN"
    )
    bot.post(admin, signed_headers(admin))
    seen = fake_slack.wait_for(lambda c: c.path == "/response/admin" and "blocks" in c.body, 20)
    assert SECRET in json.dumps(seen.body)  # an admin sees the configuration as it is
