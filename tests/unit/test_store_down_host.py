"""Redis down, and this process never read the channel's default host: the command is not run
on some other host (it could stop the wrong container); it is asked for a `-H`."""

from __future__ import annotations

import socket

import pytest
import redis

from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from handlers.errors import UsageError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pipeline() -> Pipeline:
    store = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5)
    return Pipeline(
        Engines({"local": "unix:///nonexistent.sock"}, timeout=1), Policy(None), store=store
    )


def test_a_command_without_a_host_asks_for_one(pipeline: Pipeline) -> None:
    with pytest.raises(UsageError) as raised:
        pipeline.prepare("ps -a", Requester("U1", "C_NEVER_READ", "slack"))
    assert "-H NAME" in raised.value.message
    assert ":warning:" not in raised.value.message


def test_a_named_host_and_help_need_no_store(pipeline: Pipeline) -> None:
    prepared = pipeline.prepare("-H local ps -a", Requester("U1", "C_NEVER_READ2", "slack"))
    assert prepared.command.host == "local"
    assert pipeline.prepare("help", Requester("U1", "C_NEVER_READ3", "slack")).command
