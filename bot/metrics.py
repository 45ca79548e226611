"""Prometheus metrics, all named dockhand_*, in a registry of Dockhand's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "dockhand_commands",
            "Commands by verb and outcome",
            ["verb", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "dockhand_ack_seconds",
            "Time from request to Slack ack",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.execution_seconds = Histogram(
            "dockhand_execution_seconds",
            "Time a command's Docker work took",
            ["verb"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "dockhand_job_runs", "Scheduled job runs", ["job"], registry=self.registry
        )
        self.job_failures = Counter(
            "dockhand_job_failures", "Scheduled job failures", ["job"], registry=self.registry
        )
        self.alerts = Counter(
            "dockhand_alerts_sent", "Alerts posted to a channel", ["kind"], registry=self.registry
        )
        self.slack_errors = Counter(
            "dockhand_slack_api_errors",
            "Slack API calls that failed",
            ["method"],
            registry=self.registry,
        )
        self.slack_retries = Counter(
            "dockhand_slack_retries",
            "Slack API calls retried (429, 5xx, connection)",
            registry=self.registry,
        )
        self.component_up = Gauge(
            "dockhand_component_up",
            "Background components (event watchers, alert senders, scheduler, lease): 1 up",
            ["name"],
            registry=self.registry,
        )
        self.alert_failures = Counter(
            "dockhand_alert_failures",
            "Event watcher and alert sender faults (Redis or Slack unreachable), each retried",
            ["stage"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def outcome_of(text: str) -> str:
    """The audit's outcome text as a small label set."""
    for word in ("ok", "failed", "refused", "awaiting confirmation", "cancelled"):
        if text.startswith(word):
            return word.split()[0]
    return "invalid"
