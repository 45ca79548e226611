"""Helpers for end-to-end tests: signed slash commands and a running `dockhand serve`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from tests.rig import free_port, wait_for

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token-0123456789"


def slash_body(text: str, response_url: str, *, user: str = "U1", channel: str = "C1") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": "ops",
            "command": "/docker",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": uuid.uuid4().hex,
        }
    )


def action_body(payload: dict[str, object]) -> str:
    """An interactivity request as Slack sends it: a form with one JSON `payload` field."""
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment: nothing of the developer's DOCKER_HOST or tokens leaks in."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "PYTHONPATH"}}
    env.update(extra)
    return env


@dataclass
class Bot:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def post(self, body: str, headers: dict[str, str]) -> requests.Response:
        return requests.post(self.events_url, data=body.encode(), headers=headers, timeout=10)

    @property
    def worker_pid(self) -> int:
        """The worker process `serve` started (named in its log): it runs the Docker work,
        the scheduler and its lease; this process only acks (bot/front.py)."""
        found = re.findall(r"worker process (\d+) started", self.log.read_text())
        assert found, "the worker's start is not in the log"
        return int(found[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_bot(log_dir: Path, **env: str) -> Bot:
    port = free_port()
    log = log_dir / f"bot-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--bind", "127.0.0.1", "--port", str(port)],
        env=clean_env(
            **{
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "DOCKHAND_LOG_LEVEL": "DEBUG",
                # A fresh serve lets everyone only view: the tests' usual requester, U1, is
                # named admin the way a new team's quickstart does. Pass DOCKHAND_ADMINS=""
                # (empty means unset) for the fresh-install defaults.
                "DOCKHAND_ADMINS": "U1",
                **env,
            }
        ),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    bot = Bot(process, port, log)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"dockhand serve exited: {log.read_text()[-2000:]}")
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code in (200, 503)

    try:
        wait_for(up, 30, "dockhand serve")
    except Exception:
        bot.stop()
        raise
    return bot
