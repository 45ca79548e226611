"""image ls, version and info against the rig's engine, the docker CLI as oracle."""

from __future__ import annotations

import json
import shlex

import pytest

from bot.parser import parse
from handlers import run_handler
from handlers.results import EngineInfo, EngineVersion, FormattedResult, ImageList
from tests.rig import TEST_IMAGE, Engine


def run(engine: Engine, text: str):  # type: ignore[no-untyped-def]
    command = parse(text)
    return run_handler(command, engine.client())


def cli_images(engine: Engine, *args: str) -> list[dict[str, str]]:
    out = engine.cli("images", *args, "--format", "json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_image_ls_matches_the_cli(engine: Engine) -> None:
    engine.cli("tag", TEST_IMAGE, "test/other:2.0")
    try:
        for args in [(), ("test/busybox",), ("--filter", "reference=test/*")]:
            result = run(engine, " ".join(("image ls", *args)))
            assert isinstance(result, ImageList)
            table = result.table()
            mine = sorted((r[0], r[1], r[2]) for r in table.rows)
            theirs = sorted((e["Repository"], e["Tag"], e["ID"]) for e in cli_images(engine, *args))
            assert mine == theirs
            sizes = {e["ID"]: e["Size"] for e in cli_images(engine, *args)}
            assert all(sizes[r[2]] == r[-1] for r in table.rows)
    finally:
        engine.cli("rmi", "test/other:2.0")


def test_image_ls_quiet_matches_the_cli(engine: Engine) -> None:
    engine.cli("tag", TEST_IMAGE, "test/other:2.0")
    try:
        for args in [("-q",), ("-q", "-a"), ("-q", "--no-trunc"), ("-q", "test/busybox")]:
            rows = run(engine, " ".join(("images", *args))).table().rows
            # Images created in the same second come in no fixed order, from either.
            assert sorted(r[0] for r in rows) == sorted(engine.cli("images", *args).stdout.split())
    finally:
        engine.cli("rmi", "test/other:2.0")


@pytest.mark.parametrize(
    "template",
    [
        "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}",
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.Size}}\t{{.VirtualSize}}",
        "{{.CreatedAt}} {{.Containers}} {{.SharedSize}}",
        "json",
    ],
)
def test_image_ls_format_matches_the_cli(engine: Engine, template: str) -> None:
    engine.cli("tag", TEST_IMAGE, "test/other:2.0")
    try:
        for args in [("--format", template), ("--no-trunc", "--format", template)]:
            result = run(engine, shlex.join(("images", *args)))
            assert isinstance(result, FormattedResult)
            expected = engine.cli("images", *args).stdout.splitlines()
            mine = result.lines
            if template == "json":  # CreatedSince moves with the clock
                mine, expected = [_steady(x) for x in mine], [_steady(x) for x in expected]
            # Images created in the same second come in no fixed order, from either.
            head = 1 if template.startswith("table") else 0
            assert mine[:head] == expected[:head]
            assert sorted(mine[head:]) == sorted(expected[head:])
    finally:
        engine.cli("rmi", "test/other:2.0")


def _steady(line: str) -> str:
    """A JSON line without CreatedSince, written back the way it was written."""
    fields = json.loads(line)
    fields.pop("CreatedSince")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "{{.ID}} {{.CreatedBy}} {{.Size}} {{.Comment}} {{.CreatedAt}}"),
        ("--format", "table {{.ID}}\t{{.Size}}\t{{.Comment}}"),
        ("--human=false", "--format", "{{.CreatedSince}} {{.Size}}"),
        ("--no-trunc", "--format", "{{.ID}}"),
        ("-q",),
        ("-q", "--no-trunc"),
    ],
)
def test_image_history_matches_the_cli(engine: Engine, args: tuple[str, ...]) -> None:
    result = run(engine, shlex.join(("image", "history", *args, TEST_IMAGE)))
    expected = engine.cli("image", "history", *args, TEST_IMAGE).stdout.rstrip("\n")
    if "-q" in args:
        assert "\n".join(row[0] for row in result.table().rows) == expected
    else:
        assert isinstance(result, FormattedResult)
        assert result.body() == expected


def test_version_and_info_format_match_the_cli(engine: Engine) -> None:
    for verb, template in [
        ("version", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}"),
        ("info", "{{.Name}} {{.Driver}} {{.NCPU}} {{json .Plugins.Volume}}"),
        ("info", "{{.DockerRootDir}} {{.ContainersRunning}}"),
    ]:
        result = run(engine, shlex.join((verb, "--format", template)))
        assert isinstance(result, FormattedResult)
        assert result.body() == engine.cli(verb, "--format", template).stdout.rstrip("\n")


def test_image_ls_digests_column(engine: Engine) -> None:
    result = run(engine, "images --digests")
    assert result.table().columns[:3] == ["REPOSITORY", "TAG", "DIGEST"]


def test_version_matches_the_cli(engine: Engine) -> None:
    theirs = json.loads(engine.cli("version", "--format", "{{json .Server}}").stdout)
    result = run(engine, "version")
    assert isinstance(result, EngineVersion)
    assert result.version == theirs["Version"]
    assert result.api_version == theirs["ApiVersion"]
    assert result.kernel_version == theirs["KernelVersion"]


def test_info_matches_the_cli(engine: Engine) -> None:
    theirs = json.loads(engine.cli("info", "--format", "{{json .}}").stdout)
    result = run(engine, "info")
    assert isinstance(result, EngineInfo)
    assert result.docker_root_dir == theirs["DockerRootDir"] == str(engine.data_root)
    assert result.images == theirs["Images"]
    assert result.storage_driver == theirs["Driver"]
    assert result.cpus == theirs["NCPU"]
