"""Every sentence Dockhand says to a person, in one place so wording is reviewed together."""

from __future__ import annotations


def running(text: str) -> str:
    return f":hourglass_flowing_sand: running `/docker {text}`…"


def apology(reference: str) -> str:
    return f"Sorry, something went wrong on our side. Reference `{reference}` is in the bot's log."


def denied(message: str) -> str:
    return f":no_entry: {message}"


def engine_failed(message: str) -> str:
    return f":warning: {message}"


def open_policy_warning() -> str:
    return "no DOCKHAND_POLICY is set: every Slack user may run every command, prune included"


def help_footer() -> str:
    return "Run `/docker help COMMAND` for a command's options."


def login_prompt(server: str) -> str:
    return f":lock: opening a private form for your {server} credentials…"


def uploaded(filename: str) -> str:
    return f":page_facing_up: the full output is in this channel as `{filename}`"


def home_title() -> str:
    return "Dockhand: your Docker hosts"


def confirmation_gone() -> str:
    return "This confirmation has expired or was already used; nothing was done."


def only_requester(user: str) -> str:
    return f"Only <@{user}> can confirm this."


def second_person() -> str:
    return "This needs a second person to approve: someone else with the role must confirm."


def cancelled(who: str) -> str:
    return f"Cancelled by {who}; nothing was done."


def protected(name: str, label: str) -> str:
    return f"{name} is protected (label {label}): only admins may change it"


def confirm_prompt(two_person: bool, user: str) -> str:
    if two_person:
        return f"needs a second approver: anyone but <@{user}> with the role may confirm"
    return f"only <@{user}> can confirm"


def needs_yes() -> str:
    return "not run: this changes things for good; run it again with --yes to confirm"


def interrupted(text: str) -> str:
    return (
        f":warning: `/docker {text}` was interrupted: Dockhand is restarting. "
        "Check the result with a listing, and run it again if needed."
    )


def schedule_lost(schedule_id: str, what: str) -> str:
    return (
        f":warning: schedule {schedule_id} ({what}) was lost: the job store could not load "
        "it, so it will not run. Remove it and schedule it again."
    )
