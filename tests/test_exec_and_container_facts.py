"""`exec`, `port`, `diff`, `wait`, `events --since/--until` and `stats --format` against the
docker CLI, byte for byte on stdout with the same exit status; exec's safety check (the body
and the container as a whole) and the bounded waits of exec and wait."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig import TEST_IMAGE, Engine
from tests.test_cli import dockhand
from tests.test_do_oracle import same_stdout
from tests.test_safety import ADMIN, OPERATOR, OTHER_OPERATOR, make_pipeline

ENV_SCRIPT = ["sh", "-c", "echo $A $B; pwd; id -u; id -g"]
NAMES = ("pweb", "changed", "made", "ends", "bad", "ours", "guarded")


@pytest.fixture(scope="module")
def box(engine: Engine) -> Iterator[tuple[Engine, float, float]]:
    """On a user network (the rig's default network has no ports): published ports on
    loopback only, a container with filesystem changes, one that never ran, one that exited
    5, one made with a capability the safety check refuses, one of Dockhand's own."""
    engine.guard()
    since = time.time() - 1
    engine.cli("network", "create", "facts-net")
    run = ("run", "-d", "--network", "facts-net")
    ports = ("-p", "127.0.0.1::80", "-p", "127.0.0.1::53/udp", "-p", "127.0.0.1::8080")
    engine.cli(*run, "--name", "pweb", *ports, TEST_IMAGE, "sleep", "600")
    engine.cli("run", "-d", "--name", "changed", TEST_IMAGE, "sleep", "600")
    engine.cli("exec", "changed", "sh", "-c", "mkdir -p /data/a && touch /data/a/b && rm /bin/true")
    engine.cli("create", "--name", "made", TEST_IMAGE)
    engine.cli("run", "--name", "ends", TEST_IMAGE, "sh", "-c", "exit 5", check=False)
    engine.cli("run", "-d", "--name", "bad", "--cap-add", "SYS_ADMIN", TEST_IMAGE, "sleep", "600")
    engine.cli(
        "run", "-d", "--name", "ours", "-l", "dockhand.internal=1", TEST_IMAGE, "sleep", "600"
    )
    engine.cli(
        "run",
        "-d",
        "--name",
        "guarded",
        "-l",
        "dockhand.protected=true",
        TEST_IMAGE,
        "sleep",
        "600",
    )
    until = time.time() + 0.5
    time.sleep(0.6)  # the window is closed before anyone asks for it
    yield engine, since, until
    engine.cli("rm", "-f", *NAMES, check=False)
    engine.cli("network", "rm", "facts-net", check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["port", "pweb"],
        ["port", "pweb", "80"],
        ["port", "pweb", "53/udp"],
        ["container", "port", "pweb", "8080/tcp"],
        ["port", "pweb", "82"],
        ["port", "pweb", "abc"],
        ["port", "nosuch"],
        ["port", "made"],
        ["container", "diff", "made"],
        ["port", "pweb", "--format", "{{.}}"],
        ["diff", "changed", "--format", "{{.Path}}"],
        ["diff", "nosuch"],
        ["wait", "ends"],
        ["wait", "ends", "nosuch", "made"],
        ["exec", "pweb", "sh", "-c", "echo out; echo err >&2; exit 3"],
        ["exec", "-e", "A=1", "-e", "B=two", "-w", "/bin", "-u", "7:8", "pweb", *ENV_SCRIPT],
        ["exec", "pweb", "nosuch"],
        ["exec", "made", "true"],
        ["exec", "nosuch", "true"],
        ["exec", "pweb"],
        ["port"],
        ["wait"],
    ],
    ids=shlex.join,
)
def test_stdout_and_status_are_the_clis(box: tuple[Engine, float, float], args: list[str]) -> None:
    mine = same_stdout(box[0], *args)
    if args[:2] == ["exec", "pweb"] and args[2:3] == ["sh"]:
        assert mine.stderr == "err\n"  # each stream where docker puts it


def test_diff_is_the_clis_in_the_engines_order(box: tuple[Engine, float, float]) -> None:
    """The engine walks the layer in no fixed order (two `docker diff` calls may differ), so
    the lines are compared as a set; each is the CLI's `{{.Type}} {{.Path}}`."""
    engine = box[0]
    theirs = engine.cli("diff", "changed")
    mine = dockhand("do", "diff changed", DOCKER_HOST=engine.url)
    assert mine.returncode == 0 and mine.stdout.endswith("\n")
    assert sorted(mine.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    assert {"C /bin", "D /bin/true", "A /data/a/b"} <= set(mine.stdout.splitlines())


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}}"],
        ["--format", "json"],
        ["-f", "type=container", "-f", "event=start"],
        ["--filter", "container=pweb", "--format", "{{json .Actor}}"],
    ],
    ids=shlex.join,
)
def test_events_of_a_closed_window_are_the_clis(
    box: tuple[Engine, float, float], extra: list[str]
) -> None:
    engine, since, until = box
    mine = same_stdout(
        engine, "events", "--since", f"{since:.3f}", "--until", f"{until:.3f}", *extra
    )
    assert mine.stdout.count("\n") >= 2  # the fixture's own creates and starts, at least


def test_a_bad_events_template_fails_as_the_clis(box: tuple[Engine, float, float]) -> None:
    engine = box[0]
    args = ("events", "--since", "1m", "--until", "0s", "--format", "{{.Nope}}")
    theirs = engine.cli(*args, check=False)
    mine = dockhand("do", shlex.join(args), DOCKER_HOST=engine.url)
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout) == (64, "")
    assert theirs.stderr.strip() in mine.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--no-stream", "--format", "{{.Name}} {{.ID}} {{.Container}} {{json .PIDs}}"],
        ["stats", "--no-stream", "--format", "table {{.Container}}\\t{{.Name}}", "pweb", "changed"],
    ],
    ids=shlex.join,
)
def test_stats_format_is_the_clis(box: tuple[Engine, float, float], args: list[str]) -> None:
    same_stdout(box[0], *args)


def test_exec_privileged_is_refused_and_nothing_runs(box: tuple[Engine, float, float]) -> None:
    engine = box[0]
    done = dockhand("do", "exec --privileged pweb touch /privileged", DOCKER_HOST=engine.url)
    assert done.returncode != 0 and done.stdout == ""
    assert "refused by policy" in done.stderr and "--privileged" in done.stderr
    assert engine.cli("exec", "pweb", "cat", "/privileged", check=False).returncode == 1


@pytest.mark.parametrize(
    ("target", "reason"),
    [("bad", "--cap-add"), ("ours", "part of Dockhand itself")],
)
def test_exec_into_a_container_that_fails_the_check_is_refused(
    box: tuple[Engine, float, float], target: str, reason: str
) -> None:
    """A container made elsewhere with --cap-add SYS_ADMIN gives an exec the host as much as a
    new one would: judged as a whole, as `--pid container:X` judges X."""
    engine = box[0]
    done = dockhand("do", f"exec {target} touch /got-in", DOCKER_HOST=engine.url)
    assert done.returncode != 0 and done.stdout == ""
    assert "refused by policy" in done.stderr and reason in done.stderr, done.stderr
    assert engine.cli("exec", target, "cat", "/got-in", check=False).returncode == 1


def test_exec_and_wait_are_bounded(box: tuple[Engine, float, float]) -> None:
    engine = box[0]
    started = time.monotonic()
    done = dockhand(
        "do",
        "exec pweb sh -c 'echo begun; sleep 30'",
        DOCKER_HOST=engine.url,
        DOCKHAND_RUN_WAIT="1",
    )
    assert time.monotonic() - started < 8
    assert done.returncode == 1 and done.stdout == "begun\n"
    assert "still running after" in done.stderr
    started = time.monotonic()
    done = dockhand("do", "wait ends pweb", DOCKER_HOST=engine.url, DOCKHAND_RUN_WAIT="1")
    assert time.monotonic() - started < 8
    assert done.returncode == 1 and done.stdout == "5\n"
    assert "still running after" in done.stderr and "pweb" in done.stderr


def test_exec_granted_by_a_policy_still_spares_protected_containers(
    box: tuple[Engine, float, float], tmp_path: Path
) -> None:
    """An operator a policy gives exec may use it, but not in a protected container; an
    operator without it is refused the verb; an admin may exec into either."""
    policy = '  - {role: shell, users: [U_OP]}\nroles:\n  shell: ["container:exec"]\n'
    pipeline = make_pipeline(box[0], tmp_path, policy)
    try:
        done = pipeline.run("exec pweb sh -c 'echo from-pweb'", OPERATOR)
        assert done.ok and done.result is not None and "from-pweb" in done.result.body()
        assert done.ephemeral  # the output is the requester's: it may hold the container's secrets
        refused = pipeline.run("exec guarded true", OPERATOR)
        assert not refused.ok and "guarded is protected" in refused.text
        denied = pipeline.run("exec pweb true", OTHER_OPERATOR)
        assert not denied.ok and "may not run `container:exec`" in denied.text
        assert pipeline.run("exec guarded true", ADMIN).ok
    finally:
        pipeline.engines.close()
