"""parse -> authorize -> handler -> render: the one path every front end takes."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from bot import messages
from bot.credentials import Credentials
from bot.parser import overview, parse, usage_of
from bot.policy import Policy, Requester
from bot.render import Origin, Reply, apology_reply, error_reply, reply_for
from handlers import run_handler
from handlers.commands import Command, Help, Logout
from handlers.context import Context, RegistryAuth
from handlers.engines import Engines, translate_engine_errors
from handlers.errors import DockhandError
from handlers.progress import Progress
from handlers.registry import DOCKER_HUB
from handlers.results import Result, TextResult

log = logging.getLogger("dockhand.pipeline")


@dataclass(frozen=True)
class Prepared:
    """A command that parsed and passed policy, ready to run."""

    command: Command
    text: str
    requester: Requester


class Pipeline:
    def __init__(
        self,
        engines: Engines,
        policy: Policy,
        credentials: Credentials | None = None,
        run_wait: float = 30.0,
    ) -> None:
        self.engines = engines
        self.policy = policy
        self.credentials = credentials
        self.run_wait = run_wait

    def prepare(self, text: str, requester: Requester) -> Prepared:
        """Parse and authorize. Fast and engine-free, so it can run inside Slack's ack."""
        command = parse(text)
        self.policy.authorize(command, requester)
        return Prepared(command, text, requester)

    def execute(
        self, command: Command, progress: Progress | None = None, login: RegistryAuth | None = None
    ) -> Result:
        """Run a command's handler against its host. `login` is a password just entered."""
        if isinstance(command, Help):
            return help_result(command)
        lookup = self.credentials.get if self.credentials else Context().credentials
        context = Context(
            progress=progress,
            credentials=(lambda server: login) if login else lookup,
            attach_timeout=self.run_wait,
        )
        url = self.engines.url(command.host)
        client = self.engines.client(command.host)
        with translate_engine_errors(command.host, url, self.engines.timeout):
            result = run_handler(command, client, context)
        if self.credentials is not None:
            if login is not None:
                self.credentials.put(login)  # kept only once the registry accepted them
            if isinstance(command, Logout):
                self.credentials.delete(command.server or DOCKER_HUB)
        return result

    def finish(
        self,
        prepared: Prepared,
        progress: Progress | None = None,
        login: RegistryAuth | None = None,
        origin: Origin | None = None,
        by: str = "",
    ) -> Reply:
        """Run a prepared command and render its reply; never raises."""
        started = time.monotonic()
        try:
            result = self.execute(prepared.command, progress, login)
        except Exception as exc:
            return self.failure(exc, prepared.text)
        elapsed = time.monotonic() - started
        command = prepared.command
        context = "" if isinstance(command, Help) else f"{command.host} · {elapsed:.2f} s"
        if by and context:
            context = f"{by} · {context}"
        return reply_for(
            result, ephemeral=not command.changes_state, context=context, origin=origin
        )

    def run(self, text: str, requester: Requester) -> Reply:
        try:
            prepared = self.prepare(text, requester)
        except Exception as exc:
            return self.failure(exc, text)
        return self.finish(prepared)

    def failure(self, exc: BaseException, text: str) -> Reply:
        if isinstance(exc, DockhandError):
            log.debug("command failed: %r: %s", text, exc.message)
            return error_reply(exc)
        reference = uuid.uuid4().hex[:10]
        log.error("unexpected error ref=%s for %r", reference, text, exc_info=exc)
        return apology_reply(reference)


def help_result(command: Help) -> TextResult:
    if command.topic:
        return TextResult(title=f"/docker {command.topic}", text=usage_of(command.topic))
    width = max(len(path) for path, _ in overview())
    lines = [f"{path:<{width}}   {summary}" for path, summary in overview()]
    return TextResult(
        title="Dockhand: the docker CLI, from chat",
        text="\n".join(["Commands:", *lines, "", messages.help_footer()]),
    )
