"""Protected containers: only admins may change them. The policy's label protects when it is
there with any value but `false` (`on`, `yes`, empty: people write all of these); Dockhand's
own bot, Redis and proxy carry the internal label and are protected whatever the policy says."""

from __future__ import annotations

from collections.abc import Mapping

from bot import messages
from bot.safety import INTERNAL_LABEL
from handlers.errors import NotAllowed
from handlers.verbs import protected_verbs, protects_target

#: verbs whose targets the protection rule applies to: those whose command model says it
#: protects its target (its `protects_target`, handlers/commands.py)
PROTECTED_VERBS = protected_verbs()


def guards_targets(verb: str) -> bool:
    return protects_target(verb)


def refuse_protected(targets: Mapping[str, Mapping[str, str]], label: str) -> None:
    """Raise NotAllowed for the first target that carries a protecting label."""
    for name, labels in targets.items():
        if INTERNAL_LABEL in labels:
            raise NotAllowed(
                messages.protected(name, INTERNAL_LABEL), rule=f"protected {INTERNAL_LABEL}"
            )
        if label in labels and str(labels[label]).strip().lower() != "false":
            raise NotAllowed(messages.protected(name, label), rule=f"protected {label}")
