"""The safety check on Swarm service specs: the container rules on a ServiceSpec, every field
docker-py can send has an entry, an unknown field is refused by name; and the policy's
verbs for services and nodes. Pure logic, no engine."""

from __future__ import annotations

import inspect
import re
from typing import Any

import docker.types.services
import pytest

from bot.guards import check_command
from bot.parser import parse
from bot.policy import Policy, Requester
from bot.safety import Check, Refusal, admit_request
from bot.service_safety import (
    CONTAINER_SPEC_FIELDS,
    ENDPOINT_FIELDS,
    NETWORK_ATTACHMENT_FIELDS,
    PLACEMENT_FIELDS,
    PORT_FIELDS,
    RESTART_FIELDS,
    SERVICE_FIELDS,
    TASK_FIELDS,
    UPDATE_FIELDS,
)
from config.policy import Allowances, Guards, PolicyDocument
from handlers.service_commands import CreateService, UpdateService
from handlers.service_spec import create_spec, update_spec

SELF_KEYS = r"self\['(\w+)'\]"


@pytest.mark.parametrize(
    ("source", "table"),
    [
        (docker.types.services.ContainerSpec, CONTAINER_SPEC_FIELDS),
        (docker.types.services.TaskTemplate, TASK_FIELDS),
        (docker.types.services.UpdateConfig, UPDATE_FIELDS),
        (docker.types.services.RestartPolicy, RESTART_FIELDS),
        (docker.types.services.Placement, PLACEMENT_FIELDS),
        (docker.types.services.EndpointSpec, ENDPOINT_FIELDS),
        (docker.types.services.NetworkAttachmentConfig, NETWORK_ATTACHMENT_FIELDS),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_every_field_docker_py_can_send_has_an_entry(source: Any, table: dict[str, Any]) -> None:
    keys = set(re.findall(SELF_KEYS, inspect.getsource(source)))
    assert keys, "the pattern no longer finds docker-py's keys"
    assert sorted(keys - set(table)) == []


def test_docker_py_service_keywords_have_an_entry() -> None:
    """APIClient.create_service's own keys of the spec (Name, Labels, Mode...)."""
    source = inspect.getsource(docker.api.service.ServiceApiMixin.create_service)
    keys = set(re.findall(r"data\['(\w+)'\]", source))
    keys |= set(re.findall(r"'([A-Z]\w+)': ", source))
    assert {"Name", "Labels", "TaskTemplate"} <= keys
    assert sorted(keys - set(SERVICE_FIELDS)) == []
    ports = set(
        re.findall(r"'(\w+)':", inspect.getsource(docker.types.services.convert_service_ports))
    )
    assert sorted(ports - set(PORT_FIELDS)) == []


def check(guards: Guards | None = None) -> Check:
    return Check(guards or Guards())


def spec_of(text: str) -> dict[str, Any]:
    command = parse(text, slack=False)
    assert isinstance(command, CreateService)
    return create_spec(command, lambda name: name)


def refused(body: dict[str, Any], guards: Guards | None = None) -> Refusal:
    with pytest.raises(Refusal) as caught:
        admit_request(check(guards), "service.create", body, "")
    return caught.value


def test_a_bind_of_root_is_refused() -> None:
    body = spec_of("service create --mount type=bind,src=/,dst=/host busybox")
    assert "--mount `/`" in refused(body).message


def test_a_bind_outside_the_allowed_paths_is_refused_even_with_some_allowed() -> None:
    body = spec_of("service create --mount type=bind,src=/etc,dst=/x busybox")
    message = refused(body, Guards(bind_paths=["/srv/data"])).message
    assert "/etc" in message and "outside the allowed host paths" in message


def test_cap_add_sys_admin_is_refused_and_an_allowed_one_passes() -> None:
    body = spec_of("service create --cap-add SYS_ADMIN busybox")
    failure = refused(body)
    assert failure.rule == "guard cap-add" and "CAP_SYS_ADMIN" in failure.message
    allowed = Guards(allow=Allowances(capabilities=["NET_BIND_SERVICE"]))
    admit_request(
        check(allowed), "service.create", spec_of("service create --cap-add NET_BIND_SERVICE x"), ""
    )


def test_an_unknown_field_is_refused_by_name_at_any_depth() -> None:
    body = spec_of("service create busybox")
    body["TaskTemplate"]["ContainerSpec"]["Foo"] = 1
    message = refused(body).message
    assert "ServiceSpec.TaskTemplate.ContainerSpec.Foo" in message
    assert "does not know" in message
    top = {**spec_of("service create busybox"), "Bar": True}
    assert "ServiceSpec.Bar" in refused(top).message


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("service create --network host busybox", "guard network-host"),
        ("service create --sysctl kernel.core_pattern=x busybox", "guard sysctl"),
        ("service create --log-driver syslog busybox", "guard log-driver"),
        (
            "service create --mount type=volume,dst=/x,volume-opt=device=/etc,"
            "volume-opt=o=bind busybox",
            "guard bind-path",
        ),
        ("service create -l dockhand.internal=1 busybox", "guard internal"),
    ],
)
def test_container_rules_hold_for_services(text: str, rule: str) -> None:
    assert refused(spec_of(text)).rule == rule


def test_privileges_beyond_the_default_profiles_are_refused() -> None:
    body = spec_of("service create busybox")
    body["TaskTemplate"]["ContainerSpec"]["Privileges"] = {"Seccomp": {"Mode": "unconfined"}}
    assert refused(body).rule == "guard security-opt"


def test_memory_cap_applies_to_limits() -> None:
    guards = Guards(max_memory=256 << 20)
    assert refused(spec_of("service create busybox"), guards).rule == "guard max-memory"
    assert refused(spec_of("service create --limit-memory 1g busybox"), guards).rule == (
        "guard max-memory"
    )
    admit_request(
        check(guards), "service.create", spec_of("service create --limit-memory 128m x"), ""
    )


def test_refused_before_the_ack() -> None:
    with pytest.raises(Refusal):
        check_command(parse("service create --cap-add SYS_ADMIN busybox", slack=False), Guards())


def test_update_is_judged_on_the_whole_spec_sent() -> None:
    current = spec_of("service create --name web busybox")
    command = parse("service update --mount-add type=bind,src=/,dst=/h web", slack=False)
    assert isinstance(command, UpdateService)
    body = update_spec(command, current, lambda name: name)
    assert body["TaskTemplate"]["ContainerSpec"]["Mounts"][0]["Source"] == "/"
    with pytest.raises(Refusal):
        admit_request(check(), "service.update", body, "web")


def test_policy_verbs() -> None:
    doc = PolicyDocument.model_validate(
        {
            "bindings": [
                {"role": "viewer", "users": ["UV"]},
                {"role": "operator", "users": ["UO"]},
                {"role": "admin", "users": ["UA"]},
            ]
        }
    )
    policy = Policy(doc)
    viewer, operator, admin = (Requester(u, "C") for u in ("UV", "UO", "UA"))
    for verb in ("service:ls", "service:ps", "service:inspect", "service:logs", "node:ls"):
        assert policy.decide(verb, viewer).allowed, verb
    for verb in ("service:create", "service:update", "service:scale", "service:rm", "node:update"):
        assert not policy.decide(verb, viewer).allowed, verb
    for verb in ("service:create", "service:rollback", "service:rm", "node:inspect"):
        assert policy.decide(verb, operator).allowed, verb
    assert not policy.decide("node:update", operator).allowed
    assert policy.decide("node:update", admin).allowed
    assert "service:rm" in policy.confirm.verbs


def test_unsupported_flags_are_refused_with_the_reason() -> None:
    from handlers.errors import UsageError

    with pytest.raises(UsageError) as caught:
        parse("service create --secret s busybox", slack=False)
    assert "--secret" in caught.value.message and "not" in caught.value.message
    with pytest.raises(UsageError):
        parse("service create --bogus busybox", slack=False)


def test_an_update_is_refused_before_the_ack_for_what_it_adds() -> None:
    with pytest.raises(Refusal):
        check_command(
            parse("service update --mount-add type=bind,src=/,dst=/h web", slack=False), Guards()
        )
    with pytest.raises(Refusal):
        check_command(parse("service update --cap-add SYS_ADMIN web", slack=False), Guards())
    # Caps wait for the whole spec: the service's own limits are not known before the ack.
    check_command(
        parse("service update --env-add A=1 web", slack=False), Guards(max_memory=1 << 30)
    )


def test_service_inspect_hides_env_values_from_non_admins() -> None:
    from bot.redaction import ENV_MASK, redact_result
    from handlers.results import InspectResult
    from handlers.template import render

    def spec(env: list[str]) -> dict[str, Any]:
        return {"TaskTemplate": {"ContainerSpec": {"Image": "x", "Env": env}}}

    service = {"ID": "s1", "Spec": spec(["DB_PASSWORD=hunter2"]), "PreviousSpec": spec(["A=old"])}
    command = parse("service inspect -f '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' web")
    result = InspectResult(objects=[service], formatted=[render(command.format, service)])  # type: ignore[attr-defined]
    shown = redact_result(result, command, admin=False)
    assert isinstance(shown, InspectResult)
    assert "hunter2" not in str(shown.objects) and "old" not in str(shown.objects)
    assert shown.formatted == [f'["DB_PASSWORD={ENV_MASK}"]']
    assert redact_result(result, command, admin=True) is result
    assert service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["DB_PASSWORD=hunter2"]
