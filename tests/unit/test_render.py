import json

import pytest

from bot.render import (
    BLOCK_LIMIT,
    SECTION_LIMIT,
    Origin,
    chat_view,
    error_reply,
    format_table,
)
from handlers.errors import UsageError
from handlers.results import (
    ContainerList,
    ContainerLogsResult,
    ContainerSummary,
    PortMapping,
    Table,
    displayable_ports,
)
from handlers.template import render


def _container(n: int, state: str = "running") -> ContainerSummary:
    return ContainerSummary(
        id=f"{n:064x}",
        names=[f"web-{n}"],
        image="test/busybox:1.0",
        command="sleep 1000",
        created=0,
        state=state,
        status="Up 2 minutes" if state == "running" else "Exited (1) 1 minute ago",
    )


def test_table_is_aligned_with_three_spaces() -> None:
    lines = format_table(Table(columns=["A", "LONGER"], rows=[["xxxx", "y"], ["z", "w"]]))
    assert lines == ["A      LONGER", "xxxx   y", "z      w"]


def test_chat_table_drops_empty_and_wide_columns_and_marks_rows() -> None:
    result = ContainerList(containers=[_container(1), _container(2, "exited")])
    lines = format_table(result.table(), chat=True)
    assert "COMMAND" not in lines[0] and "PORTS" not in lines[0]
    assert lines[1].startswith("🟢") and lines[2].startswith("🔴")


def test_huge_listing_stays_within_slack_limits() -> None:
    result = ContainerList(containers=[_container(n) for n in range(5000)])
    blocks, _, _ = chat_view(result, Origin(), "local")
    assert len(blocks) <= BLOCK_LIMIT
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    assert "rows 1–20 of 5000" in blocks[-1]["elements"][0]["text"]


def test_huge_listing_pages_with_buttons_carrying_the_command() -> None:
    result = ContainerList(containers=[_container(n) for n in range(45)])
    first, _, pages = chat_view(result, Origin(text="ps -a", host="prod"), "ctx")
    assert pages == 3
    actions = next(b for b in first if b["type"] == "actions")
    buttons = {e["action_id"]: e for e in actions["elements"] if e["type"] == "button"}
    assert json.loads(buttons["dockhand.page:next"]["value"]) == {"t": "ps -a", "p": 1}
    assert "dockhand.page:prev" not in buttons
    selects = [e for e in actions["elements"] if e["type"] == "static_select"]
    assert len(selects[0]["options"]) == 20
    assert selects[2]["options"][0]["value"] == "-H prod stop web-0"
    last, _, _ = chat_view(result, Origin(text="ps -a", page=2), "ctx")
    shown = next(b for b in last if b["type"] == "section" and "```" in b["text"]["text"])
    assert "web-44" in shown["text"]["text"] and "web-19" not in shown["text"]["text"]


def test_long_logs_become_an_upload_with_the_last_lines() -> None:
    text = "".join(f"line {n}\n" for n in range(100_000))
    blocks, upload, _ = chat_view(ContainerLogsResult(container="web", text=text), Origin(), "")
    assert upload is not None and upload.content == text and upload.filename == "web-logs.txt"
    shown = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "line 99999" in shown and "line 5 " not in shown
    assert sum(len(b.get("text", {}).get("text", "")) for b in blocks) < 4000


def test_usage_error_reply_is_ephemeral_with_usage() -> None:
    reply = error_reply(
        UsageError("unrecognized arguments: --x", usage="usage: /docker ps", token="--x")
    )
    assert not reply.ok and reply.ephemeral and reply.exit_status == 2
    assert "--x" in reply.text and "usage: /docker ps" in reply.text


def _ports(api: list[tuple[str, int, int, str]]) -> list[PortMapping]:
    return [PortMapping(ip=ip, private_port=c, public_port=h, type=t) for ip, c, h, t in api]


# The Engine's Ports for `-p 18555-18556:18555-18556 -p 18600:80` (published on every
# address, IPv4 and IPv6), and what docker 28's `docker ps` printed for them on the rig.
ALL_ADDRESSES = [
    ("0.0.0.0", 80, 18600, "tcp"),
    ("::", 80, 18600, "tcp"),
    ("0.0.0.0", 18555, 18555, "tcp"),
    ("::", 18555, 18555, "tcp"),
    ("0.0.0.0", 18556, 18556, "tcp"),
    ("::", 18556, 18556, "tcp"),
]


def test_ports_on_every_address_print_as_the_cli_does() -> None:
    assert displayable_ports(_ports(ALL_ADDRESSES)) == (
        "0.0.0.0:18555-18556->18555-18556/tcp, [::]:18555-18556->18555-18556/tcp, "
        "0.0.0.0:18600->80/tcp, [::]:18600->80/tcp"
    )


def test_ports_runs_are_written_when_broken_then_in_order_of_kind() -> None:
    exposed = [PortMapping(private_port=p, type=t) for p, t in [(53, "udp"), (80, "tcp")]]
    exposed += [PortMapping(private_port=p, type=t) for p, t in [(443, "tcp"), (5353, "udp")]]
    assert displayable_ports(exposed) == "80/tcp, 53/udp, 5353/udp, 443/tcp"
    assert displayable_ports([]) == ""


def test_template_keys_are_exact_except_over_typed_structs() -> None:
    # inspect walks raw JSON, as the CLI does: a key in other case is not there, and the
    # CLI fails with `map has no entry for key "id"` (it printed <no value> here before).
    with pytest.raises(UsageError, match='map has no entry for key "id"'):
        render("{{.id}}", {"Id": "abc"})
    # version and info are Go structs in the CLI: .APIVersion is the JSON's ApiVersion.
    assert render("{{.Server.APIVersion}}", {"Server": {"ApiVersion": "1.41"}}, go_names=True) == (
        "1.41"
    )
