"""Protected containers: only admins may change them. The policy's label protects when it is
there with any value but `false` (`on`, `yes`, empty: people write all of these); Dockhand's
own bot, Redis and proxy carry the internal label and are protected whatever the policy says."""

from __future__ import annotations

from collections.abc import Mapping

from bot import messages
from bot.safety import INTERNAL_LABEL
from handlers.errors import NotAllowed

#: verbs whose targets the protection rule applies to
PROTECTED_VERBS = frozenset(
    {
        "container:stop",
        "container:rm",
        "container:kill",
        "container:restart",
        "container:pause",
        "container:update",
        "container:rename",
        # A command run inside is more than a change to it: a protected container's secrets
        # and files are for admins, whatever a policy grants exec to.
        "container:exec",
        "container:update-image",
        "network:connect",
        "network:disconnect",
        "service:update",
        "service:scale",
        "service:rollback",
        "service:rm",
    }
)


def guards_targets(verb: str) -> bool:
    return verb in PROTECTED_VERBS


def refuse_protected(targets: Mapping[str, Mapping[str, str]], label: str) -> None:
    """Raise NotAllowed for the first target that carries a protecting label."""
    for name, labels in targets.items():
        if INTERNAL_LABEL in labels:
            raise NotAllowed(
                messages.protected(name, INTERNAL_LABEL), rule=f"protected {INTERNAL_LABEL}"
            )
        if label in labels and str(labels[label]).strip().lower() != "false":
            raise NotAllowed(messages.protected(name, label), rule=f"protected {label}")
