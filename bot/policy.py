"""Authorization: may this user, in this channel, run this verb, with these flags?
One filter before any handler; every spelling of a command meets the same checks because
they run on the parsed model.

Without a policy file, a fresh `serve` is safe: everyone is viewer, the Slack user IDs in
DOCKHAND_ADMINS are admins. The terminal (`do`, `console`) is admin: whoever runs it already
holds the engine socket, so refusing them protects nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from bot import messages
from bot.guards import Refusal, check_command
from bot.text import trusted
from config.policy import BUILTIN_ROLES, Confirmations, Guards, PolicyDocument

# Re-exported: the value moved down to config so jobs can name an owner without the bot.
from config.policy import Requester as Requester
from handlers.commands import Command
from handlers.errors import NotAllowed


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    roles: tuple[str, ...] = ()
    #: guards waived for an exempt role: said in the reply and audited, never silent
    waived: tuple[str, ...] = field(default=())
    #: how to get access, shown with a denial (the audit keeps only the short rule)
    hint: str = ""


#: Requester sources that are the person at the terminal, not someone in a chat.
TERMINAL_SOURCES = frozenset({"cli", "console"})
#: The rule that denies in a fresh install; the denial then says how to grant more.
OPEN_RULE = "fresh install: everyone is viewer"


class Policy:
    """Roles bound to users, groups and channels, plus `admins` (DOCKHAND_ADMINS) who are
    admin whatever the file says. Without a policy file Slack users are viewers and the
    terminal is admin; the guards and confirmations hold for everyone, with safe defaults."""

    def __init__(self, document: PolicyDocument | None, admins: Iterable[str] = ()) -> None:
        self.document = document
        self.admins = frozenset(admins)
        self.guards = document.guards if document else Guards()
        self.confirm = document.confirm if document else Confirmations()
        self.protected_label = document.protected_label if document else "dockhand.protected"

    @property
    def is_open(self) -> bool:
        """No policy file: the fresh-install defaults decide."""
        return self.document is None

    def roles_of(self, requester: Requester, host: str | None = None) -> tuple[str, ...]:
        """The requester's roles on `host`. A binding limited to hosts (`hosts: [staging*]`)
        counts only on a host it names: without a host, only unlimited bindings count."""
        named_admin = ("admin",) if requester.user in self.admins else ()
        doc = self.document
        if doc is None:
            if named_admin or requester.source in TERMINAL_SOURCES:
                return ("admin",)
            return ("viewer",)
        roles = [
            *named_admin,
            *(
                b.role
                for b in doc.bindings
                if _on_host(b.hosts, host)
                and (
                    requester.user in b.users
                    or requester.channel in b.channels
                    or set(requester.groups) & set(b.groups)
                )
            ),
        ]
        if not roles and doc.default_role:
            roles.append(doc.default_role)
        return tuple(dict.fromkeys(roles))

    def decide(self, verb: str, requester: Requester, host: str | None = None) -> Decision:
        roles = self.roles_of(requester, host)
        if not roles:
            return Decision(False, "no role")
        catalog = self.document.all_roles() if self.document else BUILTIN_ROLES
        for role in roles:
            globs = catalog[role]
            denied = any(fnmatchcase(verb, g[1:]) for g in globs if g.startswith("!"))
            allowed = next(
                (g for g in globs if not g.startswith("!") and fnmatchcase(verb, g)), None
            )
            if allowed and not denied:
                return Decision(True, f"role {role}: {allowed}", roles)
        if self.document is None:
            # In a fresh install the denial must say how to grant access, or the first
            # person to try gives up.
            return Decision(False, OPEN_RULE, roles, hint=messages.open_denial(requester.user))
        return Decision(False, f"roles {', '.join(roles)} do not allow {verb}", roles)

    def is_admin(self, requester: Requester, host: str | None = None) -> bool:
        return "admin" in self.roles_of(requester, host)

    def exempt(self, requester: Requester, host: str | None = None) -> bool:
        return bool(set(self.roles_of(requester, host)) & set(self.guards.exempt_roles))

    def authorize(self, command: Command, requester: Requester) -> tuple[Command, Decision]:
        """The command as it may run (guard defaults applied) and the decision; or NotAllowed."""
        verb = str(getattr(command, "verb", ""))
        decision = self.decide(verb, requester, host=command.host)
        if not decision.allowed:
            # Dockhand's own wording: the requester's mention, a verb from the parser's
            # table, the policy's rule, the how-to. Nothing typed or from the engine.
            denial = f"{requester.mention} may not run `{verb}` here ({decision.rule})"
            raise NotAllowed(
                trusted(f"{denial}\n{decision.hint}" if decision.hint else denial),
                rule=decision.rule,
            )
        try:
            return check_command(command, self.guards), decision
        except Refusal as refusal:
            if not self.exempt(requester, command.host):
                raise
            waived = (f"{refusal.rule} waived for {', '.join(decision.roles)}",)
            return command, Decision(True, decision.rule, decision.roles, waived)


def _on_host(globs: list[str], host: str | None) -> bool:
    if not globs:
        return True
    return host is not None and any(fnmatchcase(host, glob) for glob in globs)
