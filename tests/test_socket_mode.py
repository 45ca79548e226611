"""Socket Mode: the same slash command and button, delivered over a WebSocket instead of HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode
from tests.helpers import BOT_TOKEN, clean_env
from tests.rig import TEST_IMAGE, Engine, RedisServer, free_port, wait_for


@pytest.fixture
def socket_bot(
    clean_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> Iterator[tuple[FakeSocketMode, int]]:
    link = FakeSocketMode()
    fake_slack.socket_mode_url = link.url
    port = free_port()
    log = log_dir / f"socket-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--bind", "127.0.0.1", "--port", str(port)],
        env=clean_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN="xapp-test-token-123456",
            DOCKER_HOST=clean_engine.url,
            REDIS_URL=redis_server.url,
            SLACK_API_URL=fake_slack.api_url,
            DOCKHAND_LOG_LEVEL="DEBUG",
        ),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert link.connected.wait(20), log.read_text()[-3000:]
        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok,
            20,
            "socket-mode bot health",
        )
        yield link, port
    finally:
        process.terminate()
        process.wait(15)
        link.close()


def slash(text: str, fake: FakeSlack, key: str) -> dict[str, object]:
    return {
        "token": "legacy",
        "team_id": "T1",
        "team_domain": "test",
        "channel_id": "C1",
        "channel_name": "ops",
        "user_id": "U1",
        "user_name": "ops",
        "command": "/docker",
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url(key),
        "trigger_id": f"trig-{key}-{time.monotonic_ns()}",
    }


def test_slash_command_over_socket_mode(
    socket_bot: tuple[FakeSocketMode, int], fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    link, port = socket_bot
    clean_engine.cli("create", "--name", "over-socket", TEST_IMAGE)
    sent = time.monotonic()
    envelope = link.envelope("slash_commands", slash("ps -a", fake_slack, "sm"))
    ack = link.ack_for(envelope)
    assert time.monotonic() - sent < 3.0
    assert "`/docker ps -a`: received" in json.dumps(ack.get("payload"))  # the receipt
    reply = fake_slack.wait_for(lambda c: c.path == "/response/sm" and "blocks" in c.body)
    assert "over-socket" in json.dumps(reply.body["blocks"])
    # In Socket Mode the port serves health and metrics only: no HTTP events.
    assert (
        requests.post(f"http://127.0.0.1:{port}/slack/events", data="x", timeout=5).status_code
        == 404
    )


def test_usage_error_and_button_over_socket_mode(
    socket_bot: tuple[FakeSocketMode, int], fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    link, _ = socket_bot
    envelope = link.envelope("slash_commands", slash("pss", fake_slack, "typo"))
    ack = link.ack_for(envelope)
    assert "Did you mean `ps`?" in json.dumps(ack.get("payload"))
    clean_engine.cli(
        "run", "-d", "--name", "clicked", TEST_IMAGE, "sh", "-c", "echo from-button; sleep 60"
    )
    action = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "t-sm",
        "response_url": fake_slack.response_url("button"),
        "container": {"type": "message", "is_ephemeral": True},
        "actions": [
            {
                "action_id": "dockhand.run:logs",
                "value": "logs --tail 100 clicked",
                "type": "button",
                "block_id": "b",
            }
        ],
    }
    link.ack_for(link.envelope("interactive", action))
    answer = fake_slack.wait_for(
        lambda c: c.method == "chat.postEphemeral" and "from-button" in json.dumps(c.body), 15
    )
    assert answer.body["user"] == "U1"
