"""App Home: an overview of every configured host, built fresh when the tab is opened, for
whoever opened it: each part only if their role may see it (`system:info` the engines,
`schedule:ls` the schedules, `container:ls` the alerts). Engine and container text is
escaped like every other reply."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.policy import Requester
from bot.runtime import Runtime
from bot.text import safe
from handlers.commands import ShowInfo
from handlers.errors import DockhandError
from handlers.results import EngineInfo
from handlers.units import human_size
from jobs.alert_log import RECENT_ALERTS


def home_view(runtime: Runtime, viewer: Requester) -> View:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=messages.home_title()))]
    pipeline = runtime.pipeline

    def may(verb: str) -> bool:
        return pipeline.policy.decide(verb, viewer).allowed

    if not (may("system:info") or may("schedule:ls") or may("container:ls")):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=messages.home_no_role())))
        return View(type="home", blocks=blocks)
    for host in pipeline.engines.names if may("system:info") else []:
        blocks.append(DividerBlock())
        try:
            info = pipeline.execute(ShowInfo(host=host))
        except DockhandError as exc:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"*{safe(host)}* :red_circle: {safe(exc.message)}")
                )
            )
            continue
        assert isinstance(info, EngineInfo)
        blocks.append(
            SectionBlock(
                fields=[
                    MarkdownTextObject(
                        text=f"*{safe(host)}* :large_green_circle:\n"
                        f"Docker {safe(info.server_version)}"
                    ),
                    MarkdownTextObject(
                        text=f"*Containers*\n{info.running} running · "
                        f"{info.paused} paused · {info.stopped} stopped"
                    ),
                    MarkdownTextObject(text=f"*Images*\n{info.images}"),
                    MarkdownTextObject(
                        text=f"*Machine*\n{info.cpus} CPUs · {human_size(info.memory, 3)} memory"
                    ),
                ]
            )
        )
    blocks.append(DividerBlock())
    if may("schedule:ls"):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_schedules(runtime))))
    if may("container:ls"):
        recent = [
            safe(r.decode() if isinstance(r, bytes) else str(r))
            for r in runtime.store.lrange(RECENT_ALERTS, 0, 4)
        ]
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Last alerts*\n" + ("\n".join(recent) if recent else "none")
                )
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="`/docker help` lists the commands · `/docker schedule ls` the schedules"
                )
            ]
        )
    )
    return View(type="home", blocks=blocks)


def _schedules(runtime: Runtime) -> str:
    schedules = runtime.schedules
    if schedules is None:
        return "*Scheduled jobs*\nnone"
    lines = []
    for record in schedules.records()[:10]:
        when = schedules.next_run(record.id)
        shown = when.strftime("%Y-%m-%d %H:%M %Z") if when else "paused"
        lost = " :warning: lost" if record.lost else ""
        lines.append(f"`{safe(record.id)}` {safe(record.describe())} · next {shown}{lost}")
    return "*Scheduled jobs*\n" + ("\n".join(lines) if lines else "none")
