"""Restart-policy aware health checks: one pass compares the engine's state with the last
pass's and reports changes only, as kinds and facts (bot/messages.py's finding_line words
them).

A pass costs one listing, plus one inspect for each container whose state changed since
the last pass (that is where exit codes, OOM kills and restart counts live); a steady host
of any size costs one request.
"""

from __future__ import annotations

import re
import time
from typing import Any

import docker
import docker.errors
from pydantic import BaseModel, Field

from handlers.context import Admit
from handlers.errors import NotAllowed
from handlers.results import Result

WATCH_LABEL = "dockhand.watch"
_EXIT = re.compile(r"^Exited \((-?\d+)\)")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


#: what autoheal did about an unhealthy container: restarted it, tried and failed, or left
#: it alone because it is protected; each is one attempt at a restart, for the audit
HEAL_KINDS = frozenset({"healed", "heal-failed", "protected"})


class Finding(BaseModel):
    """One change a pass saw: its kind and the facts that go with it, no words."""

    container: str
    name: str
    # unhealthy, recovered, restart-loop, exhausted, oom, exit, escalated, and HEAL_KINDS
    kind: str
    labels: dict[str, str] = Field(default_factory=dict)
    #: oom, exhausted, exit: the container's exit code, and when it exited (the engine's
    #: FinishedAt: the episode the event watcher knows the same death by)
    exit_code: int | None = None
    finished_at: str | None = None
    #: exhausted: the on-failure policy's maximum retry count
    retries: int | None = None
    #: restart-loop: seconds restarting, and the engine's restart count
    seconds: int | None = None
    restart_count: int | None = None
    #: healed, escalated: restarts in the budget's window; healed: the budget's limit
    heals: int | None = None
    budget: int | None = None
    window: int | None = None
    #: protected: the label that protects it
    label: str | None = None
    #: heal-failed: why, and whether the safety check refused it (else the engine failed it)
    reason: str | None = None
    refused: bool = False
    #: Swarm (handlers/service_health.py): a service's running and desired tasks;
    #: `container` is then the service's or node's ID, `restart_count` failed tasks
    running: int | None = None
    desired: int | None = None


class HealthPass(Result):
    host: str
    checked: int
    requests: int
    findings: list[Finding] = Field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.findings:
            return f"health on {self.host}: {self.checked} containers, nothing new"
        return f"health on {self.host}: {len(self.findings)} change(s) in {self.checked} containers"


class Budget(BaseModel):
    """Autoheal limits: at most `restarts` in `window` seconds, `backoff` seconds apart."""

    restarts: int = 3
    window: float = 600.0
    backoff: float = 30.0


def is_protected(labels: dict[str, str], label: str | None) -> bool:
    """The protected label is there with any value but `false` (people write `true`, `yes`,
    `on` and nothing at all, and all of them mean protected)."""
    return bool(label) and label in labels and str(labels[label]).strip().lower() != "false"


def _key(raw: dict[str, Any]) -> str:
    status = str(raw.get("Status", ""))
    health = _HEALTH.search(status)
    exited = _EXIT.match(status)
    health_word = health.group(1) if health else ""
    exit_code = exited.group(1) if exited else ""
    return f"{raw.get('State')}|{health_word}|{exit_code}"


def health_pass(
    client: docker.DockerClient,
    previous: dict[str, dict[str, Any]],
    *,
    host: str = "local",
    filters: dict[str, list[str]] | None = None,
    autoheal: bool = False,
    budget: Budget | None = None,
    loop_seconds: float = 30.0,
    now: float | None = None,
    protected_label: str | None = None,
    admit: Admit | None = None,
) -> tuple[HealthPass, dict[str, dict[str, Any]]]:
    """One pass. `previous` is what the last pass returned as its second value. Autoheal
    never restarts a container carrying `protected_label` (see is_protected): it says so
    once, and leaves it to a person."""
    started = time.monotonic()
    now = time.time() if now is None else now
    budget = budget or Budget()
    api = client.api
    requests = 1
    listing = api.containers(all=True, filters=filters or None)
    findings: list[Finding] = []
    state: dict[str, dict[str, Any]] = {}
    for raw in listing:
        cid = raw["Id"]
        name = (raw.get("Names") or ["/" + cid[:12]])[0].lstrip("/")
        prev = previous.get(cid, {})
        kept = ("reported", "heals", "restart_count", "restarting_since", "escalated")
        memo: dict[str, Any] = {k: prev[k] for k in kept if k in prev}
        first_new = len(findings)
        key = _key(raw)
        memo["key"] = key
        details: dict[str, Any] | None = None
        if key != prev.get("key") and raw.get("State") in {"exited", "restarting", "dead"}:
            try:
                details = api.inspect_container(cid)
                requests += 1
            except docker.errors.NotFound:
                continue
        condition, facts = _classify(raw, details, prev, memo, now, loop_seconds)
        if condition != prev.get("reported", "ok"):
            if facts is not None:
                findings.append(
                    Finding(container=cid, name=name, kind=condition.split(":")[0], **facts)
                )
            elif prev.get("reported") == "unhealthy" and condition == "ok":
                findings.append(Finding(container=cid, name=name, kind="recovered"))
        memo["reported"] = condition
        if condition == "ok":
            memo.pop("escalated", None)
        if autoheal and condition == "unhealthy":
            if not is_protected(raw.get("Labels") or {}, protected_label):
                requests += _heal(api, cid, name, memo, budget, now, findings, admit)
            elif prev.get("reported") != "unhealthy":  # once a spell of ill health
                findings.append(
                    Finding(container=cid, name=name, kind="protected", label=protected_label)
                )
        for finding in findings[first_new:]:
            finding.labels = raw.get("Labels") or {}  # so label mutes can apply
        state[cid] = memo
    result = HealthPass(
        host=host,
        checked=len(listing),
        requests=requests,
        findings=findings,
        seconds=round(time.monotonic() - started, 4),
    )
    return result, state


def _classify(
    raw: dict[str, Any],
    details: dict[str, Any] | None,
    prev: dict[str, Any],
    memo: dict[str, Any],
    now: float,
    loop_seconds: float,
) -> tuple[str, dict[str, Any] | None]:
    """(condition key, the finding's facts if it is news). Keys carry the finish time, so
    one exit is one report however many passes see it."""
    status = str(raw.get("Status", ""))
    state = raw.get("State")
    if state == "restarting":
        since = memo.setdefault("restarting_since", prev.get("restarting_since", now))
        count = (details or {}).get("RestartCount", prev.get("restart_count", 0))
        memo["restart_count"] = count
        if now - since >= loop_seconds:
            return "restart-loop", {"seconds": int(now - since), "restart_count": count}
        return prev.get("reported", "ok"), None
    memo.pop("restarting_since", None)
    if state in {"exited", "dead"}:
        if details is None:
            return prev.get("reported", "ok"), None  # unchanged since the last pass
        st = details.get("State") or {}
        finished = st.get("FinishedAt", "")
        code = int(st.get("ExitCode", 0))
        policy = (details.get("HostConfig") or {}).get("RestartPolicy") or {}
        restarts = int(details.get("RestartCount", 0))
        labels = (details.get("Config") or {}).get("Labels") or {}
        if st.get("OOMKilled"):
            return f"oom:{finished}", {"exit_code": code, "finished_at": finished}
        if (
            policy.get("Name") == "on-failure"
            and code != 0
            and restarts >= int(policy.get("MaximumRetryCount") or 0) > 0
        ):
            retries = int(policy.get("MaximumRetryCount") or 0)
            return f"exhausted:{finished}", {"exit_code": code, "retries": retries}
        if code != 0 and (policy.get("Name") not in (None, "", "no") or WATCH_LABEL in labels):
            return f"exit:{finished}", {"exit_code": code, "finished_at": finished}
        return f"stopped:{finished}", None
    if "(unhealthy)" in status:
        return "unhealthy", {}
    return "ok", None


def _heal(
    api: docker.APIClient,
    cid: str,
    name: str,
    memo: dict[str, Any],
    budget: Budget,
    now: float,
    findings: list[Finding],
    admit: Admit | None = None,
) -> int:
    """Restart an unhealthy container within its budget; escalate once when it runs out.
    A restart is a start: it passes the same safety check (`admit`) as `start` typed in chat."""
    heals = [t for t in memo.get("heals", []) if now - t < budget.window]
    memo["heals"] = heals
    if len(heals) >= budget.restarts:
        if memo.get("escalated") is None:
            memo["escalated"] = now
            findings.append(
                Finding(
                    container=cid,
                    name=name,
                    kind="escalated",
                    heals=len(heals),
                    window=int(budget.window),
                )
            )
        return 0
    if heals and now - heals[-1] < budget.backoff:
        return 0
    heals.append(now)  # a failed restart spends the budget too: no retry storm
    try:
        if admit is not None:
            admit("container.start", {}, cid)
        api.restart(cid, timeout=10)
    except NotAllowed as exc:
        findings.append(
            Finding(
                container=cid,
                name=name,
                kind="heal-failed",
                reason=exc.message,
                refused=True,
            )
        )
        return 1
    except docker.errors.APIError as exc:
        findings.append(
            Finding(
                container=cid,
                name=name,
                kind="heal-failed",
                reason=str(exc.explanation or exc),
            )
        )
        return 1
    memo["reported"] = "healing"  # the next unhealthy state is news again
    findings.append(
        Finding(
            container=cid,
            name=name,
            kind="healed",
            heals=len(heals),
            budget=budget.restarts,
            window=int(budget.window),
        )
    )
    return 1
