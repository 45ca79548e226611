"""What every message Dockhand sends Slack must satisfy, for the escaping and limits tests:
slack_sdk's own model validation, Slack's limits (bot/slack_limits.py), and no live markup
(mention, broadcast, link, closed code block) except Dockhand's own user mentions."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block

from bot import slack_limits as limits
from bot.render import Reply

#: the user mentions tests write as Dockhand's own
OWN_MENTIONS = ("<@UOWNER>",)
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def live_markup(text: str, own: tuple[str, ...] = OWN_MENTIONS) -> list[str]:
    """What in one mrkdwn text Slack would parse as markup that Dockhand did not write."""
    rest = text
    for mention in own:
        rest = rest.replace(mention, "")
    found = [m.group() for m in re.finditer(r"<[^>]{0,40}>?|>", rest)]
    found += [f"bare & at {m.start()}" for m in _ENTITY.finditer(rest)]
    # A code block must hold no fence of its own, and foreign text opens none: every run of
    # three backticks is one of Dockhand's code blocks, opened and closed around its lines.
    if text.startswith("```"):
        inner = text[3:-3]
        if not text.endswith("```") or "```" in inner or inner[:1] == "`" or inner[-1:] == "`":
            found.append("a fence inside a code block")
    elif "```" in text:
        found.append("a fence in foreign text")
    return found


def check_message(
    text: str, blocks: list[dict[str, Any]], own: tuple[str, ...] = OWN_MENTIONS
) -> None:
    """Raise AssertionError naming what is wrong with one message; `own` are the user
    mentions Dockhand writes in it."""
    for block in Block.parse_all(blocks):
        assert block is not None
        block.validate_json()  # slack_sdk's models: lengths and counts it knows
    assert limits.problems(text, blocks) == []
    for one in limits.mrkdwn_texts(text, blocks):
        assert live_markup(one, own) == [], (one[:300], live_markup(one, own))


def check_reply(reply: Reply) -> None:
    check_message(reply.chat_text, reply.blocks)
