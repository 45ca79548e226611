"""Health checks for Swarm: services below their desired replicas, tasks that keep
failing, updates and rollbacks the swarm paused, nodes drained, paused or down. Like the
container pass (handlers/health.py), a pass compares with the last one and reports changes
only, as Findings (kinds and facts, no words).

A pass costs three requests whatever the size of the swarm: the services with their task
counts, the tasks, the nodes. On an engine that is not a swarm manager it costs one and
finds nothing.
"""

from __future__ import annotations

import time
from typing import Any

import docker
import docker.errors

from handlers.health import Finding

#: failed or rejected tasks of one service in the swarm's history that make "keeps failing"
FAILING_AFTER = 2
#: seconds without a new failure that end a spell of failing tasks (and let a degraded
#: service count as recovered): failures closer together than this are one spell
SETTLE = 60.0
_FAILED = {"failed", "rejected"}
_PAUSED = {"paused": "update-paused", "rollback_paused": "rollback-paused"}


def not_a_manager(exc: docker.errors.APIError) -> bool:
    """The engine's answer when it is not a swarm manager (503), or not in a swarm."""
    text = str(exc.explanation or exc)
    return exc.status_code == 503 or "not a swarm manager" in text or "not part of a swarm" in text


def service_pass(
    client: docker.DockerClient,
    previous: dict[str, Any],
    *,
    loop_seconds: float = 30.0,
    now: float | None = None,
) -> tuple[list[Finding], dict[str, Any]]:
    """One pass over the swarm `client` manages. `previous` is the state the last pass
    returned; a service below its desired replicas is news once it has been for
    `loop_seconds` (a rollout or a reschedule dips for a moment)."""
    now = time.time() if now is None else now
    api = client.api
    try:
        services = api.services(status=True)
    except docker.errors.APIError as exc:
        if not_a_manager(exc):
            return [], {}
        raise
    tasks = api.tasks() if services else []
    nodes = api.nodes()
    by_service: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        by_service.setdefault(str(task.get("ServiceID")), []).append(task)
    findings: list[Finding] = []
    state: dict[str, Any] = {"services": {}, "nodes": {}}
    old_services = previous.get("services") or {}
    for service in services:
        sid = str(service["ID"])
        memo = _service(
            service,
            by_service.get(sid, []),
            old_services.get(sid) or {},
            now,
            loop_seconds,
            findings,
        )
        state["services"][sid] = memo
    old_nodes = previous.get("nodes") or {}
    for node in nodes:
        nid = str(node["ID"])
        state["nodes"][nid] = _node(node, old_nodes.get(nid) or {}, findings)
    return findings, state


def _service(
    service: dict[str, Any],
    tasks: list[dict[str, Any]],
    prev: dict[str, Any],
    now: float,
    loop_seconds: float,
    findings: list[Finding],
) -> dict[str, Any]:
    spec = service.get("Spec") or {}
    name = str(spec.get("Name") or service["ID"])
    labels = spec.get("Labels") or {}
    memo: dict[str, Any] = {}

    def found(kind: str, **facts: Any) -> None:
        findings.append(
            Finding(container=service["ID"], name=name, kind=kind, labels=labels, **facts)
        )

    # Tasks that keep failing: new failures, enough of them in the swarm's history. Said
    # once a spell; the spell ends when no task has failed for SETTLE seconds.
    failed = sorted(
        (t for t in tasks if (t.get("Status") or {}).get("State") in _FAILED),
        key=lambda t: str((t.get("Status") or {}).get("Timestamp", "")),
    )
    ids = [str(t["ID"]) for t in failed]
    news = set(ids) - set(prev.get("failed") or [])
    memo["failed"] = ids
    last_failure = now if news else prev.get("last_failure")
    if last_failure is not None:
        memo["last_failure"] = last_failure
    settled = last_failure is None or now - float(last_failure) >= SETTLE
    failing = bool(prev.get("failing")) and not settled
    if news and len(ids) >= FAILING_AFTER and not failing:
        failing = True
        last = failed[-1].get("Status") or {}
        exit_code = (last.get("ContainerStatus") or {}).get("ExitCode")
        found(
            "task-failing",
            restart_count=len(ids),
            exit_code=int(exit_code) if exit_code is not None else None,
            reason=str(last.get("Err") or last.get("Message") or ""),
        )
    memo["failing"] = failing

    # Replicas below desired, for long enough. A crashing task runs for a moment between
    # failures: a service whose tasks failed within SETTLE seconds counts as below.
    status = service.get("ServiceStatus") or {}
    running, desired = int(status.get("RunningTasks", 0)), int(status.get("DesiredTasks", 0))
    was_degraded = bool(prev.get("degraded"))
    if running < desired or not settled:
        since = float(prev.get("below_since", now))
        memo["below_since"] = since
        memo["degraded"] = was_degraded
        if not was_degraded and now - since >= loop_seconds:
            memo["degraded"] = True
            found("service-degraded", running=running, desired=desired, seconds=int(now - since))
    elif was_degraded:
        found("service-recovered", running=running, desired=desired)

    # An update or rollback the swarm paused (its failure action): it waits for a person.
    update = service.get("UpdateStatus") or {}
    paused = _PAUSED.get(str(update.get("State", "")))
    memo["paused"] = paused or ""
    if paused and paused != prev.get("paused"):
        found(paused, reason=str(update.get("Message") or ""))
    return memo


def _node(node: dict[str, Any], prev: dict[str, Any], findings: list[Finding]) -> dict[str, Any]:
    """A node that is not ready, or that takes no tasks (drain, pause): once each change."""
    spec = node.get("Spec") or {}
    state = str((node.get("Status") or {}).get("State", ""))
    availability = str(spec.get("Availability", ""))
    condition = (
        "node-down"
        if state not in ("ready", "")
        else {"drain": "node-drained", "pause": "node-paused"}.get(availability, "ok")
    )
    before = prev.get("reported", "ok")
    if condition != before:
        hostname = str((node.get("Description") or {}).get("Hostname") or node["ID"])
        kind = condition if condition != "ok" else "node-ready"
        findings.append(
            Finding(
                container=str(node["ID"]),
                name=hostname,
                kind=kind,
                labels=spec.get("Labels") or {},
                reason=str((node.get("Status") or {}).get("Message") or "") or None,
            )
        )
    return {"reported": condition}
