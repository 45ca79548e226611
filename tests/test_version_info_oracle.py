"""`version` and `info` in their default form against the docker CLI. The Server part is
compared byte for byte; the Client part cannot be: it describes the client that asked, and
Dockhand is not the docker CLI binary (its version, Go version, build, context and plugins
are the CLI's own). In `info`, Runtimes is a Go map the CLI prints in Go's random map order
(two `docker info` runs differ), so that one line is compared as a set of names.
Also `search --filter` keys and values the daemon refuses, in its words."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.rig import Engine
from tests.test_cli import dockhand


def _server(text: str) -> str:
    part = text[text.index("\nServer:") :]
    return re.sub(
        r"(?m)^( Runtimes:) (.*)$", lambda m: f"{m[1]} {' '.join(sorted(m[2].split()))}", part
    )


def test_version_server_part_is_the_clis(engine: Engine) -> None:
    theirs = engine.cli("version")
    mine = dockhand("do", "version", DOCKER_HOST=engine.url)
    assert mine.returncode == 0, mine.stderr
    assert _server(mine.stdout) == _server(theirs.stdout)
    assert mine.stdout.startswith("Client: Dockhand\n Version:  ")
    assert " API version:       1.41\n" in mine.stdout  # what this client speaks


def test_info_server_part_and_warnings_are_the_clis(engine: Engine) -> None:
    theirs = engine.cli("info")
    mine = dockhand("do", "info", DOCKER_HOST=engine.url)
    assert mine.returncode == 0, mine.stderr
    assert _server(mine.stdout) == _server(theirs.stdout)
    assert mine.stderr == theirs.stderr  # the engine's warnings, on stderr as the CLI puts them
    assert mine.stdout.startswith("Client: Dockhand\n")


@pytest.mark.parametrize("value", ["start=3", "stars=x", "is-official=maybe"])
def test_search_filters_the_daemon_refuses(engine: Engine, value: str) -> None:
    args = ("search", f"--filter={value}", "busybox")
    theirs = engine.cli(*args, check=False, timeout=30)
    mine = dockhand("do", shlex.join(args), DOCKER_HOST=engine.url)
    assert mine.returncode == theirs.returncode == 1 and mine.stdout == theirs.stdout == ""
    said = theirs.stderr.strip().removeprefix("Error response from daemon: ")
    assert said.startswith("Invalid filter") and said in mine.stderr
