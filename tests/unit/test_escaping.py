"""Text from the engine or a container never reaches Slack unescaped: every renderer path,
fed hostile strings, leaves no live broadcast, mention, link or closed code block, while
Dockhand's own mentions stay live."""

from __future__ import annotations

import time

import pytest

import handlers.results as results_module
from bot.alerts import alert_reply
from bot.audit import Entry
from bot.confirm import Pending
from bot.render import (
    Origin,
    Reply,
    apology_reply,
    audit_result,
    error_reply,
    preview_reply,
    reply_for,
)
from bot.text import code_block, code_line, escape, keep_user_mentions, safe, trusted
from handlers.errors import EngineError, NoSuchObject, NotAllowed, UsageError
from handlers.events import Alert
from handlers.health import Finding, HealthPass
from handlers.preview import Preview, PreviewItem
from handlers.results import (
    BatchResult,
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    ContainerSummary,
    EngineInfo,
    EngineVersion,
    FormattedResult,
    ImageList,
    ImageSummary,
    InspectResult,
    PortMapping,
    PruneResult,
    PullResult,
    PushResult,
    Result,
    SearchHit,
    SearchResult,
    StatsResult,
    StatsRow,
    Table,
    TableResult,
    TagResult,
    TextResult,
)
from tests.unit.slack_checks import check_message, check_reply, live_markup

HOSTILE_PARTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U1>",
    "<@U0123ABCD>",
    "<@W2|boss>",
    "<#C1>",
    "<!subteam^S1>",
    "<https://evil.example|docs.docker.com>",
    "<mailto:x@evil.example|support>",
    "&lt;!channel&gt;",
    "&amp;",
    "*bold*",
    "```",
    "a```b",
    "`",
    "> quoted",
]
H = " ".join(HOSTILE_PARTS)


def _container(n: int = 1) -> ContainerSummary:
    return ContainerSummary(
        id=f"{n:064x}",
        names=[f"web{H}{n}"],
        image=f"img{H}",
        command=f"sh -c {H}",
        created=0,
        state="running",
        status=f"Up {H}",
        ports=[PortMapping(private_port=80, public_port=8080, ip="0.0.0.0")],
        labels={f"k{H}": f"v{H}"},
        mounts=[H],
        networks=[H],
    )


def every_result() -> list[Result]:
    """One hostile instance of every Result type in handlers/results.py (and health's)."""
    return [
        TextResult(title=H, text=H),
        ContainerList(containers=[_container(n) for n in range(3)]),
        ContainerList(containers=[_container()], quiet=True),
        ImageList(
            images=[ImageSummary(id="sha256:" + "a" * 64, repo_tags=[f"{H}:1"], created=0, size=1)]
        ),
        EngineVersion(host=H, version=H, api_version=H, components={H: H}),
        EngineInfo(
            host=H,
            name=H,
            server_version=H,
            containers=1,
            running=1,
            paused=0,
            stopped=0,
            images=1,
            warnings=[H],
        ),
        FormattedResult(title=H, lines=[H, H]),
        TableResult(title=H, grid=Table(columns=["A", H], rows=[[H, H]], marks=["running"])),
        BatchResult(verb="container:stop", done=[H], errors=[(H, H)], warnings=[H]),
        ContainerRun(verb="container:run", id="f" * 64, name=H, image=H, started=True),
        ContainerRun(
            verb="container:run", id="f" * 64, name=H, image=H, exit_code=1, seconds=1, output=H
        ),
        ContainerRun(verb="container:create", id="f" * 64, name=H, image=H, warnings=[H]),
        ContainerLogsResult(container=H, text=f"{H}\n" * 3),
        InspectResult(objects=[{"Name": H, "Config": {"Env": [f"A={H}"], "Labels": {H: H}}}]),
        InspectResult(objects=[{"Name": H}], formatted=[H]),
        StatsResult(
            rows=[
                StatsRow(
                    id="a" * 64,
                    name=H,
                    cpu_percent=1,
                    memory_usage=1,
                    memory_limit=2,
                    net_rx=1,
                    net_tx=1,
                    block_read=1,
                    block_write=1,
                    pids=1,
                )
            ]
        ),
        PullResult(reference=H, digest=H, status=H),
        PushResult(reference=H, digest=H),
        TagResult(source=H, target=H, image_id=H),
        PruneResult(kind=H, deleted=[H, H], space_reclaimed=1),
        SearchResult(
            term=H, source="Docker Hub", hits=[SearchHit(name=H, description=H, tags=[H])]
        ),
        SearchResult(term=H, source=H, hits=[SearchHit(name=H, tags=[H])]),
        HealthPass(
            host=H,
            checked=1,
            requests=1,
            findings=[Finding(container="c", name=H, kind="exit", exit_code=1)],
        ),
        audit_result([Entry("1", time.time(), H, H, H, H, H, "denied", H, H, 1)]),
    ]


def test_every_result_type_is_fed_hostile_text() -> None:
    covered = {type(r) for r in every_result()}
    defined = {
        cls
        for cls in vars(results_module).values()
        if isinstance(cls, type) and issubclass(cls, Result) and cls is not Result
    }
    assert defined <= covered, defined - covered


@pytest.mark.parametrize("result", every_result(), ids=lambda r: type(r).__name__)
@pytest.mark.parametrize("ephemeral", [True, False])
def test_results_reach_slack_escaped(result: Result, ephemeral: bool) -> None:
    reply = reply_for(
        result,
        ephemeral=ephemeral,
        context="confirmed by <@UOWNER> · local · 0.10 s",
        origin=Origin(text=f"ps {H}", host="prod"),
    )
    check_reply(reply)
    assert "<@UOWNER>" in reply.blocks[-1]["elements"][0]["text"]  # own mention stays live


def test_the_terminal_still_gets_the_text_as_it_is() -> None:
    reply = reply_for(TextResult(title="t", text=H), ephemeral=True)
    assert H in reply.text and H not in reply.chat_text


def test_a_page_of_a_long_hostile_listing_is_escaped_menus_included() -> None:
    result = ContainerList(containers=[_container(n) for n in range(45)])
    for page in range(3):
        reply = reply_for(result, ephemeral=True, origin=Origin(text=f"ps {H}", page=page))
        check_reply(reply)
        assert any(b["type"] == "actions" for b in reply.blocks)


@pytest.mark.parametrize(
    "exc",
    [
        UsageError(H, usage=f"usage: {H}", token=H),
        NotAllowed(H, rule=H),
        EngineError(H),
        NoSuchObject(f"No such container: {H}"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_reach_slack_escaped(exc: UsageError | NotAllowed | EngineError) -> None:
    reply = error_reply(exc)
    check_reply(reply)
    assert H in reply.text  # the terminal's copy is untouched


def test_dockhand_mentions_in_its_own_refusals_stay_live() -> None:
    reply = error_reply(NotAllowed(trusted("Only <@UOWNER> can confirm this."), rule="x"))
    check_reply(reply)
    assert "<@UOWNER>" in reply.chat_text and "<@UOWNER>" in reply.blocks[0]["text"]["text"]


def test_apology_and_plain_notes_are_escaped() -> None:
    check_reply(apology_reply("abc123"))
    note = Reply(ok=False, text=f"`/docker {H}` was interrupted")
    check_message(note.chat_text, note.blocks)


def test_previews_are_escaped_and_the_requester_mention_is_live() -> None:
    shown = Preview(
        verb="container:rm",
        items=[PreviewItem(kind="container", id="a" * 64, name=H, size=1) for _ in range(5)],
    )
    for two_person in (False, True):
        pending = Pending(
            id="p1",
            text=f"rm -f {H}",
            user="UOWNER",
            channel="C1",
            verb="container:rm",
            two_person=two_person,
            expires=time.time() + 300,
        )
        reply = preview_reply(shown, pending)
        check_reply(reply)
        assert "<@UOWNER>" in reply.blocks[-1]["elements"][0]["text"]


@pytest.mark.parametrize("count", [1, 3, 120])
def test_alerts_are_escaped(count: int) -> None:
    alerts = [
        Alert(
            container="c",
            name=H,
            action="die",
            time_nano=n,
            exit_code=1,
        )
        for n in range(count)
    ]
    reply = alert_reply(f"host{H}", alerts)
    check_reply(reply)
    assert ":red_circle:" in reply.blocks[0]["text"]["text"] or count > 1


def test_escape_is_slacks_three_entities() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("&lt;") == "&amp;lt;"  # an entity in the output is shown, not decoded
    assert safe(safe("<")) == "&lt;"  # safe is idempotent on marked text


def test_context_keeps_only_user_mentions() -> None:
    kept = keep_user_mentions("by <@U1ABC> <!channel> <https://x|y> <#C1> <@W2XYZ>")
    assert kept == "by <@U1ABC> &lt;!channel&gt; &lt;https://x|y&gt; &lt;#C1&gt; <@W2XYZ>"


def test_code_blocks_cannot_be_closed_from_inside() -> None:
    block = code_block([code_line("x ``` *live* <!here>", 100), code_line("`", 100)])
    assert block.startswith("```") and block.endswith("```")
    assert "```" not in block[3:-3]
    assert live_markup(block) == []
