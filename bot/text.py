"""Chat text back to what the user typed, then split into words like a shell would."""

from __future__ import annotations

import html
import re
import shlex

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


def normalize(text: str) -> str:
    """Undo Slack's escaping and the chat client's typography."""
    text = _SLACK_LINK.sub(_unwrap, text)
    text = html.unescape(text) if "&" in text else text
    return text.translate(_TYPOGRAPHY).strip()


def split_words(text: str) -> list[str]:
    """shlex-split normalised text; an unbalanced quote is the user's mistake."""
    try:
        return shlex.split(normalize(text))
    except ValueError as exc:
        raise UsageError(f"cannot read the command: {str(exc).lower()}") from None
