"""Container listing against the rig's engine, with the real docker CLI as the oracle."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.parser import parse
from handlers import run_handler
from handlers.results import ContainerList, FormattedResult
from tests.rig import TEST_IMAGE, Engine, free_port

DURATION = re.compile(
    r"(Less than a second|About a minute|About an hour"
    r"|\d+ (second|minute|hour|day|week|month|year)s?)"
)


def normalize_status(status: str) -> str:
    """Status text without its clock-dependent part (two calls see different seconds)."""
    return DURATION.sub("<t>", status)


def cli_ps(engine: Engine, *args: str) -> list[dict[str, str]]:
    out = engine.cli("ps", *args, "--format", "json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def dockhand_ps(engine: Engine, text: str) -> ContainerList:
    command = parse(text)
    result = run_handler(command, engine.client())
    assert isinstance(result, ContainerList)
    return result


@pytest.fixture
def mixed_containers(clean_engine: Engine) -> Engine:
    """A running, a created, a failed and a cleanly exited container, with labels and ports."""
    cli = clean_engine.cli
    cli(
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "tier=front",
        "-p",
        "8080:80",
        TEST_IMAGE,
        "sleep",
        "300",
    )
    cli("create", "--name", "idle", TEST_IMAGE, "sh", "-c", "echo a long command line here")
    cli("run", "--name", "failed", TEST_IMAGE, "sh", "-c", "exit 3", check=False)
    cli("run", "--name", "done", "-l", "tier=batch", TEST_IMAGE, "true")
    return clean_engine


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("-a",),
        ("-a", "--filter", "status=exited"),
        ("-a", "--filter", "label=tier"),
        ("-a", "-f", "name=web"),
        ("-n", "2"),
        ("-l",),
        ("-a", "--filter", "exited=3"),
    ],
    ids=lambda a: " ".join(a) or "running",
)
def test_ps_matches_the_docker_cli(mixed_containers: Engine, args: tuple[str, ...]) -> None:
    expected = cli_ps(mixed_containers, *args)
    got = dockhand_ps(mixed_containers, " ".join(("ps", *args)))
    assert [c.id[:12] for c in got.containers] == [e["ID"] for e in expected]
    for mine, theirs in zip(got.containers, expected, strict=True):
        assert mine.name == theirs["Names"]
        assert mine.image == theirs["Image"]
        assert mine.state == theirs["State"]
        assert normalize_status(mine.status) == normalize_status(theirs["Status"])
        labels = ",".join(f"{k}={v}" for k, v in sorted(mine.labels.items()))
        assert (
            labels == ",".join(sorted(theirs["Labels"].split(",")))
            if theirs["Labels"]
            else not labels
        )
        created = datetime.fromtimestamp(mine.created).astimezone()
        assert created.strftime("%Y-%m-%d %H:%M:%S") == theirs["CreatedAt"][:19]


def test_ps_table_cells_match_the_cli(mixed_containers: Engine) -> None:
    expected = {e["ID"]: e for e in cli_ps(mixed_containers, "-a")}
    table = dockhand_ps(mixed_containers, "ps -a").table()
    assert table.columns == [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    for row in table.rows:
        theirs = expected[row[0]]
        assert row[2] == theirs["Command"]  # quoting and the 20-column ellipsis
        assert row[6] == theirs["Names"]


@pytest.fixture
def ports_network(clean_engine: Engine) -> Iterator[str]:
    clean_engine.cli("network", "create", "dh-ports")
    yield "dh-ports"
    clean_engine.remove_all_containers()
    clean_engine.cli("network", "rm", "dh-ports")


def test_ps_ports_column_matches_the_cli(clean_engine: Engine, ports_network: str) -> None:
    # Host ports only on 127.0.0.1: nothing is published beyond loopback.
    a, b = free_port(), free_port()
    cases = [
        "--expose 7000-7002 --expose 53/udp --expose 443 --expose 80 --expose 5353/udp",
        f"-p 127.0.0.1:{a}-{a + 2}:{a}-{a + 2}",
        f"-p 127.0.0.1:{b}:80 -p 127.0.0.1:{b + 1}:81/udp --expose 82-83",
    ]
    for case in cases:
        clean_engine.cli(
            "run", "-d", "--network", ports_network, *case.split(), TEST_IMAGE, "sleep", "300"
        )
    expected = {e["ID"]: e["Ports"] for e in cli_ps(clean_engine)}
    rows = dockhand_ps(clean_engine, "ps").table().rows
    assert len(rows) == len(cases)
    for row in rows:
        assert row[5] == expected[row[0]]


@pytest.fixture
def with_mounts(mixed_containers: Engine) -> Iterator[Engine]:
    """Two more containers, with a volume and a bind; one mount each, as the engine lists a
    container's mounts in no fixed order."""
    mixed_containers.cli("volume", "create", "dh-fmt")
    mixed_containers.cli("create", "--name", "mounted", "-v", "dh-fmt:/data", TEST_IMAGE)
    mixed_containers.cli("create", "--name", "bound", "-v", "/tmp:/h", TEST_IMAGE)
    yield mixed_containers
    mixed_containers.remove_all_containers()
    mixed_containers.cli("volume", "rm", "dh-fmt")


PS_TEMPLATES = [
    "{{.Names}} {{.Status}}",
    "{{.ID}}\t{{.Image}}\t{{.Command}}",
    "table {{.ID}}\t{{.Names}}\t{{.Ports}}\t{{.Labels}}",
    "table {{.Names}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}\t{{.State}}",
    "{{.Names}}: {{.Size}} created {{.CreatedAt}}",
    "{{json .Labels}} {{upper .State}}",
    '{{.Label "tier"}}|{{.Names}}',
]


@pytest.mark.parametrize("template", PS_TEMPLATES)
@pytest.mark.parametrize("extra", [(), ("--no-trunc",), ("-q",)])
def test_ps_format_matches_the_cli(
    with_mounts: Engine, template: str, extra: tuple[str, ...]
) -> None:
    args = ("-a", *extra, "--format", template)
    expected = with_mounts.cli("ps", *args).stdout.rstrip("\n")
    result = run_handler(parse(shlex.join(["ps", *args])), with_mounts.client())
    if "-q" in extra:  # -q wins over --format
        assert isinstance(result, ContainerList)
        assert "\n".join(row[0] for row in result.table().rows) == expected
        return
    assert isinstance(result, FormattedResult)
    # Status ("Up 1 second") moves with the clock between the two calls.
    assert normalize_status(result.body()) == normalize_status(expected)


def test_ps_format_json_matches_the_cli(mixed_containers: Engine) -> None:
    expected = mixed_containers.cli("ps", "-a", "--format", "json").stdout.splitlines()
    result = run_handler(parse("ps -a --format json"), mixed_containers.client())
    assert isinstance(result, FormattedResult)
    assert len(result.lines) == len(expected)
    for mine, theirs in zip(result.lines, expected, strict=True):
        # RunningFor and Status move with the clock between the two calls.
        mine_fields, their_fields = json.loads(mine), json.loads(theirs)
        for moving in ("RunningFor", "Status"):
            mine_fields.pop(moving), their_fields.pop(moving)
        assert mine_fields == their_fields


def test_ps_format_table_alone_is_the_usual_table(mixed_containers: Engine) -> None:
    assert isinstance(
        run_handler(parse("ps --format table"), mixed_containers.client()), ContainerList
    )


def test_ps_size_column_matches_the_cli(mixed_containers: Engine) -> None:
    out = mixed_containers.cli("ps", "-a", "-s", "--format", "{{.ID}}|{{.Size}}").stdout
    expected = dict(line.split("|") for line in out.splitlines())
    table = dockhand_ps(mixed_containers, "ps -a -s").table()
    assert table.columns[-1] == "SIZE"
    assert {row[0]: row[-1] for row in table.rows} == expected
    assert "SIZE" not in dockhand_ps(mixed_containers, "ps -a").table().columns


def test_ps_quiet_lists_ids_only(mixed_containers: Engine) -> None:
    expected = mixed_containers.cli("ps", "-aq").stdout.split()
    table = dockhand_ps(mixed_containers, "ps -aq").table()
    assert [row[0] for row in table.rows] == expected


def test_listing_costs_one_request_whatever_the_count(clean_engine: Engine) -> None:
    """Not N+1: the request count for 3 and for 30 containers is the same."""
    client = clean_engine.client()
    counted: list[str] = []

    def count(response, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted.append(response.request.url)

    client.api.hooks["response"].append(count)
    try:
        counts = []
        for total in (3, 30):
            clean_engine.create_containers(
                total - len(client.api.containers(all=True)), prefix=f"n{total}-"
            )
            counted.clear()
            result = dockhand_ps(clean_engine, "ps -a")
            assert len(result.containers) == total
            counts.append(len(counted))
    finally:
        client.api.hooks["response"].remove(count)
    assert counts[0] == counts[1] == 1, counts
