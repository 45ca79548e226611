"""When a destructive command must wait for a Confirm click, what it shows while it waits,
and who may click. The pending commands themselves are kept in bot/confirm.py's store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot import messages
from bot.confirm import ConfirmStore, Pending
from bot.fleet import names_host
from bot.policy import TERMINAL_SOURCES, Policy, Requester
from bot.recording import Prepared
from bot.text import trusted
from handlers.commands import Command, ContainerAction, Prune, UpdateImage
from handlers.context import Context
from handlers.engines import Engines, translate_engine_errors
from handlers.preview import Preview, preview
from handlers.results import PruneResult
from handlers.service_commands import ScaleServices
from handlers.updates import update_preview

if TYPE_CHECKING:
    from bot.reply import Reply


class Confirmations:
    def __init__(self, store: ConfirmStore, engines: Engines, policy: Policy) -> None:
        self.store = store
        self.engines = engines
        self.policy = policy
        #: the registry logins a preview may use, for its requester (the pipeline's)
        self.context_for: Callable[[Requester], Context] = lambda requester: Context()

    def needed(self, command: Command) -> bool:
        verb = str(getattr(command, "verb", ""))
        rules = self.policy.confirm
        if verb in rules.two_person:
            return True  # a second person, always: neither -f nor a missing listing skips it
        if verb not in rules.verbs:
            return False
        forced = bool(getattr(command, "force", False))
        if verb == "container:rm" and not forced:
            return False  # the engine itself refuses to remove a running container
        return not (forced and verb in rules.force_skips)

    def ask(self, prepared: Prepared) -> Reply | None:
        """The preview and a pending confirmation, or None when there is nothing to confirm
        (a stop of containers none of which runs: the engine answers as usual)."""
        from bot.render import preview_reply

        command = prepared.command
        client = self.engines.client(command.host)
        with translate_engine_errors(
            command.host, self.engines.url(command.host), self.engines.timeout
        ):
            shown: Preview
            if isinstance(command, UpdateImage):  # asks the registry, as its requester
                shown = update_preview(command, client, self.context_for(prepared.requester))
            else:
                shown = preview(command, client)
        # Nothing running to stop, or no service scaled to zero: let it run as usual.
        if not shown.items and isinstance(command, ContainerAction | ScaleServices | UpdateImage):
            return None
        if not shown.items and isinstance(command, Prune):
            # Nothing to remove: said at once, no prompt, and nothing run (what turns up
            # between now and a click was never shown, so it is not removed unasked).
            from bot.render import reply_for

            nothing = PruneResult(kind=command.verb.split(":")[0])
            return reply_for(nothing, ephemeral=True, context=command.host)
        verb = str(getattr(command, "verb", ""))
        text = prepared.text
        slack = prepared.requester.source not in TERMINAL_SOURCES
        hosts = self.engines.names
        if len(hosts) > 1 and command.host in hosts and not names_host(text, slack=slack):
            # The click runs the text again: pinned to the host the preview was computed on,
            # or a channel pointed elsewhere meanwhile (`use prod`) sends it where no one saw.
            text = f"-H {command.host} {text}"
        pending = self.store.create(
            text=text,
            user=prepared.requester.user,
            channel=prepared.requester.channel,
            verb=verb,
            two_person=verb in self.policy.confirm.two_person,
            ttl=self.policy.confirm.expires_seconds,
        )
        return preview_reply(shown, pending)

    def refusal(self, pending: Pending | None, clicker: Requester) -> str | None:
        """Why `clicker` may not confirm `pending`, or None when they may."""
        if pending is None or pending.expires < time.time():
            return messages.confirmation_gone()
        if pending.two_person:
            if clicker.user == pending.user:
                return trusted(messages.second_person())
            if not self.policy.decide(pending.verb, clicker).allowed:
                return trusted(f"{clicker.mention} may not approve `{pending.verb}`")
            return None
        if clicker.user != pending.user:
            return trusted(messages.only_requester(pending.user))
        return None

    def may_cancel(self, pending: Pending, clicker: Requester) -> bool:
        return clicker.user == pending.user or self.policy.is_admin(clicker)
