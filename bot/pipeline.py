"""parse -> authorize -> (confirm) -> handler -> render: the one path every front end takes,
and the one place every attempt is audited."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import docker.errors
import redis

from bot import messages
from bot.audit import Audit
from bot.confirm import ConfirmStore, Pending
from bot.credentials import Credentials, registry_lookup
from bot.guards import spare_protected
from bot.intake import check_command_text
from bot.logs import REQUEST_ID, new_request_id
from bot.metrics import Metrics, outcome_of
from bot.parser import overview, parse, usage_of
from bot.policy import TERMINAL_SOURCES, Decision, Policy, Requester
from bot.references import EngineReferences
from bot.safety import INTERNAL_LABEL, Check, Refusal, admit_request
from bot.text import trusted
from handlers import run_handler
from handlers.commands import (
    Command,
    ConnectNetwork,
    ContainerAction,
    Help,
    Logout,
    Mute,
    Prune,
    RenameContainer,
    ScheduleAction,
    ScheduleList,
    SchedulePrune,
    ShowAudit,
    UpdateContainers,
)
from handlers.context import Admit, Context, RegistryAuth
from handlers.engine_api import inspect
from handlers.engines import Engines, translate_engine_errors
from handlers.errors import DockhandError, NotAllowed, UsageError
from handlers.preview import preview
from handlers.progress import Progress
from handlers.registry import DOCKER_HUB
from handlers.results import Result, TextResult
from handlers.units import go_duration

# The Block Kit renderer (bot/render.py) is imported where a reply is made, not here: the
# terminal and the jobs load the pipeline without Slack's SDK. (The replies are still Block
# Kit's; rendering at the edge is issue 11's step 1.)
if TYPE_CHECKING:
    from bot.reply import Origin, Reply
    from jobs.schedules import Schedules

log = logging.getLogger("dockhand.pipeline")
_PROTECTED_VERBS = {
    "container:stop",
    "container:rm",
    "container:kill",
    "container:restart",
    "container:pause",
    "container:update",
    "container:rename",
    "network:connect",
    "network:disconnect",
}


@dataclass(frozen=True)
class Prepared:
    """A command that parsed and passed policy, ready to run."""

    command: Command
    text: str
    requester: Requester
    decision: Decision = field(default_factory=lambda: Decision(True, "open"))


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
    ) -> None:
        self.metrics = metrics
        #: set by the runtime: the scheduler's client side, and the shared store
        self.schedules: Schedules | None = None
        self.channel_zones: dict[str, str] = {}
        #: may registry calls fall back to the local user's docker config (not for `serve`)
        self.host_credentials = True
        self.store: redis.Redis | None = None
        self.engines = engines
        self.policy = policy
        self.credentials = credentials
        self.run_wait = run_wait
        self.audit = audit
        self.confirmations = confirmations

    # --- the steps ---------------------------------------------------------------------

    def prepare(self, text: str, requester: Requester) -> Prepared:
        """Parse and authorize. Fast and engine-free, so it can run inside Slack's ack."""
        check_command_text(text)
        try:
            command = parse(text, slack=requester.source not in TERMINAL_SOURCES)
            command, decision = self.policy.authorize(command, requester)
            if isinstance(command, Prune) and not self.policy.is_admin(requester):
                command = spare_protected(command, self.policy.protected_label)
        except NotAllowed as exc:
            self._record(requester, text, "", "denied", exc.rule, "refused")
            raise
        except UsageError as exc:
            self._record(requester, text, "", "invalid", "usage", exc.message[:200])
            raise
        return Prepared(command, text, requester, decision)

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
        if isinstance(command, Help):
            return help_result(command)
        if isinstance(command, ShowAudit):
            return self._audit_result(command)
        if isinstance(command, SchedulePrune | ScheduleList | ScheduleAction | Mute):
            from bot.scheduling import schedule_command

            if self.store is None:
                raise UsageError("this command needs the store (REDIS_URL)")
            return schedule_command(
                command,
                requester or Requester("cli", "cli", "cli"),
                self.schedules,
                self.policy,
                self.store,
                self.engines.names,
                self.channel_zones,
            )
        # Only the requester's own logins, and only for registries the policy allows.
        owner = requester.user if requester is not None else ""
        lookup = registry_lookup(self.credentials, owner, self.policy.guards, login)
        context = Context(
            progress=progress,
            credentials=lookup,
            attach_timeout=self.run_wait,
            host_credentials=self.host_credentials,
            admit=self.admission(command.host, requester, waived),
        )
        url = self.engines.url(command.host)
        client = self.engines.client(command.host)
        with translate_engine_errors(
            command.host, url, self.engines.timeout, changing=command.changes_state
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
            if not confirmed and self._needs_confirmation(command):
                pending_reply = self._ask_confirmation(prepared)
                if pending_reply is not None:
                    self._record_prepared(prepared, "awaiting confirmation", started)
                    return pending_reply
            result = self.execute(command, progress, login, prepared.requester, waived)
            # What this requester may see: Env values of inspect only for admins.
            result = redact_result(result, command, admin=self.policy.is_admin(prepared.requester))
        except Exception as exc:
            reply = self.failure(exc, prepared.text)
            self._record_prepared(
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
        self._record_prepared(prepared, "ok" if reply.ok else "failed", started)
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
        exempt = requester is not None and self.policy.exempt(requester)

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

    def _needs_confirmation(self, command: Command) -> bool:
        verb = str(getattr(command, "verb", ""))
        rules = self.policy.confirm
        if self.confirmations is None:
            return False
        if verb in rules.two_person:
            return True  # a second person, always: neither -f nor a missing listing skips it
        if verb not in rules.verbs:
            return False
        forced = bool(getattr(command, "force", False))
        if verb == "container:rm" and not forced:
            return False  # the engine itself refuses to remove a running container
        return not (forced and verb in rules.force_skips)

    def ask(self, prepared: Prepared) -> Reply | None:
        """The preview-and-confirm reply a destructive command needs first, or None."""
        started = time.monotonic()
        try:
            if not self._needs_confirmation(prepared.command):
                return None
            reply = self._ask_confirmation(prepared)
        except Exception as exc:
            return self.failure(exc, prepared.text)
        if reply is not None:
            self._record_prepared(prepared, "awaiting confirmation", started)
        return reply

    def confirm_refusal(self, pending_id: str, clicker: Requester) -> str | None:
        assert self.confirmations is not None
        return self._confirm_refusal(self.confirmations.peek(pending_id), clicker)

    def _ask_confirmation(self, prepared: Prepared) -> Reply | None:
        from bot.render import preview_reply

        command = prepared.command
        assert self.confirmations is not None
        client = self.engines.client(command.host)
        with translate_engine_errors(
            command.host, self.engines.url(command.host), self.engines.timeout
        ):
            shown = preview(command, client)
        if not shown.items and isinstance(command, ContainerAction):
            return None  # nothing running to stop: let the engine answer as usual
        verb = str(getattr(command, "verb", ""))
        two_person = verb in self.policy.confirm.two_person
        pending = self.confirmations.create(
            text=prepared.text,
            user=prepared.requester.user,
            channel=prepared.requester.channel,
            verb=verb,
            two_person=two_person,
            ttl=self.policy.confirm.expires_seconds,
        )
        return preview_reply(shown, pending)

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

        assert self.confirmations is not None
        pending = self.confirmations.peek(pending_id)
        refusal = self._confirm_refusal(pending, clicker)
        if refusal is not None:
            self._record(
                clicker,
                pending.text if pending else f"confirm {pending_id}",
                "",
                "denied",
                "confirmation",
                refusal,
            )
            return error_reply(NotAllowed(refusal, rule="confirmation")), None
        assert pending is not None
        taken = self.confirmations.take(pending_id)
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

        assert self.confirmations is not None
        pending = self.confirmations.peek(pending_id)
        if pending is None:
            return error_reply(NotAllowed(messages.confirmation_gone(), rule="confirmation"))
        if clicker.user != pending.user and not self.policy.is_admin(clicker):
            return error_reply(
                NotAllowed(trusted(messages.only_requester(pending.user)), rule="confirmation")
            )
        self.confirmations.take(pending_id)
        self._record(clicker, pending.text, "", "cancelled", "confirmation", "cancelled")
        return reply_for(
            TextResult(title=messages.cancelled(), text=""),
            ephemeral=False,
            context=f"cancelled by {clicker.mention}",  # a plain context keeps the mention live
        )

    def _confirm_refusal(self, pending: Pending | None, clicker: Requester) -> str | None:
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

    # --- engine-side checks ----------------------------------------------------------------

    def _check_targets(self, command: Command, client: Any, requester: Requester) -> None:
        """Protected containers: only admins may act on them. The label protects when it is
        there with any value but `false` (`on`, `yes`, empty: people write all of these)."""
        verb = str(getattr(command, "verb", ""))
        names: list[str] = []
        if isinstance(command, ContainerAction | UpdateContainers):
            names = command.containers
        elif isinstance(command, RenameContainer | ConnectNetwork):
            names = [command.container]
        if not names or verb not in _PROTECTED_VERBS or self.policy.is_admin(requester):
            return
        label = self.policy.protected_label
        for name in names:
            try:
                found = inspect(client.api, "container", name)  # as the handler looks it up
            except docker.errors.NotFound:  # a missing container is the handler's to report
                continue
            labels = (found.get("Config") or {}).get("Labels") or {}
            if INTERNAL_LABEL in labels:  # Dockhand's own bot, Redis or proxy
                raise NotAllowed(
                    messages.protected(name, INTERNAL_LABEL), rule=f"protected {INTERNAL_LABEL}"
                )
            if label in labels and str(labels[label]).strip().lower() != "false":
                raise NotAllowed(messages.protected(name, label), rule=f"protected {label}")

    # --- audit -------------------------------------------------------------------------------

    def _record(
        self,
        requester: Requester,
        text: str,
        host: str,
        decision: str,
        rule: str,
        outcome: str,
        duration_ms: int = 0,
        verb: str = "",
    ) -> None:
        if self.metrics is not None:
            label = "denied" if decision == "denied" else outcome_of(outcome)
            self.metrics.commands.labels(verb=verb or "-", outcome=label).inc()
            if duration_ms and label == "ok":
                self.metrics.execution_seconds.labels(verb=verb).observe(duration_ms / 1000)
        if self.audit is None:
            return
        self.audit.record(
            user=requester.user,
            channel=requester.channel,
            host=host,
            text=text,
            verb=verb,
            decision=decision,
            rule=rule,
            outcome=outcome,
            duration_ms=duration_ms,
        )

    def _record_prepared(
        self,
        prepared: Prepared,
        outcome: str,
        started: float,
        decision: str = "allowed",
        rule: str = "",
    ) -> None:
        command = prepared.command
        self._record(
            prepared.requester,
            prepared.text,
            command.host,
            decision,
            rule or prepared.decision.rule + "".join(f"; {w}" for w in prepared.decision.waived),
            outcome,
            int((time.monotonic() - started) * 1000),
            verb=str(getattr(command, "verb", "")),
        )

    def _audit_result(self, command: ShowAudit) -> Result:
        from bot.render import audit_result

        if self.audit is None:
            return TextResult(title="no audit store", text="")
        since = None
        if command.since:
            try:
                since = time.time() - go_duration(command.since) / 1e9
            except ValueError as exc:
                raise UsageError(
                    f'invalid argument "{command.since}" for "--since" flag: {exc}',
                    token=command.since,
                ) from None
        entries = self.audit.query(
            user=command.user, verb=command.filter_verb, since=since, limit=command.limit
        )
        return audit_result(entries)


def help_result(command: Help) -> TextResult:
    if command.topic:
        return TextResult(title=f"/docker {command.topic}", text=usage_of(command.topic))
    width = max(len(path) for path, _ in overview())
    lines = [f"{path:<{width}}   {summary}" for path, summary in overview()]
    return TextResult(
        title="Dockhand: the docker CLI, from chat",
        text="\n".join(["Commands:", *lines, "", messages.help_footer()]),
    )
