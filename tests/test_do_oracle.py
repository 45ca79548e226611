"""`dockhand do` against the docker CLI, byte for byte: stdout and the exit status of every
listing and inspect verb in its default, `-q` and `--format` forms, `run -d`, `create`, a
foreground run's own status, and errors (on stderr, with the CLI's statuses)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.helpers import clean_env
from tests.rig import TEST_IMAGE, Engine
from tests.test_cli import dockhand

# Relative times ("3 seconds ago", "Up 2 minutes") move between the two runs, and with
# them the column widths: only where they occur are both sides compared with the times
# blanked and the padding collapsed. Everything else must be the same bytes.
_TIME = re.compile(r"(About an? \w+|Less than a second|\d+ \w+)(?= ago|\s)")


def _steady(text: str) -> str:
    if not re.search(r" ago|Up ", text):
        return text
    return re.sub(r" {2,}", "  ", _TIME.sub("T", text))


def same_stdout(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    theirs = engine.cli(*args, check=False)
    mine = dockhand("do", shlex.join(args), DOCKER_HOST=engine.url)
    assert mine.returncode == theirs.returncode, (args, mine.stderr, theirs.stderr)
    assert _steady(mine.stdout) == _steady(theirs.stdout), args
    assert "Traceback" not in mine.stderr
    return mine


@pytest.fixture
def busy(clean_engine: Engine) -> Iterator[Engine]:
    clean_engine.cli("run", "-d", "--name", "web", "-l", "tier=front", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("create", "--name", "spare", TEST_IMAGE)
    clean_engine.cli("volume", "create", "oracle-vol")
    yield clean_engine
    clean_engine.cli("volume", "rm", "-f", "oracle-vol", check=False)


LISTINGS = [
    ["ps"],
    ["ps", "-a"],
    ["ps", "-aq"],
    ["ps", "-a", "--no-trunc"],
    ["ps", "-a", "--format", "{{.Names}}\t{{.State}}"],
    ["ps", "-a", "--format", "table {{.Names}}\\t{{.Image}}"],
    ["images"],
    ["images", "-q"],
    ["images", "--format", "{{.Repository}}:{{.Tag}}"],
    ["network", "ls"],
    ["network", "ls", "-q"],
    ["network", "ls", "--format", "{{.Name}} {{.Driver}}"],
    ["volume", "ls"],
    ["volume", "ls", "-q"],
    ["volume", "ls", "--format", "{{.Name}}:{{.Driver}}"],
    ["history", TEST_IMAGE],
    ["history", "-q", TEST_IMAGE],
    ["history", "--format", "{{.ID}} {{.Size}}", TEST_IMAGE],
    ["system", "df"],
    ["system", "df", "--format", "{{.Type}} {{.TotalCount}}"],
    ["inspect", "web"],
    ["inspect", "web", "spare"],
    ["inspect", TEST_IMAGE],
    ["inspect", "-f", "{{.Name}} {{.State.Status}}", "web", "spare"],
    ["volume", "inspect", "oracle-vol"],
    ["version", "--format", "{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}"],
    ["info", "--format", "{{.ServerVersion}} {{.Containers}} {{.Driver}}"],
]


@pytest.mark.parametrize("args", LISTINGS, ids=shlex.join)
def test_stdout_is_the_clis(busy: Engine, args: list[str]) -> None:
    same_stdout(busy, *args)


def test_run_detached_and_create_print_the_full_id_alone(clean_engine: Engine) -> None:
    for text in (f"run -d --name bare {TEST_IMAGE} sleep 300", f"create --name made {TEST_IMAGE}"):
        done = dockhand("do", text, DOCKER_HOST=clean_engine.url)
        assert done.returncode == 0, done.stderr
        name = text.split()[-2] if text.startswith("create") else "bare"
        full = clean_engine.cli("inspect", "-f", "{{.Id}}", name).stdout
        assert done.stdout == full and len(full) == 65  # the ID and a newline, as docker


def test_foreground_run_exits_with_the_containers_status(clean_engine: Engine) -> None:
    same_stdout(clean_engine, "run", "--rm", TEST_IMAGE, "sh", "-c", "echo out; exit 3")


def test_run_of_a_missing_command_exits_127(clean_engine: Engine) -> None:
    mine = same_stdout(clean_engine, "run", "--rm", TEST_IMAGE, "nosuchcmd")
    assert "executable file not found" in mine.stderr and mine.stdout == ""


def test_run_refused_by_the_daemon_exits_125(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "taken", TEST_IMAGE)
    mine = same_stdout(clean_engine, "run", "-d", "--name", "taken", TEST_IMAGE)
    assert mine.stdout == "" and 'The container name "/taken" is already in use' in mine.stderr


@pytest.mark.parametrize(
    "args",
    [["stop", "nosuch"], ["ps", "--bogus"], ["ps", "extra"], ["nosuchverb"], ["inspect", "nope"]],
    ids=shlex.join,
)
def test_errors_go_to_stderr_with_the_clis_status(engine: Engine, args: list[str]) -> None:
    theirs = engine.cli(*args, check=False)
    mine = dockhand("do", shlex.join(args), DOCKER_HOST=engine.url)
    assert mine.returncode == theirs.returncode != 0, (args, mine.stderr)
    assert mine.stderr and "Traceback" not in mine.stderr
    if args[0] == "stop":
        assert mine.stdout == "" and theirs.stderr.strip() in mine.stderr


def test_pipe_into_head_has_no_traceback(clean_engine: Engine) -> None:
    # Well over a pipe's buffer (64 KiB), so the write meets the closed pipe.
    clean_engine.create_containers(40, prefix="pipe")
    names = " ".join(f"pipe{n}" for n in range(40))
    done = subprocess.run(
        f"{shlex.quote(sys.executable)} -m bot.cli do 'inspect {names}' | head -1",
        shell=True,
        env=clean_env(DOCKER_HOST=clean_engine.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "[\n", done
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
