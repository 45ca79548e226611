"""Handlers return kinds and facts; the bot words them (bot/messages.py). Nothing under
handlers/ says a Slack emoji code in a string or a `/docker ...` hint, anywhere in the file:
those belong to a renderer, and the terminal has neither."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.messages import finding_line, hint
from handlers.errors import Hint
from handlers.health import Finding

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "handlers").rglob("*.py"))
#: a Slack emoji code (`:red_circle:`, `:x:`), not a `host:port:...` or `aa:bb:cc` inside a word
EMOJI = re.compile(r"(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])")
#: the slash command, not a path such as github.com/docker/go-units
SLASH_COMMAND = re.compile(r"(?<![\w./-])/docker\b")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string constant, f-string parts included."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_there_are_handlers_to_scan() -> None:
    assert len(HANDLERS) > 10


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_emoji_codes_or_slash_hints(path: Path) -> None:
    source = path.read_text()
    found = [
        f"{path.name}:{line}: emoji {match.group()!r}"
        for line, text in _strings(ast.parse(source, filename=str(path)))
        for match in EMOJI.finditer(text)
    ]
    found += [
        f"{path.name}:{source.count(chr(10), 0, match.start()) + 1}: {match.group()!r}"
        for match in SLASH_COMMAND.finditer(source)
    ]
    assert not found, "wording for bot/messages.py:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        (":red_circle: web exited", True),
        ("f':x: {name}'", True),
        ("autoheal gave up :rotating_light:", True),
        ("run `/docker login reg:5000`", True),
        ("aa:bb:cc:dd:ee:ff", False),
        ("127.0.0.1:5000:5000/tcp", False),
        ("github.com/docker/go-units", False),
        ("/var/run/docker.sock", False),
        ("nginx:1.27", False),
    ],
)
def test_the_patterns_tell_wording_from_values(text: str, flagged: bool) -> None:
    assert bool(EMOJI.search(text) or SLASH_COMMAND.search(text)) is flagged


def _finding(kind: str, **facts: object) -> Finding:
    return Finding.model_validate({"container": "c" * 64, "name": "web", "kind": kind, **facts})


@pytest.mark.parametrize(
    ("finding", "said"),
    [
        (_finding("unhealthy"), ":large_orange_circle: web is unhealthy"),
        (_finding("recovered"), ":white_check_mark: web is healthy again"),
        (
            _finding("restart-loop", seconds=31, restart_count=4),
            ":repeat: web is in a restart loop: restarting for 31s, 4 restarts",
        ),
        (_finding("oom", exit_code=137), ":boom: web was OOMKilled (exit code 137)"),
        (
            _finding("exhausted", exit_code=3, retries=2),
            ":x: web exhausted its on-failure:2 retries and stayed exited (exit code 3)",
        ),
        (_finding("exit", exit_code=1), ":red_circle: web exited with code 1"),
        (
            _finding("protected", label="dockhand.protected"),
            ":shield: web is protected (label dockhand.protected): "
            "autoheal did not restart it; it needs a person",
        ),
        (
            _finding("escalated", heals=3, window=600),
            ":rotating_light: autoheal gave up on web: 3 restarts in 600 s did not help; "
            "it needs a person",
        ),
        (
            _finding("heal-failed", reason="CapAdd is not allowed", refused=True),
            ":x: autoheal did not restart web: CapAdd is not allowed",
        ),
        (
            _finding("heal-failed", reason="conflict"),
            ":x: autoheal could not restart web: conflict",
        ),
        (
            _finding("healed", heals=1, budget=3, window=600),
            ":adhesive_bandage: restarted web (1/3 in 600 s)",
        ),
    ],
    ids=lambda v: v.kind if isinstance(v, Finding) else "",
)
def test_findings_are_worded_by_the_bot_as_before(finding: Finding, said: str) -> None:
    assert finding_line(finding) == said


def test_hints_are_worded_by_the_bot_as_before() -> None:
    assert (
        hint("registry reg:5000 wants credentials", Hint("login", "reg:5000"))
        == "registry reg:5000 wants credentials: run `/docker login reg:5000`"
    )
    assert hint("no credentials for reg:5000", Hint("login-privately", "reg:5000")) == (
        "no credentials for reg:5000: run `/docker login reg:5000` alone to "
        "enter them privately, or name them in DOCKHAND_REGISTRY_CREDENTIALS"
    )
