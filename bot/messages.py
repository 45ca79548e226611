"""Every sentence Dockhand says to a person, in one place so wording is reviewed together."""

from __future__ import annotations


def running(text: str) -> str:
    return f":hourglass_flowing_sand: running `/docker {text}`…"


def apology(reference: str) -> str:
    return f"Sorry, something went wrong on our side. Reference `{reference}` is in the bot's log."


def usage_failed(message: str) -> str:
    return f"{message}"


def denied(message: str) -> str:
    return f":no_entry: {message}"


def engine_failed(message: str) -> str:
    return f":warning: {message}"


def open_policy_warning() -> str:
    return "no DOCKHAND_POLICY is set: every Slack user may run every command, prune included"


def help_footer() -> str:
    return "Run `/docker help COMMAND` for a command's options."


def duplicate_request() -> str:
    return "This request was already received; it is not run twice."


def login_prompt(server: str) -> str:
    return f":lock: opening a private form for your {server} credentials…"


def uploaded(filename: str) -> str:
    return f":page_facing_up: the full output is in this channel as `{filename}`"


def home_title() -> str:
    return "Dockhand: your Docker hosts"
