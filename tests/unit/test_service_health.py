"""Service health's judgement, pass by pass, on the engine's answers as data: each change
said once, a crash loop one spell (not one finding a pass), a paused rollback, nodes, and
nothing at all from an engine that is no swarm manager. The swarm itself is in
tests/test_swarm.py."""

from __future__ import annotations

from typing import Any

import docker.errors
import requests

from handlers.health import Finding
from handlers.service_health import SETTLE, service_pass


class Answers:
    """The three listings a pass asks for, as an engine would answer them."""

    def __init__(self) -> None:
        self.service: dict[str, Any] = {
            "ID": "svc1",
            "Spec": {"Name": "web", "Labels": {"team": "a"}},
            "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 2},
        }
        self.tasks: list[dict[str, Any]] = []
        self.nodes: list[dict[str, Any]] = [
            {
                "ID": "node1",
                "Description": {"Hostname": "box"},
                "Spec": {"Availability": "active"},
                "Status": {"State": "ready"},
            }
        ]
        self.manager = True

    def services(self, status: bool = False) -> list[dict[str, Any]]:
        if not self.manager:
            response = requests.Response()
            response.status_code = 503
            raise docker.errors.APIError(
                "not a manager", response, "This node is not a swarm manager."
            )
        return [self.service]

    def fail(self, task_id: str, code: int = 3) -> None:
        self.tasks.append(
            {
                "ID": task_id,
                "ServiceID": "svc1",
                "Status": {
                    "State": "failed",
                    "Timestamp": f"2026-01-01T00:00:{len(self.tasks):02d}Z",
                    "Err": f"task: non-zero exit ({code})",
                    "ContainerStatus": {"ExitCode": code},
                },
            }
        )


def passes(answers: Answers) -> Any:
    """A pass function keeping its state, as the scheduled job keeps it in Redis."""
    state: dict[str, Any] = {}

    class Api:
        def services(self, status: bool = False) -> list[dict[str, Any]]:
            return answers.services(status)

        def tasks(self) -> list[dict[str, Any]]:
            return list(answers.tasks)

        def nodes(self) -> list[dict[str, Any]]:
            return answers.nodes

    class Docker:
        api = Api()

    def run(now: float, loop_seconds: float = 30.0) -> list[tuple[str, str]]:
        nonlocal state
        found: list[Finding]
        found, state = service_pass(Docker(), state, now=now, loop_seconds=loop_seconds)  # type: ignore[arg-type]
        return [(f.kind, f.name) for f in found]

    return run


def test_a_crash_loop_is_one_spell_and_recovers_once_it_settles() -> None:
    answers = Answers()
    run = passes(answers)
    assert run(0) == []
    answers.service["ServiceStatus"]["RunningTasks"] = 1
    answers.fail("t1")
    assert run(1) == []  # one failure is no loop, and a dip is not yet long
    answers.fail("t2")
    assert run(2) == [("task-failing", "web")]
    said = []
    for moment in range(3, 40):  # failing on and off, the task up for a moment in between
        answers.service["ServiceStatus"]["RunningTasks"] = 2 if moment % 2 else 1
        if moment % 3 == 0:
            answers.fail(f"t{moment}")
        said += [(moment, *found) for found in run(moment)]
    # Below desired since the first failure (1), said once 30 s later; no repeats.
    assert said == [(31, "service-degraded", "web")]
    answers.service["ServiceStatus"]["RunningTasks"] = 2
    assert run(40) == []  # up, but failed 1 s ago
    assert run(39 + SETTLE) == [("service-recovered", "web")]
    answers.fail("again")
    answers.fail("and-again")
    assert ("task-failing", "web") in run(40 + SETTLE)  # a new spell is news again


def test_paused_rollback_and_update_are_said_once_each() -> None:
    answers = Answers()
    run = passes(answers)
    answers.service["UpdateStatus"] = {"State": "rollback_paused", "Message": "update paused"}
    assert run(0) == [("rollback-paused", "web")]
    assert run(1) == []
    answers.service["UpdateStatus"] = {"State": "rollback_completed"}
    assert run(2) == []
    answers.service["UpdateStatus"] = {"State": "paused", "Message": "update paused"}
    assert run(3) == [("update-paused", "web")]


def test_nodes_drained_paused_down_and_back() -> None:
    answers = Answers()
    run = passes(answers)
    node = answers.nodes[0]
    assert run(0) == []
    node["Spec"]["Availability"] = "drain"
    assert run(1) == [("node-drained", "box")]
    assert run(2) == []
    node["Status"]["State"] = "down"
    assert run(3) == [("node-down", "box")]
    node["Status"]["State"] = "ready"
    node["Spec"]["Availability"] = "active"
    assert run(4) == [("node-ready", "box")]


def test_an_engine_that_is_no_manager_has_nothing_to_say() -> None:
    answers = Answers()
    answers.manager = False
    assert passes(answers)(0) == []


def test_a_manager_event_stream_alerts_paused_updates_and_nodes() -> None:
    from handlers.events import alert_of

    def event(kind: str, **attributes: str) -> dict[str, Any]:
        return {
            "Type": kind,
            "Action": "update",
            "Actor": {"ID": "id1", "Attributes": attributes},
            "timeNano": 5,
        }

    paused = alert_of(event("service", name="web", **{"updatestate.new": "rollback_paused"}))
    assert paused is not None and (paused.action, paused.name) == ("rollback-paused", "web")
    assert paused.labels == {}
    drained = alert_of(event("node", name="box", **{"availability.new": "drain"}))
    assert drained is not None and drained.action == "node-drained"
    assert alert_of(event("node", name="box", **{"availability.new": "active"})) is None
    assert alert_of(event("service", name="web", **{"updatestate.new": "updating"})) is None
    assert alert_of(event("container", name="c", **{"state.new": "down"})) is None
