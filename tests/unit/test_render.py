from bot.render import BLOCK_LIMIT, SECTION_LIMIT, blocks_for, error_reply, format_table
from handlers.errors import UsageError
from handlers.results import ContainerList, ContainerSummary, Table


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
    blocks = blocks_for(result, "local")
    assert len(blocks) <= BLOCK_LIMIT
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    assert "showing" in blocks[-1]["elements"][0]["text"]


def test_usage_error_reply_is_ephemeral_with_usage() -> None:
    reply = error_reply(
        UsageError("unrecognized arguments: --x", usage="usage: /docker ps", token="--x")
    )
    assert not reply.ok and reply.ephemeral and reply.exit_status == 2
    assert "--x" in reply.text and "usage: /docker ps" in reply.text
