"""What Slack documents about response_url, and the replies Dockhand sends through one.

- A slash command's response_url takes up to 5 posts within 30 minutes of the command
  ("Delayed responses and multiple responses",
  https://api.slack.com/interactivity/slash-commands).
- `replace_original` and `delete_original` act on the message a user interacted with: a
  response_url that came with a click (block_actions) may replace or delete the message that
  holds the button, ephemeral ones included, which chat.update cannot touch
  (https://api.slack.com/messaging/modifying#updating_response_url,
  https://api.slack.com/interactivity/handling#message_responses). Nothing documents them for
  the ephemeral answer to a slash command, and Slack's own threads say they do not act there
  (https://github.com/slackapi/bolt-python/issues/1268,
  https://github.com/slackapi/bolt-js/issues/2287): the reply arrives as a new message and
  the old one stays.

So the acknowledgement of a slash command cannot be taken back. It is a receipt that stays
true after the answer arrives (`messages.received`), never a "running…" that would go stale,
and a reply to a slash command's response_url is a new message, without replace/delete flags
(they would spend nothing but could mislead a reader of the code). A reply to a click's
response_url replaces the message clicked (Previous/Next, Share to channel).
"""

from __future__ import annotations

from typing import Any

#: posts a response_url takes, and for how long (seconds), per Slack's slash command docs
USES = 5
LIFETIME = 30 * 60


class InteractionUrl(str):
    """A response_url that came with a click on a message: it may replace that message."""

    __slots__ = ()


def from_click(url: str) -> str:
    """The response_url of a block_actions payload, marked as able to replace its message."""
    return InteractionUrl(url) if url else ""


def replaces(url: str) -> bool:
    return isinstance(url, InteractionUrl)


def reply_payload(url: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """An ephemeral reply through `url`: replacing the clicked message for a click, a new
    message for a slash command (where Slack documents no replacing)."""
    payload: dict[str, Any] = {"text": text, "blocks": blocks, "response_type": "ephemeral"}
    if replaces(url):
        payload["replace_original"] = True
    return payload
