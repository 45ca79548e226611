"""image ls, version and info against the rig's engine, the docker CLI as oracle."""

from __future__ import annotations

import json

from bot.parser import parse
from handlers import run_handler
from handlers.results import EngineInfo, EngineVersion, ImageList
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
