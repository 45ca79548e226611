"""Every attempt, counted and audited: the metrics and the audit trail get the same record,
whether the command ran, failed, was refused or waits for a confirmation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.audit import Audit
from bot.metrics import Metrics, outcome_of
from bot.policy import Decision, Requester
from handlers.commands import Command


@dataclass(frozen=True)
class Prepared:
    """A command that parsed and passed policy, ready to run."""

    command: Command
    text: str
    requester: Requester
    decision: Decision = field(default_factory=lambda: Decision(True, "open"))


class Recorder:
    def __init__(self, audit: Audit | None = None, metrics: Metrics | None = None) -> None:
        self.audit = audit
        self.metrics = metrics

    def record(
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

    def record_prepared(
        self,
        prepared: Prepared,
        outcome: str,
        started: float,
        decision: str = "allowed",
        rule: str = "",
    ) -> None:
        """A prepared command's record; the rule says which binding allowed it and what
        safety refusals were waived for the requester's role."""
        command = prepared.command
        self.record(
            prepared.requester,
            prepared.text,
            command.host,
            decision,
            rule or prepared.decision.rule + "".join(f"; {w}" for w in prepared.decision.waived),
            outcome,
            int((time.monotonic() - started) * 1000),
            verb=str(getattr(command, "verb", "")),
        )
