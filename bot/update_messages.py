"""What Dockhand says about image updates (handlers/updates.py and handlers/image_update.py
return the facts): the check's summary, an update's outcome, the Update button. Kept beside
bot/messages.py, in the same voice, so this feature's wording is reviewed in one place."""

from __future__ import annotations

import time

from handlers.image_update import ImageUpdate
from handlers.units import human_duration
from handlers.updates import UpdateCheck, UpdatePreview, short_digest


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check_summary(check: UpdateCheck) -> str:
    checked = len(check.images)
    stale = len(check.stale)
    problems = len(check.problems)
    if not checked:
        return f"no containers to check on {check.host}"
    if stale:
        said = (
            f":arrow_up: {_plural(stale, 'container')} of {checked} on {check.host} "
            f"{'has' if stale == 1 else 'have'} a newer image in {'its' if stale == 1 else 'their'}"
            " registry"
        )
    else:
        said = (
            f":white_check_mark: {_plural(checked, 'container')} on {check.host}: "
            "none has a newer image in its registry"
        )
    if problems:
        said += f"; {_plural(problems, 'image')} could not be checked"
    return said


def update_summary(update: ImageUpdate) -> str:
    name, image = update.container, update.image
    if update.outcome == "current":
        return f"{name}: {image} is up to date; nothing to update"
    new = short_digest(update.new_digest)
    if update.outcome == "updated":
        if update.health == "created":
            return f":arrow_up: recreated {name} on {image} ({new}); it stays stopped, as it was"
        proof = (
            f"healthy after {update.waited:g} s"
            if update.health == "healthy"
            else f"running for {update.waited:g} s (no healthcheck)"
        )
        gone = (
            f"the old one is kept stopped as {update.old_kept} (the engine would not remove it)"
            if update.old_kept
            else "old one removed"
        )
        return f":white_check_mark: updated {name} to {image} ({new}): {proof}; {gone}"
    why = {
        "unhealthy": "was unhealthy",
        "exited": "exited"
        + (f" with code {update.exit_code}" if update.exit_code is not None else ""),
        "restarting": "kept restarting",
        "not-started": "would not start",
        "interrupted": "was still proving itself when Dockhand shut down",
        "timeout": f"was not healthy within {update.waited:g} s",
    }.get(update.health, update.health)
    old = (
        "the old container is running again"
        if update.restored
        else ":warning: the old container could NOT be started again"
    )
    kept = f"; the new one is kept stopped as {update.failed_name}" if update.failed_name else ""
    return (
        f":rotating_light: update of {name} to {image} ({new}) rolled back: "
        f"the new container {why}; {old}{kept}"
    )


def update_button(name: str) -> str:
    return f"Update {name}"


def preview_words(shown: UpdatePreview) -> tuple[str, list[str]]:
    """An update-image preview: (its summary, its lines)."""
    if not shown.items:
        return f"{shown.container}: {shown.image} is up to date, nothing to update", []
    lines = [f"digest  {short_digest(shown.current) or '(none)'} -> {short_digest(shown.latest)}"]
    if shown.created is not None:
        lines.append(f"new image created {human_duration(time.time() - shown.created)} ago")
    lines += [f"{c.field}: {c.old!r} -> {c.new!r}" for c in shown.changes]
    if not shown.config_known:
        lines.append("the new image's defaults could not be read before the pull")
    return f"would recreate {shown.container} on the image {shown.image} serves now", lines
