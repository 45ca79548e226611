"""`dockhand do` as a user runs it: a subprocess, with the environment as its only input."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from tests.helpers import clean_env
from tests.rig import TEST_IMAGE, Engine
from tests.test_containers import normalize_status


def dockhand(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_do_ps_json_matches_docker_ps_json(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "api", "-l", "a=b", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("create", "--name", "spare", TEST_IMAGE)
    done = dockhand("do", "ps -a", "--json", DOCKER_HOST=clean_engine.url)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["ok"] is True and reply["blocks"]
    theirs = [
        json.loads(x) for x in clean_engine.cli("ps", "-a", "--format", "json").stdout.splitlines()
    ]
    mine = reply["result"]["containers"]
    assert [c["id"][:12] for c in mine] == [t["ID"] for t in theirs]
    for c, t in zip(mine, theirs, strict=True):
        assert len(c["id"]) == 64
        assert ",".join(c["names"]) == t["Names"]
        assert c["image"] == t["Image"]
        assert c["state"] == t["State"]
        assert normalize_status(c["status"]) == normalize_status(t["Status"])


def test_do_prints_formatted_output_alone_as_the_cli(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "api", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("create", "--name", "spare", TEST_IMAGE)
    for args in (
        ["ps", "-a", "--format", "{{.Names}} {{.State}}"],
        ["inspect", "-f", "{{.Name}} {{.State.Status}}", "api", "spare"],
        ["images", "--format", "{{.Repository}}:{{.Tag}}"],
    ):
        done = dockhand("do", shlex.join(args), DOCKER_HOST=clean_engine.url)
        assert done.returncode == 0, done.stderr
        assert done.stdout == clean_engine.cli(*args).stdout


def test_do_exit_status_for_usage_error(engine: Engine) -> None:
    done = dockhand("do", "ps --bogus", DOCKER_HOST=engine.url)
    assert done.returncode == engine.cli("ps", "--bogus", check=False).returncode == 125
    assert "unrecognized arguments: --bogus" in done.stderr
    assert "usage: docker container ls" in done.stderr
    assert "Traceback" not in done.stderr


def test_do_exit_status_for_engine_failure(rig) -> None:  # type: ignore[no-untyped-def]
    url = f"unix://{rig.root}/nothing.sock"
    done = dockhand("do", "ps", DOCKER_HOST=url)
    assert done.returncode == 1
    assert f"cannot reach Docker at local ({url})" in done.stderr


def test_invalid_setting_is_one_line_exit_1() -> None:
    done = dockhand("do", "ps", DOCKHAND_DOCKER_TIMEOUT="soon")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and done.stderr.startswith(
        "dockhand: DOCKHAND_DOCKER_TIMEOUT:"
    )


def test_serve_without_token_says_which_setting() -> None:
    done = dockhand("serve", "--port", "0")
    assert done.returncode == 1
    assert done.stderr.strip() == "dockhand: SLACK_BOT_TOKEN is not set"


def test_do_previews_destructive_commands_until_yes(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "leftover", TEST_IMAGE)
    asked = dockhand("do", "container prune", DOCKER_HOST=clean_engine.url)
    assert asked.returncode == 1
    assert "would remove 1 container" in asked.stderr and "leftover" in asked.stderr
    assert "--yes" in asked.stderr
    assert clean_engine.cli("ps", "-aq").stdout.strip()  # nothing removed yet
    done = dockhand("do", "container prune", "--yes", DOCKER_HOST=clean_engine.url)
    assert done.returncode == 0, done.stderr
    gone = clean_engine.client().api.containers(all=True)
    assert not gone and done.stdout.startswith("Deleted Containers:\n")  # as `docker` prints
    assert done.stdout.endswith("\n\nTotal reclaimed space: 0B\n")
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""


def test_do_verb_help_and_help_verb_exit_0_with_the_usage() -> None:
    # Every verb with a required argument used to fail "the following arguments are required".
    for text in ("run --help", "help run", "image pull --help", "rm -h", "image --help"):
        done = dockhand("do", text)
        assert done.returncode == 0, (text, done.stderr)
        assert "usage: docker" in done.stdout, text
        assert "required" not in done.stdout + done.stderr
