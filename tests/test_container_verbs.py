"""Container verbs beyond create, against the rig's engine with the CLI as the oracle."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.parser import parse
from bot.render import summary_of
from handlers import run_handler
from handlers.context import Context
from handlers.engines import translate_engine_errors
from handlers.errors import DockhandError, NoSuchObject
from handlers.results import (
    BatchResult,
    ContainerLogsResult,
    ContainerRun,
    InspectResult,
    PruneResult,
    Result,
    StatsResult,
    TableResult,
)
from tests.rig import TEST_IMAGE, Engine


def do(engine: Engine, text: str, wait: float = 30.0) -> Result:
    with translate_engine_errors("local", engine.url, 60):
        return run_handler(parse(text), engine.client(), Context(attach_timeout=wait))


def state(engine: Engine, name: str) -> dict[str, object]:
    return dict(engine.client().api.inspect_container(name)["State"])


def test_run_attached_returns_output_and_exit_code(clean_engine: Engine) -> None:
    result = do(
        clean_engine, f"run --name hello {TEST_IMAGE} sh -c 'echo out; echo err >&2; exit 3'"
    )
    assert isinstance(result, ContainerRun)
    assert result.exit_code == 3 and result.failed()
    assert "out" in result.output and "err" in result.output
    assert len(result.id) == 64  # the full ID: chat has no --cidfile
    assert "exited with code 3" in result.summary()


def test_run_rm_attached_still_returns_output(clean_engine: Engine) -> None:
    result = do(clean_engine, f"run --rm {TEST_IMAGE} echo gone-but-heard")
    assert isinstance(result, ContainerRun)
    assert result.exit_code == 0 and "gone-but-heard" in result.output
    time.sleep(0.5)
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""


def test_run_attached_bounded_wait(clean_engine: Engine) -> None:
    started = time.monotonic()
    result = do(
        clean_engine, f"run --name slow {TEST_IMAGE} sh -c 'echo begun; sleep 30'", wait=1.5
    )
    assert time.monotonic() - started < 10
    assert isinstance(result, ContainerRun)
    assert result.still_running and result.exit_code is None
    assert "/docker logs slow" in summary_of(result)  # the bot's hint; the result has the facts
    assert state(clean_engine, "slow")["Running"] is True


def test_run_detached_starts(clean_engine: Engine) -> None:
    result = do(clean_engine, f"run -d --name bg {TEST_IMAGE} sleep 60")
    assert isinstance(result, ContainerRun) and result.started and result.exit_code is None
    assert state(clean_engine, "bg")["Running"] is True


def test_run_missing_image_is_engine_error(clean_engine: Engine) -> None:
    # No registry answers for this name: the pull fails, and says so.
    with pytest.raises(DockhandError):
        do(clean_engine, "run -d 127.0.0.1:1/nothing/here:1.0")


def test_stop_start_restart_kill_pause_and_errors_per_container(clean_engine: Engine) -> None:
    clean_engine.cli(
        "run", "-d", "--stop-timeout", "1", "--name", "svc-a", TEST_IMAGE, "sleep", "300"
    )
    clean_engine.cli("run", "-d", "--name", "svc-b", TEST_IMAGE, "sleep", "300")
    stopped = do(clean_engine, "stop -t 1 svc-a nosuch svc-b")
    assert isinstance(stopped, BatchResult)
    assert stopped.done == ["svc-a", "svc-b"]
    assert [name for name, _ in stopped.errors] == ["nosuch"] and stopped.failed()
    assert "No such container: nosuch" in stopped.errors[0][1]
    assert state(clean_engine, "svc-a")["Running"] is False
    assert do(clean_engine, "start svc-a").done == ["svc-a"]  # type: ignore[attr-defined]
    do(clean_engine, "pause svc-a")
    assert state(clean_engine, "svc-a")["Paused"] is True
    do(clean_engine, "unpause svc-a")
    do(clean_engine, "restart -t 1 svc-a")
    # Without -t, as the ps listing's Restart menu sends it: the engine's own stop timeout.
    restarted = do(clean_engine, "restart svc-a")
    assert isinstance(restarted, BatchResult) and restarted.done == ["svc-a"], restarted
    assert state(clean_engine, "svc-a")["Running"] is True
    do(clean_engine, "kill -s SIGKILL svc-a")
    assert state(clean_engine, "svc-a")["Running"] is False
    do(clean_engine, "rm -f svc-a svc-b")
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""


def test_rename_and_rm_running_refused_without_force(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "old", TEST_IMAGE, "sleep", "300")
    do(clean_engine, "rename old new")
    assert state(clean_engine, "new")["Running"] is True
    refused = do(clean_engine, "rm new")
    assert isinstance(refused, BatchResult) and refused.failed()
    assert (
        "stop the container before removing" in refused.errors[0][1].lower()
        or "force" in refused.errors[0][1].lower()
    )


def test_logs_tail_since_timestamps_match_cli(clean_engine: Engine) -> None:
    clean_engine.cli(
        "run",
        "--name",
        "talker",
        TEST_IMAGE,
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line$i; done",
    )
    result = do(clean_engine, "logs --tail 2 talker")
    assert isinstance(result, ContainerLogsResult)
    assert (
        result.text == clean_engine.cli("logs", "--tail", "2", "talker").stdout == "line4\nline5\n"
    )
    stamped = do(clean_engine, "logs -t --since 10m talker")
    assert stamped.text.count("Z line") == 5  # type: ignore[attr-defined]
    assert do(clean_engine, "logs --until 1h talker").text == ""  # type: ignore[attr-defined]
    with pytest.raises(DockhandError, match="--since"):
        do(clean_engine, "logs --since yesterday talker")


@pytest.mark.parametrize(
    "template",
    [
        "{{.Id}}",
        "{{ .Config.Cmd }}",
        "{{json .Config.Labels}}",
        "{{.State.Status}} {{.Name}}",
        "{{.HostConfig.Memory}}",
        '{{index .Config.Labels "tier"}}',
        "{{.Config.Env}}",
    ],
)
def test_inspect_format_matches_cli(clean_engine: Engine, template: str) -> None:
    clean_engine.cli(
        "create",
        "--name",
        "insp",
        "-l",
        "tier=db",
        "-m",
        "64m",
        "-e",
        "A=1",
        TEST_IMAGE,
        "sleep",
        "1",
    )
    result = do(clean_engine, f"inspect -f '{template}' insp")
    assert isinstance(result, InspectResult)
    expected = clean_engine.cli("inspect", "-f", template, "insp").stdout.rstrip("\n")
    assert result.formatted == [expected]


def _null_paths(obj: dict[str, Any], path: str = "") -> Iterator[str]:
    for key, value in obj.items():
        if value is None:
            yield f"{path}.{key}"
        elif isinstance(value, dict) and key != "Labels":
            yield from _null_paths(value, f"{path}.{key}")


@pytest.mark.parametrize("kind", ["container", "image"])
def test_inspect_format_prints_empty_fields_as_the_cli(clean_engine: Engine, kind: str) -> None:
    """Every field the Engine sends as null, and the pointers it leaves out, printed the way
    the CLI's typed structs print them: [], map[] or <nil>."""
    reference = TEST_IMAGE
    if kind == "container":
        reference = clean_engine.cli("create", TEST_IMAGE).stdout.strip()
    inspected = json.loads(clean_engine.cli(kind, "inspect", reference).stdout)[0]
    paths = list(_null_paths(inspected))
    if kind == "container":
        paths += [".State.Health", ".Config.Healthcheck"]
    assert len(paths) >= 5, paths
    template = " ".join(f"{p}={{{{{p}}}}}" for p in paths)
    expected = clean_engine.cli(kind, "inspect", "--format", template, reference).stdout
    result = do(clean_engine, shlex.join([kind, "inspect", "--format", template, reference]))
    assert isinstance(result, InspectResult)
    assert result.formatted == [expected.rstrip("\n")]


def test_inspect_json_and_not_found(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "insp2", TEST_IMAGE)
    result = do(clean_engine, "container inspect insp2")
    assert isinstance(result, InspectResult)
    assert (
        json.loads(result.body())[0]["Id"]
        == json.loads(clean_engine.cli("inspect", "insp2").stdout)[0]["Id"]
    )
    assert do(clean_engine, f"inspect {TEST_IMAGE}").objects[0]["RepoTags"]  # type: ignore[attr-defined]
    with pytest.raises(NoSuchObject, match="No such object: ghost"):
        do(clean_engine, "inspect ghost")


def test_inspect_refuses_code_in_templates(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "insp3", TEST_IMAGE)
    with pytest.raises(DockhandError, match="not defined"):
        do(clean_engine, "inspect -f '{{exec \"ls\"}}' insp3")
    with pytest.raises(DockhandError):
        do(clean_engine, "inspect -f '{{.__class__}}x{{' insp3")


def test_top_and_stats(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "busy", "-m", "64m", TEST_IMAGE, "sleep", "300")
    top = do(clean_engine, "top busy")
    assert isinstance(top, TableResult)
    assert "PID" in top.grid.columns and any("sleep 300" in " ".join(r) for r in top.grid.rows)
    stats = do(clean_engine, "stats --no-stream busy")
    assert isinstance(stats, StatsResult)
    row = stats.rows[0]
    assert row.name == "busy" and row.memory_limit == 64 * 1024 * 1024 and row.pids >= 1
    assert stats.table().rows[0][3].endswith("/ 64MiB")


def test_update_changes_live_limits_like_docker_update(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "u1", "-m", "64m", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("run", "-d", "--name", "u2", "-m", "64m", TEST_IMAGE, "sleep", "300")
    flags = [
        "--cpus",
        "0.5",
        "-m",
        "128m",
        "--memory-swap",
        "256m",
        "--pids-limit",
        "50",
        "--restart",
        "on-failure:2",
        "--cpu-shares",
        "300",
    ]
    clean_engine.cli("update", *flags, "u1")
    do(clean_engine, "update " + " ".join(flags) + " u2")
    fields = ("NanoCpus", "Memory", "MemorySwap", "PidsLimit", "RestartPolicy", "CpuShares")
    api = clean_engine.client().api
    first, second = (api.inspect_container(n)["HostConfig"] for n in ("u1", "u2"))
    assert {f: second[f] for f in fields} == {f: first[f] for f in fields}


def test_container_prune_matches_engine(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "p1", TEST_IMAGE)
    clean_engine.cli("run", "--name", "p2", TEST_IMAGE, "true")
    clean_engine.cli("run", "-d", "--name", "keep", TEST_IMAGE, "sleep", "300")
    expected = set(
        clean_engine.cli(
            "ps", "-aq", "--no-trunc", "--filter", "status=exited", "--filter", "status=created"
        ).stdout.split()
    )
    result = do(clean_engine, "container prune -f")
    assert isinstance(result, PruneResult)
    assert {d.split()[1] for d in result.deleted} == expected
    assert clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["keep"]
