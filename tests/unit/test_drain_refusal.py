"""While a shutdown drains, Bolt answers a new slash command with a refusal and runs nothing;
before it, commands reach their listener as usual."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

from slack_bolt import Ack, App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier

from bot.server import SHUTTING_DOWN, refuse_while_draining

SECRET = "unit-signing-secret"


def signed(body: str) -> BoltRequest:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    headers: dict[str, str | list[str]] = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [signature],
    }
    return BoltRequest(body=body, headers=headers)


def test_commands_are_refused_only_while_draining() -> None:
    draining = threading.Event()
    ran: list[str] = []
    app = App(
        signing_secret=SECRET,
        # Decided here: no call to Slack's auth.test (a unit test makes no traffic at all).
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T1", bot_token="xoxb-unit", bot_user_id="UBOT"
        ),
        process_before_response=True,
    )
    app.use(refuse_while_draining(draining.is_set))

    @app.command("/docker")
    def on_command(ack: Ack, body: dict[str, str]) -> None:
        ran.append(body["text"])
        ack(text="running")

    body = urlencode({"command": "/docker", "text": "ps", "user_id": "U1", "team_id": "T1"})
    assert app.dispatch(signed(body)).body == "running"
    draining.set()
    refused = app.dispatch(signed(body))
    assert refused.status == 200
    assert json.loads(refused.body) == {"response_type": "ephemeral", "text": SHUTTING_DOWN}
    assert ran == ["ps"]
    # A forged request is still turned away by the signature check, before any refusal.
    assert app.dispatch(BoltRequest(body=body, headers={})).status == 401
