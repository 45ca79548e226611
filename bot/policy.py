"""Authorization: may this user, in this channel, run this verb? One filter before any handler."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from config.policy import PolicyDocument
from handlers.commands import Command
from handlers.errors import NotAllowed


@dataclass(frozen=True)
class Requester:
    """Who asked, and where. `source` is slack, cli, console or job."""

    user: str
    channel: str
    source: str = "slack"
    groups: tuple[str, ...] = ()

    @property
    def mention(self) -> str:
        return f"<@{self.user}>" if self.source == "slack" else self.user


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    roles: tuple[str, ...] = ()


class Policy:
    """Roles bound to users, groups and channels. Without a policy file everyone is admin."""

    def __init__(self, document: PolicyDocument | None) -> None:
        self.document = document

    @property
    def is_open(self) -> bool:
        return self.document is None

    def roles_of(self, requester: Requester) -> tuple[str, ...]:
        doc = self.document
        if doc is None:
            return ("admin",)
        roles = [
            b.role
            for b in doc.bindings
            if requester.user in b.users
            or requester.channel in b.channels
            or set(requester.groups) & set(b.groups)
        ]
        if not roles and doc.default_role:
            roles.append(doc.default_role)
        return tuple(dict.fromkeys(roles))

    def decide(self, verb: str, requester: Requester) -> Decision:
        roles = self.roles_of(requester)
        if not roles:
            return Decision(False, "no role")
        catalog = self.document.all_roles() if self.document else {"admin": ["*"]}
        for role in roles:
            globs = catalog[role]
            denied = any(fnmatchcase(verb, g[1:]) for g in globs if g.startswith("!"))
            allowed = next(
                (g for g in globs if not g.startswith("!") and fnmatchcase(verb, g)), None
            )
            if allowed and not denied:
                return Decision(True, f"role {role}: {allowed}", roles)
        return Decision(False, f"roles {', '.join(roles)} do not allow {verb}", roles)

    def authorize(self, command: Command, requester: Requester) -> Decision:
        verb = str(getattr(command, "verb", ""))
        decision = self.decide(verb, requester)
        if not decision.allowed:
            raise NotAllowed(
                f"{requester.mention} may not run `{verb}` here ({decision.rule})",
                rule=decision.rule,
            )

        return decision
