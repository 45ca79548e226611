"""A fresh `dockhand serve` (no policy file) over signed HTTP: everyone views, the named admins
act, denials and a key-less `login` say how to open up; /healthz and /metrics show their
detail only to loopback clients or the ops token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.server import DockhandHTTPServer
from tests.fake_slack import FakeSlack
from tests.helpers import Bot, signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, Engine, RedisServer

ADMIN = "U0ADMIN"
VIEWER = "U0VIEWER"
TOKEN = "ops-token-0123456789abcdef"


@pytest.fixture
def fresh_bot(
    clean_engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack, log_dir: Path
) -> Iterator[Bot]:
    """Started as a new team would: no policy, no key, one admin named in DOCKHAND_ADMINS."""
    started = start_bot(
        log_dir,
        DOCKER_HOST=clean_engine.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_ADMINS=ADMIN,
        # As .env.example copied as is: empty means unset, not an error.
        DOCKHAND_POLICY="",
        DOCKHAND_SECRET_KEY="",
    )
    yield started
    started.stop()


def slash(bot: Bot, fake: FakeSlack, text: str, key: str, user: str) -> dict[str, Any]:
    body = slash_body(text, fake.response_url(key), user=user)
    answer = bot.post(body, signed_headers(body))
    assert answer.status_code == 200
    return dict(answer.json())


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        (f"run -d --name nope {TEST_IMAGE} sleep 60", "container:run"),
        ("rm -f victim", "container:rm"),
        ("image prune -a", "image:prune"),
        ("system prune", "system:prune"),
        ("schedule prune images --every 1h", "schedule:add"),
        ("audit --since 1h", "audit"),
    ],
)
def test_viewer_is_refused_with_how_to_grant(
    fresh_bot: Bot, fake_slack: FakeSlack, clean_engine: Engine, text: str, verb: str
) -> None:
    clean_engine.cli("run", "-d", "--name", "victim", TEST_IMAGE, "sleep", "300")
    ack = slash(fresh_bot, fake_slack, text, "denied", VIEWER)
    said = ack["text"]
    assert ack["response_type"] == "ephemeral"
    assert f"may not run `{verb}`" in said and "fresh install: everyone is viewer" in said
    assert f"DOCKHAND_ADMINS={VIEWER}" in said and "DOCKHAND_POLICY" in said
    assert f"{{role: admin, users: [{VIEWER}]}}" in said
    assert "victim" in clean_engine.cli("ps", "--format", "{{.Names}}").stdout
    assert "nope" not in clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout


def test_viewer_may_list_and_the_named_admin_may_act(
    fresh_bot: Bot, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    clean_engine.cli("create", "--name", "listed", TEST_IMAGE)
    assert ": received" in slash(fresh_bot, fake_slack, "ps -a", "ps", VIEWER)["text"]
    listed = fake_slack.wait_for(lambda c: c.path == "/response/ps" and "blocks" in c.body)
    assert "listed" in json.dumps(listed.body["blocks"])

    text = f"run -d --name by-admin {TEST_IMAGE} sleep 60"
    assert ": received" in slash(fresh_bot, fake_slack, text, "run", ADMIN)["text"]
    fake_slack.wait_for(lambda c: "by-admin" in json.dumps(c.body), 20)
    assert "by-admin" in clean_engine.cli("ps", "--format", "{{.Names}}").stdout


def test_login_without_a_key_is_refused_with_how_to(fresh_bot: Bot, fake_slack: FakeSlack) -> None:
    said = slash(fresh_bot, fake_slack, "login registry.example.com", "login", ADMIN)["text"]
    assert "DOCKHAND_SECRET_KEY" in said and "dockhand keygen" in said
    assert not fake_slack.find(lambda c: c.method == "views.open")


def test_loopback_client_sees_health_detail_and_metrics(fresh_bot: Bot) -> None:
    base = f"http://127.0.0.1:{fresh_bot.port}"
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["engines"] == {"local": "ok"}
    metrics = requests.get(f"{base}/metrics", timeout=10)
    assert metrics.status_code == 200 and "dockhand_commands_total" in metrics.text


class Remote:
    """The real HTTP server told to treat its (loopback) peers as remote hosts: all traffic
    stays on 127.0.0.1, the decision is the one a client from another host meets."""

    def __init__(self, token: str | None) -> None:
        self.healthy = True
        self.server = DockhandHTTPServer(
            ("127.0.0.1", 0),
            None,
            self.health,
            metrics=lambda: b"dockhand_commands_total 3\n",
            ops_token=token,
            trust_loopback=False,
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def health(self) -> tuple[bool, dict[str, Any]]:
        engines = {"local": "ok" if self.healthy else "engine at unix:///x.sock unreachable"}
        return self.healthy, {"engines": engines, "store": "ok", "version": "27.1.1"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote() -> Iterator[Remote]:
    made = Remote(TOKEN)
    yield made
    made.close()


def test_remote_client_gets_status_only(remote: Remote) -> None:
    up = requests.get(f"{remote.url}/healthz", timeout=5)
    assert up.status_code == 200 and up.json() == {"status": "ok"}
    remote.healthy = False
    down = requests.get(f"{remote.url}/healthz", timeout=5)
    assert down.status_code == 503 and down.json() == {"status": "unavailable"}
    assert "unix:///x.sock" not in down.text


def test_remote_client_needs_the_token(remote: Remote) -> None:
    refused = requests.get(f"{remote.url}/metrics", timeout=5)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "dockhand_" not in refused.text
    wrong = {"Authorization": f"Bearer {TOKEN[:-1]}"}
    assert requests.get(f"{remote.url}/metrics", headers=wrong, timeout=5).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    metrics = requests.get(f"{remote.url}/metrics", headers=right, timeout=5)
    assert metrics.status_code == 200 and "dockhand_commands_total 3" in metrics.text
    health = requests.get(f"{remote.url}/healthz", headers=right, timeout=5).json()
    assert health["engines"] == {"local": "ok"} and health["version"] == "27.1.1"


def test_without_a_token_metrics_are_loopback_only() -> None:
    remote = Remote(None)
    try:
        refused = requests.get(f"{remote.url}/metrics", timeout=5)
        assert refused.status_code == 403 and "dockhand_" not in refused.text
    finally:
        remote.close()
