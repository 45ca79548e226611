"""parse -> authorize -> (confirm) -> handler -> render: the one path every front end takes.
Its steps live beside it: confirmations (bot/confirmation.py), the protection rule
(bot/protection.py, with the engine lookup in handlers/targets.py), the safety check
(bot/safety.py), the record of each attempt (bot/recording.py) and the verbs Dockhand answers
itself (bot/own_verbs.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import redis

from bot import fleet, messages
from bot.audit import Audit
from bot.confirm import ConfirmStore
from bot.confirmation import Confirmations
from bot.credentials import Credentials, registry_lookup
from bot.guards import spare_protected
from bot.intake import check_command_text
from bot.known_hosts import check_known_hosts
from bot.logs import REQUEST_ID, new_request_id
from bot.metrics import Metrics
from bot.own_verbs import OwnState, own_verb
from bot.parser import parse
from bot.policy import TERMINAL_SOURCES, Policy, Requester
from bot.protection import guards_targets, refuse_protected
from bot.recording import Prepared, Recorder
from bot.references import EngineReferences
from bot.safety import Check, Refusal, admit_request
from bot.text import trusted
from handlers import run_handler
from handlers.commands import Command, Help, Logout, Prune
from handlers.context import Admit, Context, RegistryAuth
from handlers.engines import Engines, translate_engine_errors
from handlers.errors import DockhandError, NotAllowed, UsageError
from handlers.progress import Progress
from handlers.registry import DOCKER_HUB
from handlers.results import Result, TextResult
from handlers.targets import target_labels

# The Block Kit renderer (bot/render.py) is imported where a reply is made, not here: the
# terminal and the jobs load the pipeline without Slack's SDK.
if TYPE_CHECKING:
    from bot.reply import Origin, Reply
    from jobs.schedules import Schedules

__all__ = ["Pipeline", "Prepared"]

log = logging.getLogger("dockhand.pipeline")


class Pipeline:
    def __init__(
        self,
        engines: Engines,
        policy: Policy,
        credentials: Credentials | None = None,
        run_wait: float = 30.0,
        audit: Audit | None = None,
        confirmations: ConfirmStore | None = None,
        metrics: Metrics | None = None,
        *,
        store: redis.Redis | None = None,
        schedules: Schedules | None = None,
        channel_zones: Mapping[str, str] | None = None,
        host_credentials: bool = True,
    ) -> None:
        self.engines = engines
        self.credentials = credentials
        self.run_wait = run_wait
        self.recorder = Recorder(audit, metrics)
        self.confirmation = (
            Confirmations(confirmations, engines, policy) if confirmations is not None else None
        )
        if self.confirmation is not None:
            self.confirmation.context_for = self.registry_context
        self._policy = policy
        #: the scheduler's client side, and the shared store (schedules, mutes)
        self.schedules = schedules
        self.store = store
        self.channel_zones: dict[str, str] = dict(channel_zones or {})
        #: may registry calls fall back to the local user's docker config (not for `serve`)
        self.host_credentials = host_credentials
        #: a shutdown's grace is over: attached runs stop waiting (set by the runtime)
        self.detach: Callable[[], bool] = lambda: False

    # The policy may be replaced while running (a reload; tests do it): the confirmation
    # rules must judge with the same one.
    @property
    def policy(self) -> Policy:
        return self._policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._policy = policy
        if self.confirmation is not None:
            self.confirmation.policy = policy

    @property
    def audit(self) -> Audit | None:
        return self.recorder.audit

    @property
    def metrics(self) -> Metrics | None:
        return self.recorder.metrics

    @metrics.setter
    def metrics(self, metrics: Metrics | None) -> None:
        self.recorder.metrics = metrics

    @property
    def confirmations(self) -> ConfirmStore | None:
        return self.confirmation.store if self.confirmation is not None else None

    # --- the steps ---------------------------------------------------------------------

    def prepare(self, text: str, requester: Requester) -> Prepared:
        """Parse and authorize. Fast and engine-free, so it can run inside Slack's ack."""
        check_command_text(text)
        try:
            slack = requester.source not in TERMINAL_SOURCES
            command = parse(text, slack=slack)
            command = fleet.on_channel_host(command, text, requester, self.store, slack=slack)
            command, decision = fleet.authorize(self.policy, self.engines, command, requester)
            named = fleet.names_host(text, slack=slack)
            check_known_hosts(command, self.engines, named=named)
            if isinstance(command, Prune) and not self.policy.is_admin(requester, command.host):
                command = spare_protected(command, self.policy.protected_label)
        except NotAllowed as exc:
            self.recorder.record(requester, text, "", "denied", exc.rule, "refused")
            raise
        except UsageError as exc:
            self.recorder.record(requester, text, "", "invalid", "usage", exc.message[:200])
            raise
        return Prepared(command, text, requester, decision)

    def registry_context(self, requester: Requester | None) -> Context:
        """What a preview that asks registries gets (update-image's): the requester's own
        logins, for the registries the policy allows, and nothing that creates."""
        owner = requester.user if requester is not None else ""
        return Context(
            credentials=registry_lookup(self.credentials, owner, self.policy.guards),
            host_credentials=self.host_credentials,
        )

    def execute(
        self,
        command: Command,
        progress: Progress | None = None,
        login: RegistryAuth | None = None,
        requester: Requester | None = None,
        waived: list[str] | None = None,
    ) -> Result:
        """Run a command's handler against its host. `login` is a password just entered;
        safety refusals waived for an exempt role are appended to `waived`."""
        many = fleet.execute(
            command,
            requester,
            self.policy,
            self.engines,
            self.store,
            lambda one: self.execute(one, progress, login, requester, waived),
        )
        if many is not None:  # `hosts`, `use`, or a read over several hosts
            return many
        answer = own_verb(command)
        if answer is not None:
            state = OwnState(
                self.policy,
                lambda: self.engines.names,
                self.audit,
                self.store,
                self.schedules,
                self.channel_zones,
            )
            return answer(command, state, requester)
        # Only the requester's own logins, and only for registries the policy allows.
        owner = requester.user if requester is not None else ""
        lookup = registry_lookup(self.credentials, owner, self.policy.guards, login)
        context = Context(
            progress=progress,
            credentials=lookup,
            attach_timeout=self.run_wait,
            host_credentials=self.host_credentials,
            admit=self.admission(command.host, requester, waived),
            detach=self.detach,
        )
        url = self.engines.url(command.host)
        client = self.engines.client(command.host)
        with translate_engine_errors(
            command.host,
            url,
            self.engines.timeout,
            changing=command.changes_state,
            verb=str(getattr(command, "verb", "")),
        ):
            if requester is not None:
                self._check_targets(command, client, requester)
            result = run_handler(command, client, context)
        if self.credentials is not None and owner:
            if login is not None:
                self.credentials.put(login, owner)  # kept only once the registry accepted them
            if isinstance(command, Logout):
                self.credentials.delete(command.server or DOCKER_HUB, owner)
        return result

    def finish(
        self,
        prepared: Prepared,
        progress: Progress | None = None,
        login: RegistryAuth | None = None,
        origin: Origin | None = None,
        by: str = "",
        confirmed: bool = False,
    ) -> Reply:
        """Run a prepared command and render its reply; never raises. A destructive command
        that is not yet confirmed gets its preview and a pending confirmation instead."""
        from bot.redaction import redact_result
        from bot.render import reply_for

        started = time.monotonic()
        command = prepared.command
        waived = list(prepared.decision.waived)
        try:
            gate = None if confirmed else self.confirmation
            if gate is not None and gate.needed(command):
                pending_reply = gate.ask(prepared)
                if pending_reply is not None:
                    # A prune with nothing to remove is answered at once, not held.
                    outcome = "awaiting confirmation" if pending_reply.pending else "ok"
                    self.recorder.record_prepared(prepared, outcome, started)
                    return pending_reply
            result = self.execute(command, progress, login, prepared.requester, waived)
            # What this requester may see: Env values of inspect only for admins.
            admin = self.policy.is_admin(prepared.requester, command.host)
            result = redact_result(result, command, admin=admin)
        except Exception as exc:
            reply = self.failure(exc, prepared.text)
            self.recorder.record_prepared(
                prepared,
                f"failed: {reply.text[:200]}",
                started,
                decision="denied" if isinstance(exc, NotAllowed) else "allowed",
                rule=getattr(exc, "rule", "") or prepared.decision.rule,
            )
            return reply
        elapsed = time.monotonic() - started
        context = "" if isinstance(command, Help) else f"{command.host} · {elapsed:.2f} s"
        if by and context:
            context = f"{by} · {context}"
        if waived:
            context = f"{context} · :warning: {'; '.join(dict.fromkeys(waived))}".strip(" ·")
        reply = reply_for(
            result, ephemeral=not command.changes_state, context=context, origin=origin
        )
        self.recorder.record_prepared(prepared, "ok" if reply.ok else "failed", started)
        return reply

    def run(self, text: str, requester: Requester, *, confirmed: bool = False) -> Reply:
        try:
            prepared = self.prepare(text, requester)
        except Exception as exc:
            return self.failure(exc, text)
        return self.finish(prepared, confirmed=confirmed)

    def failure(self, exc: BaseException, text: str) -> Reply:
        from bot.redaction import redact_text, scrub
        from bot.render import apology_reply, error_reply

        # The log gets the text by its structure, and the error without the values found
        # in it (a usage error may quote what was typed).
        redacted = redact_text(text)
        if isinstance(exc, DockhandError):
            log.debug("command failed: %r: %s", redacted.text, scrub(exc.message, redacted.secrets))
            return error_reply(exc)
        if isinstance(exc, redis.RedisError):
            # Not a bug of ours: say what is down, what waits for it and what still works.
            log.warning("store unavailable for %r: %s", redacted.text, exc)
            return error_reply(DockhandError(messages.store_down()))
        reference = REQUEST_ID.get()
        if reference == "-":
            reference = new_request_id()
        log.error("unexpected error ref=%s for %r", reference, redacted.text, exc_info=exc)
        return apology_reply(reference)

    def admission(self, host: str, requester: Requester | None, waived: list[str] | None) -> Admit:
        """The safety check (bot/safety.py) the handlers call on each engine request, with
        references resolved on `host`. Nothing is waved through: a refusal raises, unless
        the requester's role is exempt, and then it is kept in `waived` to be said."""
        url = self.engines.url(host)
        # The engine's own socket, wherever DOCKER_HOST puts it, is as off-limits as the
        # well-known paths.
        sockets = (url.removeprefix("unix://"),) if url.startswith("unix://") else ()
        check = Check(self.policy.guards, EngineReferences(self.engines.client(host).api), sockets)
        exempt = requester is not None and self.policy.exempt(requester, host)

        def admit(kind: str, body: Mapping[str, Any], target: str) -> None:
            try:
                admit_request(check, kind, body, target)
            except Refusal as refusal:
                if not exempt or requester is None:
                    raise
                roles = ", ".join(self.policy.roles_of(requester))
                log.warning("waived for %s (%s): %s", requester.user, roles, refusal.message)
                if waived is not None:
                    waived.append(f"{refusal.rule} waived for {roles}")

        return admit

    # --- confirmations -------------------------------------------------------------------

    def ask(self, prepared: Prepared) -> Reply | None:
        """The preview-and-confirm reply a destructive command needs first, or None."""
        started = time.monotonic()
        if self.confirmation is None:
            return None
        try:
            if not self.confirmation.needed(prepared.command):
                return None
            reply = self.confirmation.ask(prepared)
        except Exception as exc:
            return self.failure(exc, prepared.text)
        if reply is not None:
            outcome = "awaiting confirmation" if reply.pending else "ok"
            self.recorder.record_prepared(prepared, outcome, started)
        return reply

    def confirm_refusal(self, pending_id: str, clicker: Requester) -> str | None:
        assert self.confirmation is not None
        return self.confirmation.refusal(self.confirmation.store.peek(pending_id), clicker)

    def confirm(
        self,
        pending_id: str,
        clicker: Requester,
        *,
        progress: Progress | None = None,
        by: str = "",
        groups_of: Callable[[str], tuple[str, ...]] | None = None,
    ) -> tuple[Reply, Prepared | None]:
        """A Confirm click. Only the requester, or under the two-person rule someone else
        allowed the verb, may confirm; once, and before it expires. The requester is judged
        again as they are now, user groups included (`groups_of`, from the front end)."""
        from bot.render import error_reply

        assert self.confirmation is not None
        store = self.confirmation.store
        pending = store.peek(pending_id)
        refusal = self.confirmation.refusal(pending, clicker)
        if refusal is not None:
            self.recorder.record(
                clicker,
                pending.text if pending else f"confirm {pending_id}",
                "",
                "denied",
                "confirmation",
                refusal,
            )
            return error_reply(NotAllowed(refusal, rule="confirmation")), None
        taken = store.take(pending_id)
        if taken is None:
            return error_reply(NotAllowed(messages.confirmation_gone(), rule="confirmation")), None
        groups = groups_of(taken.user) if groups_of is not None else ()
        owner = Requester(taken.user, taken.channel, clicker.source, groups=groups)
        try:
            prepared = self.prepare(taken.text, owner)  # policy may have changed since
        except Exception as exc:
            return self.failure(exc, taken.text), None
        approved = by or f"confirmed by {clicker.mention}"
        return self.finish(prepared, progress=progress, by=approved, confirmed=True), prepared

    def cancel(self, pending_id: str, clicker: Requester) -> Reply:
        from bot.render import error_reply, reply_for

        assert self.confirmation is not None
        pending = self.confirmation.store.peek(pending_id)
        if pending is None:
            return error_reply(NotAllowed(messages.confirmation_gone(), rule="confirmation"))
        if not self.confirmation.may_cancel(pending, clicker):
            return error_reply(
                NotAllowed(trusted(messages.only_requester(pending.user)), rule="confirmation")
            )
        self.confirmation.store.take(pending_id)
        self.recorder.record(clicker, pending.text, "", "cancelled", "confirmation", "cancelled")
        return reply_for(
            TextResult(title=messages.cancelled(), text=""),
            ephemeral=False,
            context=f"cancelled by {clicker.mention}",  # a plain context keeps the mention live
        )

    # --- engine-side checks ----------------------------------------------------------------

    def _check_targets(self, command: Command, client: Any, requester: Requester) -> None:
        """Protected containers: only admins may act on them (bot/protection.py)."""
        verb = str(getattr(command, "verb", ""))
        if not guards_targets(verb) or self.policy.is_admin(requester):
            return
        refuse_protected(target_labels(command, client), self.policy.protected_label)
