"""Every sentence Dockhand says to a person, in one place so wording is reviewed together."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.errors import Hint
    from handlers.events import Alert
    from handlers.health import Finding


def received(text: str) -> str:
    """The acknowledgement of a slash command. Slack lets no one take it back (see
    bot/response_urls.py), so it says only what stays true once the answer is there. The
    typed text is escaped: it is the user's, not Dockhand's wording."""
    from bot.text import clip

    shown: str = clip(text, 500)
    # A backtick at its end would run into the closing one and make a fence: kept apart.
    shown += "\u200b" if shown.endswith("`") else ""
    return f"`/docker {shown}`: received, the answer follows below"


def shared_by(user_mention: str) -> str:
    return f"shared by {user_mention}"


def shared_in(channel: str) -> str:
    return f":mega: you shared this in <#{channel}>"


def share_failed(channel: str) -> str:
    return (
        f":warning: this could not be posted in <#{channel}> (is Dockhand invited? "
        "`/invite @dockhand`); it stays here, for you"
    )


def share_expired() -> str:
    return "This result is no longer kept for sharing (an hour at most): run the command again."


def store_down() -> str:
    """A command that needs Redis while it is unreachable (bot/pipeline.py's failure)."""
    return (
        "Dockhand's store (Redis) is unreachable, and this command needs it. Until "
        "it is back, schedules, mutes, registry logins, confirmations and audit queries are "
        "unavailable; Docker commands (`ps`, `logs`, `inspect`, `run`, `start`, `stop`, …) "
        "still work when they name their host with `-H`."
    )


def channel_host_unknown(channel: str) -> str:
    """Redis is down and this process never read the channel's default host: running on any
    other host could stop the wrong container, so the command waits for a `-H`."""
    return (
        "Dockhand's store (Redis) is unreachable, so this channel's default host (`use`) "
        "cannot be read. Name the host: `-H NAME` before the command (`hosts` lists them)."
    )


def apology(reference: str) -> str:
    return f"Sorry, something went wrong on our side. Reference `{reference}` is in the bot's log."


def denied(message: str) -> str:
    return f":no_entry: {message}"


def engine_failed(message: str) -> str:
    return f":warning: {message}"


def help_footer() -> str:
    return (
        "Run `/docker help COMMAND` for a command's options.\n"
        "Reads answer only you; `/docker --share COMMAND` posts the answer in the channel."
    )


def login_prompt(server: str) -> str:
    return f":lock: opening a private form for your {server} credentials…"


def home_title() -> str:
    return "Dockhand: your Docker hosts"


def confirmation_gone() -> str:
    return "This confirmation has expired or was already used; nothing was done."


def mention(user: str) -> str:
    """A Slack user ID as a live mention; anyone else (the terminal's `cli`, `console`) by
    name, so no `<@cli>` is ever printed."""
    return f"<@{user}>" if _SLACK_USER.fullmatch(user) else user


_SLACK_USER = re.compile(r"[UW][A-Z0-9_]{1,30}")


def duration(seconds: float) -> str:
    """A span in the units docker's duration flags take, the two largest parts: `45s`,
    `1m30s`, `2h`, `3d4h` (never a bare count of seconds in the thousands)."""
    left = max(int(seconds), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    kept = parts[:2]
    return "".join(p for p in kept if not p.startswith("0") or len(kept) == 1)


def only_requester(user: str) -> str:
    return f"Only {mention(user)} can confirm this."


def second_person() -> str:
    return "This needs a second person to approve: someone else with the role must confirm."


def cancelled() -> str:
    return "Cancelled; nothing was done."


def protected(name: str, label: str) -> str:
    return f"{name} is protected (label {label}): only admins may change it"


def confirm_prompt(two_person: bool, user: str) -> str:
    if two_person:
        return f"needs a second approver: anyone but {mention(user)} with the role may confirm"
    return f"only {mention(user)} can confirm"


def needs_yes() -> str:
    return "not run: this changes things for good; run it again with --yes to confirm"


def interrupted(text: str) -> str:
    return (
        f":warning: `/docker {text}` was interrupted: Dockhand is restarting. "
        "Check the result with a listing, and run it again if needed."
    )


def schedule_erased(schedule_id: str, what: str, user: str, command: str) -> str:
    """A schedule the store forgot: Redis came back empty (restarted without persistence)."""
    again = f" (`/docker {command}`)" if command else ""
    return (
        f":warning: schedule {schedule_id} ({what}, by <@{user}>) is gone: Dockhand's store "
        f"(Redis) came back empty, so it will not run. Schedule it again{again}, and keep "
        "Redis's append-only file on (README, Operating it) so a restart keeps schedules."
    )


def schedule_lost(schedule_id: str, what: str) -> str:
    return (
        f":warning: schedule {schedule_id} ({what}) was lost: the job store could not load "
        "it, so it will not run. Remove it and schedule it again."
    )


def open_denial(user: str) -> str:
    # Three lines of policy a newcomer can paste; the user's own ID, ready to copy.
    return (
        f"To grant more, set `DOCKHAND_ADMINS={user}` (Slack user IDs, comma-separated) "
        "and restart, or point `DOCKHAND_POLICY` at a policy file such as:\n"
        "```\n"
        "bindings:\n"
        f"  - {{role: admin, users: [{user}]}}\n"
        "  - {role: operator, channels: [C0OPSCHANNEL]}\n"
        "```"
    )


def open_roles_notice(admins: int) -> str:
    if admins:
        return (
            f"no DOCKHAND_POLICY: {admins} user(s) in DOCKHAND_ADMINS are admin, "
            "everyone else may only view (ps, logs, inspect)"
        )
    return (
        "no DOCKHAND_POLICY and no DOCKHAND_ADMINS: every Slack user may only view "
        "(ps, logs, inspect); set DOCKHAND_ADMINS=U012ABCDEF to name admins"
    )


def no_secret_key_warning() -> str:
    return (
        "DOCKHAND_SECRET_KEY is not set: `login` from Slack is refused "
        "(make a key with `dockhand keygen`)"
    )


def login_needs_key() -> str:
    return (
        "`login` is off: this Dockhand has no `DOCKHAND_SECRET_KEY`, so a stored login would "
        "be lost at the next restart. An admin makes a key with `dockhand keygen`, puts it in "
        "`DOCKHAND_SECRET_KEY` (e.g. in `.env`) and restarts the bot."
    )


def command_too_long(length: int, limit: int) -> str:
    return f"the command is {length:,} characters long; the limit is {limit:,}"


def ephemeral_logins() -> str:
    return (
        "no DOCKHAND_SECRET_KEY: registry logins made here last until you leave "
        "(`dockhand keygen` makes a key)"
    )


def home_no_role() -> str:
    return (
        "You have no role that shows Dockhand's hosts here. An admin can grant one: "
        "`DOCKHAND_ADMINS` or a binding in the policy file (see `/docker help`)."
    )


def uploaded_privately(filename: str) -> str:
    return f":page_facing_up: the full output is in your DM with Dockhand as `{filename}`"


def not_delivered(channel: str, error: str) -> str:
    if error in {"not_in_channel", "channel_not_found", "is_archived"}:
        fix = f"invite Dockhand with `/invite @dockhand` in <#{channel}>"
    elif error.startswith("gave_up:"):
        # The outbox's deadline passed (bot/outbox.py): Slack was down or kept refusing.
        last = error.removeprefix("gave_up:")
        fix = f"Slack kept refusing or could not be reached for minutes; last: `{last}`"
    else:
        fix = f"Slack answered `{error or 'nothing'}`"
    return f":warning: this result could not be posted in <#{channel}> ({fix}); here it is."


def alert_line(action: str, name: str, exit_code: int = 0) -> str:
    """An engine event's alert (handlers/events.py's Alert: its kind and facts), in words."""
    return {
        "die": f":red_circle: {name} died (exit code {exit_code})",
        "oom": f":boom: {name} ran out of memory (OOM)",
        "unhealthy": f":large_orange_circle: {name} is unhealthy",
        "restart": f":repeat: {name} restarted",
        "update-paused": f":double_vertical_bar: the update of service {name} is paused",
        "rollback-paused": f":double_vertical_bar: the rollback of service {name} is paused",
        "node-down": f":red_circle: node {name} is down",
        "node-drained": f":construction: node {name} is drained: it runs no tasks",
        "node-paused": f":construction: node {name} is paused: it takes no new tasks",
    }.get(action, f"{name}: {action}")


def finding_line(finding: Finding) -> str:
    """A health pass's finding (handlers/health.py: its kind and facts), in words."""
    name = finding.name
    kind = finding.kind
    if kind == "restart-loop":
        return (
            f":repeat: {name} is in a restart loop: restarting for "
            f"{duration(finding.seconds or 0)}, {finding.restart_count} restarts"
        )
    if kind == "oom":
        return f":boom: {name} was OOMKilled (exit code {finding.exit_code})"
    if kind == "exhausted":
        return (
            f":x: {name} exhausted its on-failure:{finding.retries} "
            f"retries and stayed exited (exit code {finding.exit_code})"
        )
    if kind == "exit":
        return f":red_circle: {name} exited with code {finding.exit_code}"
    if kind == "unhealthy":
        return f":large_orange_circle: {name} is unhealthy"
    if kind == "recovered":
        return f":white_check_mark: {name} is healthy again"
    if kind == "protected":
        return (
            f":shield: {name} is protected (label {finding.label}): "
            "autoheal did not restart it; it needs a person"
        )
    if kind == "escalated":
        return (
            f":rotating_light: autoheal gave up on {name}: {finding.heals} restarts in "
            f"{finding.window} s did not help; it needs a person"
        )
    if kind == "heal-failed":
        did = "did not" if finding.refused else "could not"
        return f":x: autoheal {did} restart {name}: {finding.reason}"
    if kind == "healed":
        return (
            f":adhesive_bandage: restarted {name} "
            f"({finding.heals}/{finding.budget} in {finding.window} s)"
        )
    swarm = _swarm_line(finding)
    if swarm:
        return swarm
    return f"{name}: {kind}"


def _swarm_line(finding: Finding) -> str:
    """Swarm findings (handlers/service_health.py) in words; "" for any other kind."""
    name, kind, why = finding.name, finding.kind, finding.reason or ""
    short = finding.container[:12]
    because = f": {why}" if why else ""
    if kind == "service-degraded":
        return (
            f":large_orange_circle: service {name} runs {finding.running}/{finding.desired} "
            f"tasks (below desired for {duration(finding.seconds or 0)})"
        )
    if kind == "service-recovered":
        return f":white_check_mark: service {name} runs {finding.running}/{finding.desired} again"
    if kind == "task-failing":
        code = f", exit code {finding.exit_code}" if finding.exit_code is not None else ""
        return (
            f":repeat: service {name} keeps failing: {finding.restart_count} failed tasks"
            f"{code}{because}"
        )
    if kind in ("update-paused", "rollback-paused"):
        what = "rollback" if kind == "rollback-paused" else "update"
        return f":double_vertical_bar: the {what} of service {name} is paused{because}"
    if kind == "node-drained":
        return f":construction: node {name} ({short}) is drained: it runs no tasks"
    if kind == "node-paused":
        return f":construction: node {name} ({short}) is paused: it takes no new tasks"
    if kind == "node-down":
        return f":red_circle: node {name} ({short}) is down{because}"
    if kind == "node-ready":
        return f":white_check_mark: node {name} ({short}) is ready and active again"
    return ""


def left_running(name: str, container_id: str, seconds: float) -> str:
    """An attached run Dockhand stopped waiting for because it was shutting down."""
    return (
        f":warning: Dockhand is restarting and stopped waiting after {seconds:g} s: {name} "
        f"is left running, container ID {container_id[:12]}. Follow it with "
        f"`/docker logs --since 1m {name}` (or `docker logs -f {container_id[:12]}` on the host), "
        f"stop it with `/docker stop {name}`"
    )


def follow_logs(summary: str, name: str) -> str:
    """An attached run still going after its wait: where to read the rest."""
    return f"{summary}; follow it with `/docker logs {name}`"


def hint(error: str, what: Hint) -> str:
    """An error's message with what the user can do about it (handlers/errors.py's Hint)."""
    if what.kind == "login":
        return f"{error}: run `/docker login {what.subject}`"
    if what.kind == "login-privately":
        return (
            f"{error}: run `/docker login {what.subject}` alone to "
            "enter them privately, or name them in DOCKHAND_REGISTRY_CREDENTIALS"
        )
    return error


def alert_text(alert: Alert) -> str:
    """An alert in words: an event's, or a death found after a gap (the engine or the
    watcher was down), said as such."""
    if alert.action == "oom":
        line = f":boom: {alert.name} was OOM-killed (exit code {alert.exit_code})"
    elif alert.action == "restarted":
        line = f":red_circle: {alert.name} died (exit code unknown: it runs again)"
    else:
        line = alert_line(alert.action, alert.name, alert.exit_code)
    if alert.gap:
        line += " while Dockhand could not watch the engine"
        if alert.restarted:
            line += "; its restart policy started it again"
    return line


def restart_loop(name: str, deaths: int, exit_code: int, seconds: int, over: str = "") -> str:
    """One message for a crash loop, edited as it goes on; `over`: stopped or recovered."""
    said = f"{deaths} deaths in {duration(seconds)}, last exit code {exit_code}"
    if over == "stopped":
        return f":repeat: {name} was in a restart loop and stopped: {said}"
    if over == "recovered":
        return f":repeat: {name} was in a restart loop: {said}; up again"
    return f":repeat: {name} is in a restart loop: {said}"


def loop_recovered(name: str, deaths: int, up_seconds: int) -> str:
    return (
        f":large_green_circle: {name} recovered: up for {duration(up_seconds)} after "
        f"{deaths} deaths in a restart loop"
    )
