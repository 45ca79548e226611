"""The error tree as users meet it: their mistakes named, our bugs apologised for with a
reference that is in the log, never a stack trace in a reply."""

from __future__ import annotations

import logging

import pytest

from bot.logs import REQUEST_ID
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from handlers.errors import EngineUnreachable, UsageError


def pipeline() -> Pipeline:
    return Pipeline(Engines({"local": "unix:///nonexistent.sock"}, timeout=1), Policy(None))


def test_bug_gets_apology_with_reference_in_log(caplog: pytest.LogCaptureFixture) -> None:
    token = REQUEST_ID.set("req1234567")
    try:
        with caplog.at_level(logging.ERROR, logger="dockhand.pipeline"):
            reply = pipeline().failure(RuntimeError("kaboom"), "ps -a")
    finally:
        REQUEST_ID.reset(token)
    assert reply.reference == "req1234567" and not reply.ok and reply.exit_status == 1
    assert "Reference `req1234567`" in reply.text
    assert "kaboom" not in reply.text and "Traceback" not in str(reply.blocks)
    record = caplog.records[-1]
    assert "ref=req1234567" in record.getMessage() and record.exc_info is not None


def test_user_mistake_names_token_and_usage() -> None:
    reply = pipeline().failure(
        UsageError("unrecognized arguments: --nope", usage="usage: x", token="--nope"), "ps --nope"
    )
    assert reply.exit_status == 2 and "--nope" in reply.text and "usage: x" in reply.text


def test_engine_errors_are_shown_as_they_are() -> None:
    reply = pipeline().failure(EngineUnreachable("local", "unix:///x.sock"), "ps")
    assert reply.text == "cannot reach Docker at local (unix:///x.sock)"


def test_destructive_do_needs_yes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from tests.helpers import clean_env

    # No engine is needed to see that a prune is previewed first: without one, the
    # preview itself fails clearly, and nothing is pruned either way.
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "do", "image prune -a"],
        env=clean_env(DOCKER_HOST=f"unix://{tmp_path}/none.sock"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "cannot reach Docker" in done.stderr
    assert "Traceback" not in done.stderr


def test_requester_mention() -> None:
    assert Requester("U1", "C1").mention == "<@U1>"
    assert Requester("ops", "cli", "cli").mention == "ops"
