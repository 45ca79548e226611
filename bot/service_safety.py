"""The safety check on Swarm service specs: default deny, on the exact body sent.

A service is containers the swarm starts on any node, restarts and reschedules on its own:
whatever a `run` may not ask of the engine, a ServiceSpec may not ask either. So its
ContainerSpec goes through the container rules of bot/safety.py (the same bind-path,
mount, capability, sysctl, log-driver and cap checks, with the same rule names), networks
are judged by their driver, and every field of the spec has an entry in a table here; a
field no table knows is refused by name (tests/unit/test_service_safety.py).

The references (volumes, networks, the engine's data root) are resolved on the manager the
request goes to; a bind path is judged on the bot's own machine, as for containers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.safety import (
    CONFIG_FIELDS,
    HOST_CONFIG_FIELDS,
    MOUNT_FIELDS,
    Check,
    Rule,
    _capabilities,
    _mounts,
    _oom_score,
    _own_labels,
    _sysctls,
    allowed,
    check_caps,
    check_network_driver,
    check_overlap,
    check_section,
    closed,
    one_of,
    refuse,
)
from bot.safety import INTERNAL_LABEL as INTERNAL_LABEL

__all__ = ["SERVICE_FIELDS", "check_service", "check_service_change"]


def _service_mounts(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    """The container's mount rules, and one more: a named volume is looked up on the manager,
    but a task mounts the volume of that name on the node it lands on, which may be another
    node's own (a bind of its /etc, say) that no request here can see. With more than one
    node, a service's volumes must be anonymous (made fresh for each task), or an admin's."""
    _mounts(check, value, section, where)
    if check.refs is None:
        return  # before the ack: the engine is asked at run time
    named = [
        str(m.get("Source")) for m in value or [] if m.get("Type") == "volume" and m.get("Source")
    ]
    if not named or check.guards.allow.service_volumes:
        return
    count = getattr(check.refs, "swarm_nodes", lambda: 1)()
    if count > 1:
        raise check.fail(
            "service-volume",
            "--mount",
            where,
            f"names the volume `{named[0]}`, which each of the swarm's {count} nodes may hold "
            "as something else; use an anonymous volume (no src), or open it with "
            "guards.allow.service_volumes",
        )


def _labels(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    _own_labels(check, value, where)


def _log_driver(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    """Swarm's Driver {Name, Options} is the container's LogConfig {Type, Config}."""
    config = dict(value or {})
    unknown = sorted(set(config) - {"Name", "Options"})
    if unknown:
        raise check.fail("unknown-field", "--log-driver", f"{where}.{unknown[0]}", "is unknown")
    HOST_CONFIG_FIELDS["LogConfig"].test(  # type: ignore[misc]
        check, {"Type": config.get("Name"), "Config": config.get("Options")}, section, where
    )


def _privileges(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    check_section(check, value, PRIVILEGE_FIELDS, where)


def _default_profile(flag: str, name: str) -> Rule:
    """Seccomp and AppArmor: the engine's default profile only (unconfined, or a custom
    profile, lifts the confinement a container run from chat keeps)."""

    def test(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
        profile = dict(value or {})
        if set(profile) - {"Mode"} or profile.get("Mode", "default") != "default":
            raise check.fail(name, flag, where, "only the engine's default profile is allowed")

    return Rule(flag, name, test)


PRIVILEGE_FIELDS: dict[str, Rule] = {
    "CredentialSpec": closed("--credential-spec", "windows", "is for Windows"),
    "SELinuxContext": closed("--security-opt label", "security-opt", "relabels the container"),
    "Seccomp": _default_profile("--security-opt seccomp", "security-opt"),
    "AppArmor": _default_profile("--security-opt apparmor", "security-opt"),
    "NoNewPrivileges": allowed("--security-opt no-new-privileges"),
}

# TaskTemplate.ContainerSpec: the container every task runs.
CONTAINER_SPEC_FIELDS: dict[str, Rule] = {
    "Image": CONFIG_FIELDS["Image"],
    "Labels": Rule("--container-label", "internal", _labels),
    "Command": allowed("--entrypoint"),
    "Args": allowed("COMMAND"),
    "Hostname": allowed("--hostname"),
    "Env": allowed("--env"),
    "Dir": allowed("--workdir"),
    "User": allowed("--user"),
    "Groups": allowed("--group"),
    "Privileges": Rule("--credential-spec", "privileges", _privileges),
    "Init": allowed("--init"),
    "TTY": allowed("--tty"),
    "OpenStdin": allowed("(stdin)"),
    "ReadOnly": allowed("--read-only"),
    "Mounts": Rule("--mount", "mount", _service_mounts),
    "StopSignal": allowed("--stop-signal"),
    "StopGracePeriod": allowed("--stop-grace-period"),
    "Healthcheck": allowed("--health-cmd"),
    "Hosts": allowed("--host"),
    "DNSConfig": Rule(
        "--dns",
        "dns",
        lambda c, v, s, w: check_section(
            c,
            v,
            {
                "Nameservers": allowed("--dns"),
                "Search": allowed("--dns-search"),
                "Options": allowed("--dns-option"),
            },
            w,
        ),
    ),
    "Secrets": closed("--secret", "service-secret", "is not supported by Dockhand yet"),
    "Configs": closed("--config", "service-config", "is not supported by Dockhand yet"),
    "Isolation": one_of("--isolation", "isolation", ("", "default")),
    "Sysctls": Rule("--sysctl", "sysctl", _sysctls),
    "CapabilityAdd": Rule("--cap-add", "cap-add", _capabilities),
    "CapabilityDrop": allowed("--cap-drop"),
    "Ulimits": allowed("--ulimit"),
    "OomScoreAdj": Rule("--oom-score-adj", "oom-score-adj", _oom_score),
}

_RESOURCES: dict[str, Rule] = {
    "NanoCPUs": allowed("--limit-cpu"),
    "MemoryBytes": allowed("--limit-memory"),
    "Pids": allowed("--limit-pids"),
    "GenericResources": closed("--generic-resource", "device", "names host hardware"),
}
RESOURCE_FIELDS: dict[str, Rule] = {
    "Limits": Rule("--limit-*", "resources", lambda c, v, s, w: check_section(c, v, _RESOURCES, w)),
    "Reservations": Rule(
        "--reserve-*", "resources", lambda c, v, s, w: check_section(c, v, _RESOURCES, w)
    ),
    "SwapBytes": allowed("--memory-swap"),
    "MemorySwappiness": allowed("--memory-swappiness"),
}

RESTART_FIELDS: dict[str, Rule] = {
    "Condition": one_of("--restart-condition", "restart", ("", "none", "on-failure", "any")),
    "Delay": allowed("--restart-delay"),
    "MaxAttempts": allowed("--restart-max-attempts"),
    "Window": allowed("--restart-window"),
}

PLACEMENT_FIELDS: dict[str, Rule] = {
    "Constraints": allowed("--constraint"),
    "Preferences": allowed("--placement-pref"),
    "MaxReplicas": allowed("--replicas-max-per-node"),
    "Platforms": allowed("(image platforms)"),
}

NETWORK_ATTACHMENT_FIELDS: dict[str, Rule] = {
    "Target": allowed("--network"),  # judged by its driver in _networks
    "Aliases": allowed("--network alias"),
    "DriverOpts": closed("--network driver-opt", "network-driver-opt", "go to the driver"),
}


def _networks(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for n, attachment in enumerate(value or []):
        at = f"{where}[{n}]"
        check_section(check, attachment, NETWORK_ATTACHMENT_FIELDS, at)
        target = str((attachment or {}).get("Target") or "")
        if target.lower() == "host":
            raise check.fail("network-host", "--network", at, "host shares the host's network")
        if check.refs is None or not target:
            continue
        network = check.refs.network(target)
        if network is None:
            continue  # the engine answers an unknown network itself
        if INTERNAL_LABEL in (network.get("Labels") or {}):
            raise refuse(
                "internal", f"{check.subject}--network {target}: a network of Dockhand itself"
            )
        driver = str(network.get("Driver") or "")
        name = str(network.get("Name") or target)
        check_network_driver(check, driver, f"--network {name}")


def _driver_section(flag: str, name: str) -> Rule:
    return Rule(
        flag,
        name,
        lambda c, v, s, w: check_section(
            c, v, {"Name": allowed(flag), "Options": allowed(flag)}, w
        ),
    )


TASK_FIELDS: dict[str, Rule] = {
    "ContainerSpec": Rule(
        "IMAGE", "container", lambda c, v, s, w: check_section(c, v, CONTAINER_SPEC_FIELDS, w)
    ),
    "PluginSpec": closed("(plugin)", "plugin", "installs an engine plugin on every node"),
    "NetworkAttachmentSpec": closed("(network attachment)", "network-attachment"),
    "Resources": Rule(
        "--limit-*", "resources", lambda c, v, s, w: check_section(c, v, RESOURCE_FIELDS, w)
    ),
    "RestartPolicy": Rule(
        "--restart-*", "restart", lambda c, v, s, w: check_section(c, v, RESTART_FIELDS, w)
    ),
    "Placement": Rule(
        "--constraint", "placement", lambda c, v, s, w: check_section(c, v, PLACEMENT_FIELDS, w)
    ),
    "Networks": Rule("--network", "network", _networks),
    "LogDriver": Rule("--log-driver", "log-driver", _log_driver),
    "ForceUpdate": allowed("--force"),
    "Runtime": one_of("(runtime)", "runtime", ("", "container")),
}

UPDATE_FIELDS: dict[str, Rule] = {
    "Parallelism": allowed("--update-parallelism"),
    "Delay": allowed("--update-delay"),
    "FailureAction": allowed("--update-failure-action"),
    "Monitor": allowed("--update-monitor"),
    "MaxFailureRatio": allowed("--update-max-failure-ratio"),
    "Order": allowed("--update-order"),
}

PORT_FIELDS: dict[str, Rule] = {
    "Name": allowed("--publish"),
    "Protocol": allowed("--publish protocol"),
    "TargetPort": allowed("--publish target"),
    "PublishedPort": allowed("--publish published"),
    # host mode binds the port on each node running a task, as `-p` does for a container.
    "PublishMode": one_of("--publish mode", "publish-mode", ("", "ingress", "host")),
}


def _ports(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for n, port in enumerate(value or []):
        check_section(check, port, PORT_FIELDS, f"{where}[{n}]")


ENDPOINT_FIELDS: dict[str, Rule] = {
    "Mode": one_of("--endpoint-mode", "endpoint-mode", ("", "vip", "dnsrr")),
    "Ports": Rule("--publish", "publish", _ports),
}

MODE_FIELDS: dict[str, Rule] = {
    "Replicated": Rule(
        "--replicas",
        "mode",
        lambda c, v, s, w: check_section(c, v, {"Replicas": allowed("--replicas")}, w),
    ),
    "Global": Rule("--mode global", "mode", lambda c, v, s, w: check_section(c, v, {}, w)),
    "ReplicatedJob": Rule(
        "--mode replicated-job",
        "mode",
        lambda c, v, s, w: check_section(
            c,
            v,
            {
                "MaxConcurrent": allowed("--max-concurrent"),
                "TotalCompletions": allowed("--replicas"),
            },
            w,
        ),
    ),
    "GlobalJob": Rule("--mode global-job", "mode", lambda c, v, s, w: check_section(c, v, {}, w)),
}

# POST /services/create and /services/{id}/update: the whole ServiceSpec.
SERVICE_FIELDS: dict[str, Rule] = {
    "Name": allowed("--name"),
    "Labels": Rule("--label", "internal", _labels),
    "TaskTemplate": Rule("IMAGE", "task", lambda c, v, s, w: check_section(c, v, TASK_FIELDS, w)),
    "Mode": Rule("--mode", "mode", lambda c, v, s, w: check_section(c, v, MODE_FIELDS, w)),
    "UpdateConfig": Rule(
        "--update-*", "update", lambda c, v, s, w: check_section(c, v, UPDATE_FIELDS, w)
    ),
    "RollbackConfig": Rule(
        "--rollback-*", "update", lambda c, v, s, w: check_section(c, v, UPDATE_FIELDS, w)
    ),
    "Networks": Rule("--network", "network", _networks),  # the deprecated top-level place
    "EndpointSpec": Rule(
        "--publish", "endpoint", lambda c, v, s, w: check_section(c, v, ENDPOINT_FIELDS, w)
    ),
}

# A service's mounts have the container's shape (api/types/mount.Mount): one table, the
# container's MOUNT_FIELDS, judges both (through _mounts).
_ = MOUNT_FIELDS


def check_service(check: Check, body: Mapping[str, Any]) -> None:
    """A ServiceSpec, every field; then what the container rules judge on the whole:
    the memory, CPU and pids caps (a missing limit is no limit), and no write access above
    a path another mount binds."""
    check_section(check, body, SERVICE_FIELDS, "ServiceSpec")
    task = body.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    limits = (task.get("Resources") or {}).get("Limits") or {}
    # The container rules' names for the same limits: one cap, whichever way it is asked.
    as_host_config: dict[str, Any] = {
        "Memory": limits.get("MemoryBytes"),
        "NanoCpus": limits.get("NanoCPUs"),
        "PidsLimit": limits.get("Pids"),
    }
    check_caps(check, as_host_config, whole=True)
    check_overlap(check, {"Mounts": container.get("Mounts") or []})


def check_service_change(check: Check, body: Mapping[str, Any]) -> None:
    """Before the ack, an update's flags applied to an empty spec: what they add is judged
    by the same tables (a bind of `/`, `--cap-add SYS_ADMIN`, `--network-add host`) at once.
    Caps are left to the check on the whole spec right before the engine call, where the
    service's own limits are known."""
    check_section(check, body, SERVICE_FIELDS, "ServiceSpec")
