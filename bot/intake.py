"""The first check on command text, before parsing: Slack's own limits, so a front end that
is not Slack (a forged request, `dockhand do`) cannot hand the parser more than Slack would."""

from __future__ import annotations

from bot import messages
from handlers.errors import UsageError

# Slack's documentation gives no figure for the `text` of a slash command (its message limits
# are 4,000 characters recommended, 40,000 truncated); 4,000 is the common reading and far
# above any docker command line typed in a chat box.
MAX_COMMAND_TEXT = 4_000


def check_command_text(text: str) -> None:
    """Raise UsageError, naming the limit, when `text` is longer than a slash command's."""
    if len(text) > MAX_COMMAND_TEXT:
        raise UsageError(messages.command_too_long(len(text), MAX_COMMAND_TEXT))
