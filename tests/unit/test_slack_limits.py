"""Any result fits Slack: generated results (names of any length, thousands of rows, huge
outputs, hostile characters) render to messages that slack_sdk's models and Slack's limits
(bot/slack_limits.py) accept, cut with counts and attached whole, never an exception."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import slack_limits as limits
from bot.alerts import alert_reply
from bot.confirm import Pending
from bot.render import Origin, error_reply, preview_reply, reply_for
from handlers.errors import EngineError, NotAllowed, UsageError
from handlers.events import Alert
from handlers.preview import Preview, PreviewItem
from handlers.results import (
    BatchResult,
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    ContainerSummary,
    InspectResult,
    Table,
    TableResult,
    TextResult,
)
from tests.unit.slack_checks import check_reply

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters that matter to Slack or to lengths: its control characters, backticks, wide
# and combining characters, newlines.
ALPHABET = st.sampled_from([*list("ab<>&`*_~|!@#:/. -\n\tZ9"), "é", "🟢", "\u200b", "漢"])
TEXTS = st.text(alphabet=ALPHABET, max_size=400)
NAMES = st.text(alphabet=ALPHABET, min_size=1, max_size=300)


def _containers(name: str, count: int) -> list[ContainerSummary]:
    return [
        ContainerSummary(
            id=f"{n:064x}",
            names=[f"{name}{n}"],
            image=name,
            command=name,
            created=0,
            state="running" if n % 2 else "exited",
            status="Up 1 minute",
        )
        for n in range(count)
    ]


@FAST
@given(
    name=NAMES,
    count=st.integers(0, 3000),
    page=st.integers(-1, 200),
    host=st.sampled_from(["local", "prod", "h" * 140]),
    typed=st.text(max_size=3000),
)
def test_any_container_listing_fits(
    name: str, count: int, page: int, host: str, typed: str
) -> None:
    result = ContainerList(containers=_containers(name, count))
    reply = reply_for(
        result, ephemeral=True, context="local · 0.1 s", origin=Origin(typed, host, page)
    )
    check_reply(reply)
    targets = {c.name for c in result.containers} | {c.id[:12] for c in result.containers}
    for block in reply.blocks:
        for element in block.get("elements", []):
            for option in element.get("options", []):
                # a menu acts on the container by name, or by short ID when the name is long
                target = option["value"].split(" ", 3 if host != "local" else 1)[-1]
                target = target.removeprefix("--tail 100 ")
                assert target in targets, option["value"]


def test_a_300_character_name_keeps_the_menus_working() -> None:
    name = "n" * 300
    result = ContainerList(containers=_containers(name, 3))
    reply = reply_for(result, ephemeral=True, origin=Origin("ps -a", "local"))
    check_reply(reply)
    actions = next(b for b in reply.blocks if b["type"] == "actions")
    selects = [e for e in actions["elements"] if e["type"] == "static_select"]
    assert len(selects) == 3
    assert selects[2]["options"][0]["value"] == f"stop {0:064x}"[:17]  # the short ID
    assert len(selects[2]["options"][0]["text"]["text"]) <= limits.OPTION_TEXT


def test_short_names_are_still_used_in_menus() -> None:
    reply = reply_for(ContainerList(containers=_containers("web", 2)), ephemeral=True)
    actions = next(b for b in reply.blocks if b["type"] == "actions")
    assert actions["elements"][2]["options"][0]["value"] == "stop web0"


@FAST
@given(line=TEXTS, lines=st.integers(0, 5000), name=NAMES)
def test_any_logs_fit_and_long_ones_are_attached(line: str, lines: int, name: str) -> None:
    text = (line + "\n") * lines
    reply = reply_for(ContainerLogsResult(container=name, text=text), ephemeral=True)
    check_reply(reply)
    if len(text) > 20_000:
        assert reply.upload is not None and reply.upload.content == text
    if reply.upload is not None:
        assert all(c.isalnum() or c in "._-" for c in reply.upload.filename)


@FAST
@given(body=TEXTS, repeat=st.integers(0, 3000), title=TEXTS)
def test_any_text_and_inspect_fit(body: str, repeat: int, title: str) -> None:
    check_reply(reply_for(TextResult(title=title * 20, text=body * repeat), ephemeral=False))
    objects = [{"Name": title, "Args": [body] * min(repeat, 200)}]
    check_reply(reply_for(InspectResult(objects=objects), ephemeral=True))


@FAST
@given(cell=TEXTS, rows=st.integers(0, 2000), columns=st.integers(1, 12))
def test_any_table_fits(cell: str, rows: int, columns: int) -> None:
    grid = Table(columns=[f"C{i}" for i in range(columns)], rows=[[cell] * columns] * rows)
    reply = reply_for(TableResult(title=cell, grid=grid), ephemeral=True, origin=Origin("x"))
    check_reply(reply)


@FAST
@given(name=NAMES, count=st.integers(0, 3000))
def test_any_batch_fits(name: str, count: int) -> None:
    result = BatchResult(
        verb="container:rm",
        done=[name] * count,
        errors=[(name, name)] * (count // 2),
        warnings=[name] * 3,
    )
    check_reply(reply_for(result, ephemeral=False))


@FAST
@given(name=NAMES, output=TEXTS, repeat=st.integers(0, 2000), running=st.booleans())
def test_any_run_fits_with_its_buttons(name: str, output: str, repeat: int, running: bool) -> None:
    result = ContainerRun(
        verb="container:run",
        id="c" * 64,
        name=name,
        image=name,
        started=True,
        still_running=running,
        seconds=1.0,
        output=output * repeat,
    )
    reply = reply_for(result, ephemeral=False, origin=Origin("run x", "h" * 140))
    check_reply(reply)
    actions = [b for b in reply.blocks if b["type"] == "actions"]
    assert actions and actions[0]["elements"][0]["action_id"] == "dockhand.run:logs"


@FAST
@given(name=NAMES, count=st.integers(0, 3000), typed=st.text(max_size=4000))
def test_any_preview_fits_and_a_long_one_is_attached(name: str, count: int, typed: str) -> None:
    shown = Preview(
        verb="container:rm",
        items=[
            PreviewItem(kind="container", id=f"{n:064x}", name=name, size=n) for n in range(count)
        ],
    )
    pending = Pending("p", typed, "UOWNER", "C1", "container:rm", False, time.time() + 300)
    reply = preview_reply(shown, pending)
    check_reply(reply)
    buttons = next(b for b in reply.blocks if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["dockhand.confirm", "dockhand.cancel"]
    if reply.upload is not None:
        assert "more in the attached file" in json.dumps(reply.blocks)


def test_a_preview_of_300_containers_fits_one_message() -> None:
    shown = Preview(
        verb="container:prune",
        items=[
            PreviewItem(kind="container", id=f"{n:064x}", name="x" * 40, size=1) for n in range(300)
        ],
    )
    pending = Pending("p", "container prune", "UOWNER", "C1", "x", False, time.time() + 300)
    reply = preview_reply(shown, pending)
    check_reply(reply)
    total = sum(len(t) for t in limits.mrkdwn_texts("", reply.blocks))
    assert total <= limits.MESSAGE_BLOCKS_TEXT
    if reply.upload is not None:
        assert reply.upload.content.count("\n") == 300


@FAST
@given(message=TEXTS, repeat=st.integers(0, 500), usage=TEXTS)
def test_any_error_fits(message: str, repeat: int, usage: str) -> None:
    for exc in (
        UsageError(message * repeat, usage=usage * 10),
        NotAllowed(message * repeat),
        EngineError(message * repeat),
    ):
        check_reply(error_reply(exc))


@FAST
@given(name=NAMES, count=st.integers(1, 2000), host=NAMES)
def test_any_burst_of_alerts_fits(name: str, count: int, host: str) -> None:
    alerts = [
        Alert(container="c", name=name, action="die", time_nano=n, exit_code=1)
        for n in range(count)
    ]
    check_reply(alert_reply(host, alerts))
