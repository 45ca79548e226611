"""network, volume and system verbs against the rig's engine, the CLI as the oracle."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from bot.parser import parse
from handlers import run_handler
from handlers.engines import translate_engine_errors
from handlers.results import BatchResult, FormattedResult, PruneResult, Result, TableResult
from tests.rig import TEST_IMAGE, Engine
from tests.test_containers import DURATION


def do(engine: Engine, text: str) -> Result:
    with translate_engine_errors("local", engine.url, 60):
        return run_handler(parse(text), engine.client())


def test_network_lifecycle(clean_engine: Engine) -> None:
    created = do(
        clean_engine,
        "network create --subnet 10.77.0.0/24 --gateway 10.77.0.1 "
        "--internal --label team=ops dh-net",
    )
    assert isinstance(created, BatchResult) and created.done[0].startswith("dh-net (")
    inspected = json.loads(clean_engine.cli("network", "inspect", "dh-net").stdout)[0]
    assert inspected["Internal"] is True and inspected["Labels"] == {"team": "ops"}
    assert inspected["IPAM"]["Config"][0] == {"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}
    listed = do(clean_engine, "network ls --filter name=dh-net")
    assert isinstance(listed, TableResult)
    cli = clean_engine.cli(
        "network",
        "ls",
        "--filter",
        "name=dh-net",
        "--format",
        "{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}",
    ).stdout.split("\n")[0]
    assert " ".join(listed.grid.rows[0]) == cli
    clean_engine.cli("create", "--name", "joiner", "--network", "none", TEST_IMAGE)
    clean_engine.cli("network", "disconnect", "none", "joiner")
    do(clean_engine, "network connect --alias db dh-net joiner")
    nets = clean_engine.client().api.inspect_container("joiner")["NetworkSettings"]["Networks"]
    assert "db" in nets["dh-net"]["Aliases"]
    do(clean_engine, "network disconnect dh-net joiner")
    removed = do(clean_engine, "network rm dh-net dh-ghost")
    assert isinstance(removed, BatchResult)
    assert removed.done == ["dh-net"] and removed.errors[0][0] == "dh-ghost"


def test_volume_lifecycle_and_prune(clean_engine: Engine) -> None:
    do(clean_engine, "volume create --label keep=no dh-vol")
    listed = do(clean_engine, "volume ls -q")
    assert isinstance(listed, TableResult) and ["dh-vol"] in listed.grid.rows
    inspected = do(clean_engine, "volume inspect -f '{{.Labels}}' dh-vol")
    assert (
        inspected.body()
        == clean_engine.cli("volume", "inspect", "-f", "{{.Labels}}", "dh-vol").stdout.strip()
    )
    pruned = do(clean_engine, "volume prune -f -a")
    assert isinstance(pruned, PruneResult) and "volume dh-vol" in pruned.deleted
    assert clean_engine.cli("volume", "ls", "-q").stdout.strip() == ""


def test_system_df_matches_cli(clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "dfuser", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("create", "--name", "dfidle", TEST_IMAGE)
    result = do(clean_engine, "system df")
    assert isinstance(result, TableResult)
    cli = clean_engine.cli(
        "system",
        "df",
        "--format",
        "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
    ).stdout
    expected = [line.split("|") for line in cli.strip().splitlines()]
    assert result.grid.rows == expected


DF_TEMPLATES = ["json", "table {{.Type}}\t{{.Size}}", "{{.Type}} {{.Active}}"]


@pytest.mark.parametrize("template", DF_TEMPLATES)
def test_system_df_format_matches_cli(clean_engine: Engine, template: str) -> None:
    clean_engine.cli("create", "--name", "dfidle", TEST_IMAGE)
    result = do(clean_engine, shlex.join(["system", "df", "--format", template]))
    assert isinstance(result, FormattedResult)
    expected = clean_engine.cli("system", "df", "--format", template).stdout.rstrip("\n")
    assert result.body() == expected


def test_system_prune_removes_stopped_containers_and_unused_networks(clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "stale", TEST_IMAGE)
    clean_engine.cli("run", "-d", "--name", "alive", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("network", "create", "dh-stale-net")
    result = do(clean_engine, "system prune -f")
    assert isinstance(result, PruneResult)
    assert "network dh-stale-net" in result.deleted
    assert any(d.startswith("container ") for d in result.deleted)
    assert clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["alive"]
    assert clean_engine.cli("images", "-q", TEST_IMAGE).stdout.strip()  # in use: kept


def test_system_df_verbose_matches_cli(clean_engine: Engine) -> None:
    clean_engine.cli("volume", "create", "dh-dfv")
    try:
        clean_engine.cli("create", "--name", "dfv", "-v", "dh-dfv:/d", TEST_IMAGE)
        clean_engine.cli("run", "-d", "--name", "dfw", TEST_IMAGE, "sh", "-c", "echo >/f; sleep 99")
        result = do(clean_engine, "system df -v")
        assert isinstance(result, FormattedResult)
        expected = clean_engine.cli("system", "df", "-v").stdout
        assert _steady(result.body()) == _steady(expected)
    finally:
        clean_engine.remove_all_containers()
        clean_engine.cli("volume", "rm", "dh-dfv")


def _steady(text: str) -> list[list[str]]:
    """Words of each line, with clock-dependent times as one word (the two calls are made
    seconds apart, and column widths follow the longest cell)."""
    return [DURATION.sub("<t>", line).split() for line in text.strip().splitlines()]


@pytest.mark.parametrize(
    ("verb", "args"),
    [
        ("network", ()),
        ("network", ("-q",)),
        ("network", ("--no-trunc", "--format", "{{.ID}} {{.Name}} {{.Internal}} {{.IPv6}}")),
        ("network", ("--format", "table {{.Name}}\t{{.CreatedAt}}\t{{.Labels}}")),
        ("network", ("--format", "json")),
        ("network", ("--format", '{{.Name}}:{{.Label "team"}}')),
        ("volume", ()),
        ("volume", ("-q",)),
        ("volume", ("--format", "table {{.Name}}\t{{.Mountpoint}}\t{{.Links}}\t{{.Size}}")),
        ("volume", ("--format", "json")),
        ("volume", ("--format", "{{.Name}} {{.Labels}} {{.Scope}}")),
    ],
)
def test_network_and_volume_ls_match_the_cli(
    clean_engine: Engine, verb: str, args: tuple[str, ...]
) -> None:
    # One label each: the CLI writes a Go map's labels in no fixed order.
    clean_engine.cli("network", "create", "--internal", "--label", "team=ops", "dh-lsnet")
    clean_engine.cli("volume", "create", "--label", "team=ops", "dh-lsvol")
    try:
        result = do(clean_engine, shlex.join([verb, "ls", *args]))
        expected = clean_engine.cli(verb, "ls", *args).stdout.rstrip("\n")
        if isinstance(result, FormattedResult):
            assert result.body() == expected
        else:
            assert isinstance(result, TableResult)
            lines = [re.split(r"\s{2,}", line.strip()) for line in expected.splitlines()]
            if "-q" not in args:  # the CLI heads a table, not a bare list
                assert result.grid.columns == lines.pop(0)
            assert result.grid.rows == lines
    finally:
        clean_engine.cli("network", "rm", "dh-lsnet")
        clean_engine.cli("volume", "rm", "dh-lsvol")
