"""`exec` before any engine: its own verb that only admins have by default, the exec body
field by field (default deny, Privileged refused), the target container judged as a whole,
and the words new verbs parse into."""

from __future__ import annotations

from typing import Any

import pytest

from bot.guards import check_command
from bot.parser import parse
from bot.policy import Policy, Requester
from bot.safety import Check, Refusal, admit_request
from config.policy import Binding, Guards, PolicyDocument
from handlers.commands import ExecContainer
from handlers.exec import exec_body
from tests.unit.test_safety_table import Engine


def _policy(role: str) -> Policy:
    return Policy(PolicyDocument(bindings=[Binding(role=role, users=["U1"])]))


@pytest.mark.parametrize(
    ("role", "verb", "allowed"),
    [
        ("admin", "container:exec", True),
        ("operator", "container:exec", False),
        ("operator", "container:stop", True),
        ("viewer", "container:exec", False),
        ("viewer", "container:port", True),
        ("viewer", "container:diff", True),
        ("viewer", "container:wait", True),
        ("viewer", "system:events", True),
    ],
)
def test_exec_is_for_admins_by_default(role: str, verb: str, allowed: bool) -> None:
    assert _policy(role).decide(verb, Requester("U1", "C1")).allowed is allowed


def test_a_fresh_install_refuses_exec_to_slack_users() -> None:
    assert not Policy(None).decide("container:exec", Requester("U9", "C1")).allowed


def test_exec_body_is_the_clis() -> None:
    command = parse("exec -e A=1 -u 7:8 -w /srv web sh -c 'echo hi'", slack=False)
    assert isinstance(command, ExecContainer)
    assert exec_body(command) == {
        "User": "7:8",
        "Privileged": False,
        "Tty": False,
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Env": ["A=1"],
        "WorkingDir": "/srv",
        "Cmd": ["sh", "-c", "echo hi"],
    }


def test_privileged_exec_is_refused_before_the_ack() -> None:
    command = parse("exec --privileged web true", slack=False)
    with pytest.raises(Refusal) as caught:
        check_command(command, Guards())
    assert caught.value.rule == "guard privileged" and "--privileged" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("Privileged", True, "guard privileged"),
        ("Tty", True, "guard exec-tty"),
        ("AttachStdin", True, "guard exec-stdin"),
        ("ConsoleSize", [24, 80], "guard unknown-field"),
    ],
)
def test_the_exec_body_is_default_deny(field: str, value: Any, rule: str) -> None:
    body = {**exec_body(parse("exec web true", slack=False)), field: value}  # type: ignore[arg-type]
    with pytest.raises(Refusal) as caught:
        admit_request(Check(Guards()), "container.exec", body, "web")
    assert caught.value.rule == rule and field in caught.value.message


def _inspected(labels: dict[str, str] | None = None, **host: Any) -> dict[str, Any]:
    return {
        "Id": "c" * 64,
        "Name": "/web",
        "Config": {"Image": "busybox", "Labels": labels or {}},
        "HostConfig": {"Memory": 0, **host},
    }


@pytest.mark.parametrize(
    ("inspected", "rule"),
    [
        (_inspected(Privileged=True), "guard privileged"),
        (_inspected(Binds=["/etc:/host"]), "guard bind"),
        (_inspected({"dockhand.internal": "1"}), "guard internal"),
    ],
)
def test_exec_into_a_container_that_fails_the_check_is_refused(
    inspected: dict[str, Any], rule: str
) -> None:
    body = exec_body(parse("exec web true", slack=False))  # type: ignore[arg-type]
    with pytest.raises(Refusal) as caught:
        admit_request(Check(Guards(), Engine(c_web=inspected)), "container.exec", body, "web")
    assert caught.value.rule.startswith(rule), caught.value.rule
    assert "web" in caught.value.message


def test_exec_into_a_plain_container_passes() -> None:
    body = exec_body(parse("exec web true", slack=False))  # type: ignore[arg-type]
    admit_request(Check(Guards(), Engine(c_web=_inspected())), "container.exec", body, "web")
