"""Slack's limits on what one message (or view) may hold, as data, and a checker for them.

Every number is Slack's documented limit unless it says "Dockhand's budget"; each cites the
page it was read from. The renderer (bot/render.py) fits every reply within these; the
checker is what tests (and the renderer's last-resort guard) measure a message with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# --- a message ----------------------------------------------------------------------------
# https://api.slack.com/reference/block-kit/blocks: "You can include up to 50 blocks in each
# message, and 100 blocks in modals or Home tabs."
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# chat.postMessage `text`: Slack truncates a message's text at 40,000 characters
# (https://api.slack.com/changelog/2018-04-truncating-really-long-messages) and its method
# page recommends keeping it under 4,000 (https://api.slack.com/methods/chat.postMessage).
MESSAGE_TEXT = 40_000
MESSAGE_TEXT_ADVISED = 4_000
# Dockhand's budget for the fallback `text` of a message that has blocks: it is only the
# notification and screen-reader line, and it stays below the 4,000 advised above.
FALLBACK_TEXT = 3_000
# Dockhand's budget for all text across one message's blocks. Slack documents no such total,
# yet rejects messages whose blocks hold roughly 13,200 characters or more with
# msg_blocks_too_long (measured in https://github.com/slackapi/bolt-js/issues/2509); the
# budget stays well clear of it.
MESSAGE_BLOCKS_TEXT = 11_000

# --- blocks -------------------------------------------------------------------------------
# https://api.slack.com/reference/block-kit/blocks#section: text max 3000 characters; fields
# max 10 items of 2000 characters each; block_id max 255 characters.
SECTION_TEXT = 3_000
SECTION_FIELDS = 10
SECTION_FIELD_TEXT = 2_000
BLOCK_ID = 255
# https://api.slack.com/reference/block-kit/blocks#context: max 10 elements.
CONTEXT_ELEMENTS = 10
# A text object's own maximum, for context elements too
# (https://api.slack.com/reference/block-kit/composition-objects#text): 3000 characters.
TEXT_OBJECT = 3_000
# https://api.slack.com/reference/block-kit/blocks#actions: max 25 elements.
ACTIONS_ELEMENTS = 25
# https://api.slack.com/reference/block-kit/blocks#header: plain_text, max 150 characters.
HEADER_TEXT = 150

# --- elements -----------------------------------------------------------------------------
# https://api.slack.com/reference/block-kit/block-elements#button: text max 75, action_id max
# 255, value max 2000, url max 3000 characters.
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
ACTION_ID = 255
# https://api.slack.com/reference/block-kit/block-elements#static_select: placeholder max 150
# characters, max 100 options.
SELECT_PLACEHOLDER = 150
SELECT_OPTIONS = 100
# https://api.slack.com/reference/block-kit/composition-objects#option: text max 75, value
# max 150 characters.
OPTION_TEXT = 75
OPTION_VALUE = 150

# --- views --------------------------------------------------------------------------------
# https://api.slack.com/reference/surfaces/views (docs.slack.dev/reference/views/modal-views):
# title, submit and close max 24 characters; private_metadata max 3000; callback_id max 255.
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3_000
CALLBACK_ID = 255


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _walk_texts(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(kind, text) of every text object in the blocks; kind is "mrkdwn" or "plain_text"."""

    def visit(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                yield str(node["type"]), str(node["text"])
                return
            for value in node.values():
                yield from visit(value)
        elif isinstance(node, list):
            for item in node:
                yield from visit(item)

    yield from visit(blocks)


def mrkdwn_texts(text: str, blocks: list[dict[str, Any]]) -> list[str]:
    """Every text Slack parses for mentions and links: the message text and each mrkdwn
    object (plain_text objects are shown as typed)."""
    return [text, *(t for kind, t in _walk_texts(blocks) if kind == "mrkdwn")]


def problems(text: str, blocks: list[dict[str, Any]], *, view: bool = False) -> list[str]:
    """What in this message breaks a limit above; empty when Slack will take it."""
    found: list[str] = []

    def over(what: str, size: int, limit: int) -> None:
        if size > limit:
            found.append(f"{what}: {size} > {limit}")

    over("text", len(text), FALLBACK_TEXT)
    # Slack refuses empty text objects (a text object's text has a minimum length of 1).
    found += [f"empty {kind} text" for kind, t in _walk_texts(blocks) if not t]
    over("blocks", len(blocks), VIEW_BLOCKS if view else MESSAGE_BLOCKS)
    over("text in blocks", sum(len(t) for _, t in _walk_texts(blocks)), MESSAGE_BLOCKS_TEXT)
    for n, block in enumerate(blocks):
        kind = block.get("type")
        where = f"block {n} ({kind})"
        over(f"{where} block_id", len(str(block.get("block_id", ""))), BLOCK_ID)
        if kind == "section":
            over(f"{where} text", len(_text(block.get("text"))), SECTION_TEXT)
            fields = block.get("fields") or []
            over(f"{where} fields", len(fields), SECTION_FIELDS)
            for field in fields:
                over(f"{where} field", len(_text(field)), SECTION_FIELD_TEXT)
        elif kind == "header":
            over(f"{where} text", len(_text(block.get("text"))), HEADER_TEXT)
        elif kind == "context":
            elements = block.get("elements") or []
            over(f"{where} elements", len(elements), CONTEXT_ELEMENTS)
            for element in elements:
                over(f"{where} element text", len(_text(element)), TEXT_OBJECT)
        elif kind == "actions":
            elements = block.get("elements") or []
            over(f"{where} elements", len(elements), ACTIONS_ELEMENTS)
            for element in elements:
                found += _element_problems(where, element)
    return found


def _element_problems(where: str, element: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def over(what: str, size: int, limit: int) -> None:
        if size > limit:
            found.append(f"{where} {element.get('type')} {what}: {size} > {limit}")

    over("action_id", len(str(element.get("action_id", ""))), ACTION_ID)
    if element.get("type") == "button":
        over("text", len(_text(element.get("text"))), BUTTON_TEXT)
        over("value", len(str(element.get("value", ""))), BUTTON_VALUE)
    if element.get("type") == "static_select":
        over("placeholder", len(_text(element.get("placeholder"))), SELECT_PLACEHOLDER)
        options = element.get("options") or []
        over("options", len(options), SELECT_OPTIONS)
        if not options:
            found.append(f"{where} static_select has no options")
        for option in options:
            over("option text", len(_text(option.get("text"))), OPTION_TEXT)
            over("option value", len(str(option.get("value", ""))), OPTION_VALUE)
    return found
