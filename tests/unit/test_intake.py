"""The command-text cap (bot/intake.py): Slack's limit, checked before parsing."""

from __future__ import annotations

import pytest

from bot.intake import MAX_COMMAND_TEXT, check_command_text
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from handlers.errors import UsageError


def test_text_at_the_limit_passes() -> None:
    check_command_text("ps " + "a" * (MAX_COMMAND_TEXT - 3))


def test_text_over_the_limit_names_the_limit() -> None:
    with pytest.raises(UsageError, match=r"4,001 characters long; the limit is 4,000$"):
        check_command_text("x" * (MAX_COMMAND_TEXT + 1))


def test_pipeline_refuses_before_parsing() -> None:
    pipeline = Pipeline(Engines({"local": "unix:///nonexistent.sock"}, timeout=1), Policy(None))
    # Garbage the parser would name as an unknown command: the cap answers first.
    reply = pipeline.run("zzz " * 2_000, Requester("U1", "C1", "cli"))
    assert not reply.ok and reply.exit_status == 2
    assert "the limit is 4,000" in reply.text and "unknown command" not in reply.text
