"""Slack text both ways: chat text back to what the user typed (then split into words like a
shell would), and any text that is not Dockhand's own wording escaped before it reaches Slack.

Outbound, Slack parses `&`, `<` and `>` in `text` and in every mrkdwn object (code blocks
included): `<!channel>` notifies a whole channel, `<https://x|label>` is a link that shows
another address. Text from the engine or a container (output, names, labels, errors) must
therefore be escaped (https://api.slack.com/reference/surfaces/formatting#escaping). `Mrkdwn`
marks text that is ready for Slack: Dockhand's own wording (`trusted`) or foreign text after
`safe`. Block builders take `Mrkdwn` only, so mypy finds a value that skipped the step.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Iterable

from handlers.errors import UsageError

# Chat clients "improve" typing: `--` becomes an em or en dash, quotes become smart quotes.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2014": "--",  # em dash
        "\u2013": "--",  # en dash
        "\u2212": "-",  # minus sign
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u00a0": " ",  # no-break space
    }
)
# Slack wraps links and mentions: <http://x|label>, <#C123|general>, <@U123>.
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _unwrap(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("#", "@", "!")):
        return target  # keep the stable id of a channel, user or group
    return label if label is not None else target.removeprefix("mailto:")


def normalize(text: str, *, slack: bool = True) -> str:
    """Undo Slack's escaping (only for text that came through Slack: at a terminal `<` and
    `&` are what was typed, as in `--format '<{{.Names}}>'`) and the chat client's
    typography."""
    if slack:
        text = _SLACK_LINK.sub(_unwrap, text)
        text = html.unescape(text) if "&" in text else text
    return text.translate(_TYPOGRAPHY).strip()


def split_words(text: str, *, slack: bool = True) -> list[str]:
    """shlex-split normalised text; an unbalanced quote is the user's mistake."""
    try:
        return shlex.split(normalize(text, slack=slack))
    except ValueError as exc:
        raise UsageError(f"cannot read the command: {str(exc).lower()}") from None


# --- outbound --------------------------------------------------------------------------------


class Mrkdwn(str):
    """Text ready for Slack's mrkdwn: Dockhand's own wording, or foreign text escaped.

    A plain `str` is foreign until proven otherwise: `safe` escapes it, `trusted` is the only
    way to let `<@U123>` (a mention Dockhand writes itself) through live. Joining or
    formatting gives back a plain `str`, so a composed text must be marked again, on purpose.
    """

    __slots__ = ()


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A user mention as Dockhand writes it, and nothing else that Slack would parse.
_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]{1,30}>")
# Three backticks close a code block early; the rest would then be live mrkdwn.
_FENCE = re.compile(r"`{3,}")
_ZWSP = "\u200b"
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Slack's three control characters as the entities Slack documents."""
    return text.translate(_ESCAPES)


def _unfence(text: str) -> str:
    return _FENCE.sub(lambda m: _ZWSP.join(m.group()), text) if "```" in text else text


def trusted(text: str) -> Mrkdwn:
    """Dockhand's own wording, mentions and formatting live. Never engine or user text."""
    return Mrkdwn(text)


def safe(text: str) -> Mrkdwn:
    """Foreign text escaped; text already marked ready passes as it is. A run of three
    backticks gets zero-width spaces between them: foreign text opens or closes no code
    block, so it cannot turn what follows it into live formatting or swallow our own."""
    return text if isinstance(text, Mrkdwn) else Mrkdwn(_unfence(escape(text)))


def keep_user_mentions(text: str) -> Mrkdwn:
    """Escape everything but well-formed user mentions (`<@U123>`): for wording Dockhand
    composes from Slack's own user ids in places that cannot yet mark it `trusted` (the
    `context` line a pipeline passes). `<!channel>`, links and `<#C1>` are escaped."""
    if isinstance(text, Mrkdwn):
        return text
    parts: list[str] = []
    last = 0
    for match in _USER_MENTION.finditer(text):
        parts += [_unfence(escape(text[last : match.start()])), match.group()]
        last = match.end()
    parts.append(_unfence(escape(text[last:])))
    return Mrkdwn("".join(parts))


def join(separator: str, parts: Iterable[str]) -> Mrkdwn:
    """Parts joined by Dockhand's own separator; each part made safe first."""
    return Mrkdwn(separator.join(safe(part) for part in parts if part))


def clip(text: str, limit: int) -> Mrkdwn:
    """`text` made safe, then cut to `limit` characters with an ellipsis, never inside an
    entity (`&amp;`) or a mention, which a cut would break into visible debris."""
    ready = safe(text)
    if len(ready) <= limit:
        return ready
    cut = ready[: max(limit - 1, 0)]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    lt, gt = cut.rfind("<"), cut.rfind(">")
    if lt > gt:
        cut = cut[:lt]
    return Mrkdwn(cut + ELLIPSIS)


def code_line(text: str, limit: int) -> Mrkdwn:
    """One line for a code block: escaped, cut to `limit`, with no run of three backticks
    (`safe` breaks them up: the block cannot be closed from inside)."""
    return clip(text, limit)


def code_block(lines: Iterable[Mrkdwn]) -> Mrkdwn:
    """Lines (already `code_line`) in a code block. A backtick at either edge would merge
    with the fence, so a zero-width space keeps them apart."""
    body = "\n".join(lines)
    if body.startswith("`"):
        body = _ZWSP + body
    if body.endswith("`"):
        body += _ZWSP
    return Mrkdwn(f"```{body}```")


CODE_FENCES = len("``````") + 2  # what code_block adds at most around its lines
