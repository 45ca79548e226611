"""Health checks against the rig: each condition reported once, autoheal within a budget."""

from __future__ import annotations

import time
from typing import Any

from bot.messages import finding_line
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.context import Admit
from handlers.engines import Engines
from handlers.health import Budget, Finding, health_pass
from tests.rig import TEST_IMAGE, Engine


def passes(
    engine: Engine,
    count: int,
    *,
    autoheal: bool = False,
    budget: Budget | None = None,
    pause: float = 1.2,
    filters: dict[str, list[str]] | None = None,
    admit: Admit | None = None,
) -> tuple[list[Finding], list[int]]:
    state: dict[str, dict[str, Any]] = {}
    found: list[Finding] = []
    requests = []
    for _ in range(count):
        result, state = health_pass(
            engine.client(),
            state,
            autoheal=autoheal,
            budget=budget,
            filters=filters,
            loop_seconds=3,
            admit=admit,
        )
        found += result.findings
        requests.append(result.requests)
        time.sleep(pause)
    return found, requests


def kinds(found: list[Finding], name: str) -> list[str]:
    return [f.kind for f in found if f.name == name]


def test_on_failure_exhausted_is_reported_once(clean_engine: Engine) -> None:
    clean_engine.cli(
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        TEST_IMAGE,
        "sh",
        "-c",
        "exit 3",
    )
    found, _ = passes(clean_engine, 9, filters={"name": ["flaky"]})
    assert kinds(found, "flaky") == ["exhausted"]
    message = next(finding_line(f) for f in found if f.name == "flaky")
    assert "on-failure:2" in message and "exit code 3" in message
    assert clean_engine.cli("inspect", "-f", "{{.RestartCount}}", "flaky").stdout.strip() == "2"


def run_unhealthy(engine: Engine, name: str) -> None:
    """A container whose health check always fails, reported unhealthy after a second."""
    engine.cli(
        "run", "-d", "--name", name, "--health-cmd", "false", "--health-interval", "1s",
        "--health-retries", "1", TEST_IMAGE, "sleep", "300",
    )  # fmt: skip


def test_unhealthy_healed_then_escalated(clean_engine: Engine) -> None:
    run_unhealthy(clean_engine, "sick")
    found, _ = passes(
        clean_engine,
        10,
        autoheal=True,
        budget=Budget(restarts=2, window=600, backoff=0),
        filters={"name": ["sick"]},
    )
    seen = kinds(found, "sick")
    assert seen.count("healed") == 2 and seen.count("escalated") == 1, seen
    assert seen.index("unhealthy") < seen.index("healed") < seen.index("escalated")
    assert seen[-1] == "escalated"  # and nothing after: not reported again


def test_autoheal_restarts_only_what_may_start(clean_engine: Engine) -> None:
    """A restart is a start: a container made elsewhere with an added capability is not
    restarted by autoheal, whose check is the schedule owner's, as for a typed `restart`."""
    clean_engine.cli(
        "run", "-d", "--name", "sick-cap", "--cap-add", "SYS_ADMIN", "--health-cmd", "false",
        "--health-interval", "1s", "--health-retries", "1", TEST_IMAGE, "sleep", "300",
    )  # fmt: skip
    started = clean_engine.cli("inspect", "-f", "{{.State.StartedAt}}", "sick-cap").stdout
    pipeline = Pipeline(Engines({"local": clean_engine.url}, timeout=30), Policy(None))
    admit = pipeline.admission("local", Requester("U_OWNER", "C1"), None)
    found, _ = passes(
        clean_engine,
        4,
        autoheal=True,
        budget=Budget(restarts=1, window=600, backoff=0),
        filters={"name": ["sick-cap"]},
        admit=admit,
    )
    failed = [finding_line(f) for f in found if f.name == "sick-cap" and f.kind == "heal-failed"]
    assert failed and "CapAdd" in failed[0], kinds(found, "sick-cap")
    assert "healed" not in kinds(found, "sick-cap")
    assert clean_engine.cli("inspect", "-f", "{{.State.StartedAt}}", "sick-cap").stdout == started
    pipeline.engines.close()


def test_unhealthy_reported_once_without_autoheal(clean_engine: Engine) -> None:
    run_unhealthy(clean_engine, "sick2")
    found, _ = passes(clean_engine, 6, filters={"name": ["sick2"]})
    assert kinds(found, "sick2") == ["unhealthy"]


def test_oom_killed_is_reported(clean_engine: Engine) -> None:
    clean_engine.cli(
        "run",
        "-d",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "--restart",
        "on-failure:1",
        TEST_IMAGE,
        "sh",
        "-c",
        "dd if=/dev/zero of=/dev/null bs=64M count=1",
    )
    found, _ = passes(clean_engine, 5, filters={"name": ["hog"]})
    assert "oom" in kinds(found, "hog")
    assert clean_engine.cli("inspect", "-f", "{{.State.OOMKilled}}", "hog").stdout.strip() == "true"


def test_steady_host_costs_one_request_a_pass(clean_engine: Engine) -> None:
    clean_engine.create_containers(20, prefix="quiet")
    _, requests = passes(clean_engine, 3, pause=0.1)
    assert requests[1:] == [1, 1]
