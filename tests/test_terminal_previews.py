"""At the terminal: stop/kill previews say what they would do (not "remove"), no Slack mention
(`<@cli>`) is ever printed, a prune with nothing to remove answers at once as docker does,
and the console writes at the terminal's width, wrapping nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import messages
from tests.helpers import clean_env
from tests.rig import TEST_IMAGE, Engine
from tests.test_cli import dockhand


@pytest.mark.parametrize(("verb", "action"), [("stop", "stop"), ("kill", "kill")])
def test_stop_and_kill_previews_say_what_they_would_do(
    clean_engine: Engine, verb: str, action: str
) -> None:
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    asked = dockhand("do", f"{verb} web", DOCKER_HOST=clean_engine.url)
    assert asked.returncode == 1 and asked.stdout == ""
    assert f"would {action} 1 container" in asked.stderr and "would remove" not in asked.stderr
    assert "<@" not in asked.stderr and "--yes" in asked.stderr
    running = clean_engine.cli("inspect", "-f", "{{.State.Running}}", "web").stdout
    assert running == "true\n"  # nothing done before the confirmation


def test_a_prune_with_nothing_to_remove_answers_at_once(clean_engine: Engine) -> None:
    theirs = clean_engine.cli("container", "prune", "-f")
    mine = dockhand("do", "container prune", DOCKER_HOST=clean_engine.url)
    assert (
        (mine.returncode, mine.stdout) == (0, theirs.stdout) == (0, "Total reclaimed space: 0B\n")
    )
    assert mine.stderr == ""  # no preview, no "--yes"
    said = json.loads(
        dockhand("do", "container prune", "--json", DOCKER_HOST=clean_engine.url).stdout
    )
    assert said["ok"] and not said.get("pending")
    assert "container prune: nothing to remove" in said["text"]


def test_a_prune_with_something_to_remove_still_asks(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "leftover", TEST_IMAGE)
    asked = dockhand("do", "container prune", DOCKER_HOST=clean_engine.url)
    assert asked.returncode == 1 and "would remove 1 container" in asked.stderr
    assert "<@" not in asked.stderr
    assert clean_engine.cli("ps", "-aq").stdout.strip() != ""


def test_the_console_uses_the_terminals_width(clean_engine: Engine, tmp_path: Path) -> None:
    long_command = ["sh", "-c", "sleep 300; echo " + "x" * 120]
    clean_engine.cli("run", "-d", "--name", "wide", TEST_IMAGE, *long_command)
    typed = "ps --no-trunc --format '{{.Names}} {{.Command}}'\nbuild .\nstop wide\nn\nexit\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=typed,
        capture_output=True,
        text=True,
        env=clean_env(DOCKER_HOST=clean_engine.url, HOME=str(tmp_path), COLUMNS="80"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # input() writes its prompt to stdout too: each answer starts after it.
    lines = [line.removeprefix("docker> ") for line in done.stdout.splitlines()]
    theirs = clean_engine.cli("ps", "--no-trunc", "--format", "{{.Names}} {{.Command}}").stdout
    assert theirs.strip() in lines and len(theirs.strip()) > 80  # one line, as docker's
    refusal = next(line for line in lines if "`build` is not available in chat" in line)
    assert refusal.rstrip().endswith("`pull` the image here") and len(refusal) > 80
    assert any("would stop 1 container" in line for line in lines)
    assert "<@" not in done.stdout


def test_mentions_are_for_slack_users_only() -> None:
    assert messages.mention("U123ABC") == "<@U123ABC>"
    assert messages.mention("cli") == "cli" and messages.mention("console") == "console"
    assert "<@" not in messages.confirm_prompt(False, "cli")
    assert "<@" not in messages.only_requester("console")
