"""image prune -a, history, tag and rm: two identical engines, one pruned by the docker CLI
and one by Dockhand, must end the same and report the same space reclaimed."""

from __future__ import annotations

import re

import pytest

from bot.parser import parse
from handlers import run_handler
from handlers.results import BatchResult, PruneResult, TableResult
from handlers.units import human_size
from tests.rig import TEST_IMAGE, Engine, Rig


def set_up(engine: Engine) -> None:
    engine.import_busybox()
    engine.cli("create", "--name", "user", TEST_IMAGE)  # keeps test/busybox in use
    engine.import_busybox("test/unused:1.0", extra=b"u" * 50_000)
    engine.cli("tag", "test/unused:1.0", "test/unused:alias")
    engine.import_busybox("test/dangling:1.0", extra=b"d" * 70_000)
    engine.import_busybox("test/dangling:1.0", extra=b"e" * 90_000)  # the first loses its tag


def tags(engine: Engine) -> list[str]:
    out = engine.cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    return sorted(out.split())


@pytest.mark.parametrize("args", ["", "-a", "-a --filter label=nothing"])
def test_image_prune_matches_docker(rig: Rig, args: str) -> None:
    theirs, ours = rig.engine(f"twin-cli{len(args)}"), rig.engine(f"twin-dh{len(args)}")
    try:
        set_up(theirs)
        set_up(ours)
        assert tags(theirs) == tags(ours)
        cli = theirs.cli("image", "prune", "-f", *args.split())
        result = run_handler(parse(f"image prune -f {args}"), ours.client())
        assert isinstance(result, PruneResult)
        assert tags(ours) == tags(theirs)
        cli_lines = [
            line for line in cli.stdout.splitlines() if line.startswith(("untagged:", "deleted:"))
        ]
        assert len(result.deleted) == len(cli_lines)
        reclaimed = re.search(r"Total reclaimed space: (\S+)", cli.stdout)
        assert reclaimed and human_size(result.space_reclaimed, 4) == reclaimed.group(1)
    finally:
        theirs.stop()
        ours.stop()


def test_history_matches_cli(engine: Engine) -> None:
    result = run_handler(parse(f"history {TEST_IMAGE}"), engine.client())
    assert isinstance(result, TableResult)
    cli = engine.cli("history", "--format", "{{.ID}}|{{.Size}}", TEST_IMAGE).stdout.split()
    assert [f"{r[0]}|{r[3]}" for r in result.grid.rows] == cli


def test_tag_then_rm_reports_untagged(engine: Engine) -> None:
    run_handler(parse(f"tag {TEST_IMAGE} test/extra:9"), engine.client())
    result = run_handler(parse("rmi test/extra:9 test/none:0"), engine.client())
    assert isinstance(result, BatchResult)
    assert result.done == ["Untagged: test/extra:9"]
    assert result.errors[0][0] == "test/none:0" and result.failed()
