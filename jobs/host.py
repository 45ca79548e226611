"""What jobs need from the process that runs them, and nothing more: the interface a host
implements (the bot's runtime does, in bot/runtime.py) and the neutral notice jobs post.

Jobs sit below the bot: they name what they need here (run a command as its owner, the
policy's word on an owner, notify a channel, an engine by name, the store, settings,
metrics, the audit, a health finding in words) and the bot fills it in. Nothing here knows
Slack or the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import docker
    import redis
    from prometheus_client import Counter

    from config.policy import Confirmations, Requester
    from config.settings import Settings
    from handlers.context import Admit
    from handlers.health import Finding
    from handlers.results import Result
    from jobs.schedules import Schedules


class Verdict(Protocol):
    """The policy's answer for one verb (bot/policy.py's Decision is one)."""

    @property
    def allowed(self) -> bool: ...

    @property
    def rule(self) -> str: ...


class OwnerPolicy(Protocol):
    """The policy check for a schedule's owner (bot/policy.py's Policy is one)."""

    @property
    def confirm(self) -> Confirmations: ...

    @property
    def protected_label(self) -> str: ...

    def decide(self, verb: str, requester: Requester, host: str | None = None) -> Verdict: ...

    def is_admin(self, requester: Requester) -> bool: ...


class JobMetrics(Protocol):
    """The counters a job moves (bot/metrics.py's Metrics has them)."""

    @property
    def job_runs(self) -> Counter: ...

    @property
    def job_failures(self) -> Counter: ...

    @property
    def alerts(self) -> Counter: ...


class AuditLog(Protocol):
    """Where attempts are recorded (bot/audit.py's Audit is one)."""

    def record(
        self,
        *,
        user: str,
        channel: str,
        host: str,
        text: str,
        verb: str,
        decision: str,
        rule: str,
        outcome: str,
        duration_ms: int = 0,
    ) -> None: ...


class Message(Protocol):
    """A message the host made for a command it ran: jobs read whether it went well and the
    result behind it, and hand it back to `notify` untouched (how it looks is the host's)."""

    @property
    def ok(self) -> bool: ...

    @property
    def result(self) -> Result | None: ...

    @property
    def text(self) -> str:
        """The message as plain text (an error's words when there is no result)."""
        ...


@dataclass(frozen=True)
class Notice:
    """Something a job says that no command produced: a line of its own (`text`), or a
    handler's `result` with the small print under it (`context`). `quiet`: only the result's
    summary and the small print, for a run that found nothing to do."""

    text: str = ""
    result: Result | None = None
    context: str = ""
    ok: bool = True
    quiet: bool = False


#: a prepared command, waiting to run; called with who it is "by" (the reply's small print)
Run = Callable[[str], Message]


class Host(Protocol):
    """The running process, as jobs see it."""

    @property
    def store(self) -> redis.Redis: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> JobMetrics: ...

    @property
    def schedules(self) -> Schedules | None: ...

    @property
    def policy(self) -> OwnerPolicy: ...

    @property
    def audit(self) -> AuditLog | None: ...

    def verb_of(self, text: str) -> str:
        """The verb a command's text names, as a typed command would parse. Raises
        handlers.errors.DockhandError when it no longer parses."""
        ...

    def engine(self, host: str) -> docker.DockerClient:
        """The engine client configured under `host`."""
        ...

    def host_names(self) -> list[str]:
        """Every configured host's name, in configured order (for `--host all` or a glob)."""
        ...

    def host_url(self, host: str) -> str:
        """Where `host`'s engine is (for an error that names it)."""
        ...

    def admission(self, host: str, owner: Requester) -> Admit:
        """The safety check the handlers call on each engine request, for `owner`."""
        ...

    def prepare(self, text: str, owner: Requester) -> Run:
        """Parse and authorize `text` as `owner` typed it, ready to run (confirmed: the
        schedule is the owner's standing word). Raises NotAllowed when the owner may not."""
        ...

    def describe(self, finding: Finding) -> str:
        """A health finding (its kind and facts) in the host's words, for the recent-alerts
        list and the audit."""
        ...

    def failure(self, exc: BaseException, text: str) -> Message:
        """The message a command that failed before it ran gets."""
        ...

    def notify(
        self, channel: str, message: Message | Notice, thread_ts: str | None = None
    ) -> str | None:
        """Post where the team reads it; returns the message's ts when the front end has one."""
        ...
