"""ServiceSpec bodies, built as the docker CLI builds them (cli/command/service/opts.go
ToService for create, update.go updateService for update), so the same flags give the
engine the same spec. The safety check (bot/service_safety.py) reads exactly these bodies.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Callable
from typing import Any

from handlers.service_commands import (
    CreateService,
    ServiceSettings,
    UpdateService,
    parse_service_port,
)

# swarmkit's defaults (api/defaults), which the CLI starts from when one flag of a group
# is given: a restart policy, an update or rollback config.
RESTART_DEFAULTS: dict[str, Any] = {"Condition": "any", "Delay": 5_000_000_000, "MaxAttempts": 0}
UPDATE_DEFAULTS: dict[str, Any] = {
    "Parallelism": 1,
    "FailureAction": "pause",
    "Monitor": 5_000_000_000,
    "MaxFailureRatio": 0,
    "Order": "stop-first",
}
_UPDATE_KEYS = {
    "parallelism": "Parallelism",
    "delay": "Delay",
    "monitor": "Monitor",
    "failure_action": "FailureAction",
    "max_failure_ratio": "MaxFailureRatio",
    "order": "Order",
}


def kv_map(values: list[str]) -> dict[str, str]:
    """opts.ConvertKVStringsToMap: `a=b` is a:b, a bare `a` is a:""."""
    return {k: v for k, _, v in (value.partition("=") for value in values)}


def swarm_host(entry: str) -> str:
    """`--host name:ip` as swarm keeps it: `ip name` (an /etc/hosts line)."""
    name, _, address = entry.partition(":")
    return f"{address} {name}"


def capability(name: str) -> str:
    """opts.NormalizeCapability: trimmed, upper case, CAP_ added; ALL and RESET kept."""
    name = name.strip().upper()
    return name if name in ("ALL", "RESET") or name.startswith("CAP_") else f"CAP_{name}"


def effective_caps(add: list[str], drop: list[str]) -> tuple[list[str], list[str]]:
    """opts.EffectiveCapAddCapDrop: ALL trumps the others on its side, adding wins over
    dropping, RESET means nothing at create; sorted."""
    adds = {capability(c) for c in add}
    drops = {capability(c) for c in drop}
    if "ALL" in adds:
        adds = {"ALL"}
    if "ALL" in drops:
        drops = {"ALL"}
    return sorted(adds - {"RESET"}), sorted(drops - adds - {"RESET"})


def _group(command: ServiceSettings, prefix: str) -> dict[str, Any]:
    return {
        key: getattr(command, f"{prefix}_{name}")
        for name, key in _UPDATE_KEYS.items()
        if getattr(command, f"{prefix}_{name}") is not None
    }


def _restart(command: ServiceSettings) -> dict[str, Any]:
    changed = {
        "Condition": command.restart_condition,
        "Delay": command.restart_delay,
        "MaxAttempts": command.restart_max_attempts,
        "Window": command.restart_window,
    }
    return {k: v for k, v in changed.items() if v is not None}


def _health(command: ServiceSettings) -> dict[str, Any] | None:
    """toHealthConfig: NONE for --no-healthcheck, else what was given (zeros included)."""
    if command.no_healthcheck:
        return {"Test": ["NONE"]}
    given = (
        command.health_cmd,
        command.health_interval,
        command.health_timeout,
        command.health_start_period,
        command.health_retries,
    )
    if all(v is None for v in given):
        return None
    health: dict[str, Any] = {}
    if command.health_cmd:
        health["Test"] = ["CMD-SHELL", command.health_cmd]
    for key, value in (
        ("Interval", command.health_interval),
        ("Timeout", command.health_timeout),
        ("StartPeriod", command.health_start_period),
        ("Retries", command.health_retries),
    ):
        if value:
            health[key] = value
    return health


def _log_driver(command: ServiceSettings) -> dict[str, Any] | None:
    if not command.log_driver:
        return None
    return {"Name": command.log_driver, "Options": kv_map(command.log_opts)}


def _omit_empty(section: dict[str, Any]) -> dict[str, Any]:
    """Go's `omitempty`: zero values are not sent."""
    return {k: v for k, v in section.items() if v not in (None, "", 0, [], {}, False)}


def create_spec(command: CreateService, resolve_network: Callable[[str], str]) -> dict[str, Any]:
    """POST /services/create's body for `service create`; network names become IDs as the
    CLI resolves them (`resolve_network`), sorted by ID as it sorts them."""
    cap_add, cap_drop = effective_caps(command.cap_add, command.cap_drop)
    container = _omit_empty(
        {
            "Image": command.image,
            "Labels": kv_map(command.container_labels),
            "Command": shlex.split(command.entrypoint) if command.entrypoint else None,
            "Args": command.args,
            "Hostname": command.hostname,
            "Env": command.env,
            "Dir": command.workdir,
            "User": command.user,
            "Groups": command.groups,
            "StopSignal": command.stop_signal,
            "TTY": command.tty,
            "ReadOnly": command.read_only,
            "Mounts": command.mounts,
            "Hosts": [swarm_host(h) for h in command.hosts],
            "StopGracePeriod": command.stop_grace_period,
            "Healthcheck": _health(command),
            "Sysctls": kv_map(command.sysctls),
            "CapabilityAdd": cap_add,
            "CapabilityDrop": cap_drop,
        }
    )
    if command.stop_grace_period is not None:
        container["StopGracePeriod"] = command.stop_grace_period  # 0 is a value here
    container["Init"] = bool(command.init)  # the CLI always sends it
    container["DNSConfig"] = _omit_empty(
        {
            "Nameservers": command.dns,
            "Search": command.dns_search,
            "Options": command.dns_options,
        }
    )
    networks = sorted(
        ({**n, "Target": resolve_network(n["Target"])} for n in command.networks),
        key=lambda n: str(n["Target"]),
    )
    task: dict[str, Any] = {
        "ContainerSpec": container,
        "Resources": {
            "Limits": _omit_empty(
                {
                    "NanoCPUs": command.limit_cpu,
                    "MemoryBytes": command.limit_memory,
                    "Pids": command.limit_pids,
                }
            ),
            "Reservations": _omit_empty(
                {"NanoCPUs": command.reserve_cpu, "MemoryBytes": command.reserve_memory}
            ),
        },
        "Placement": _omit_empty({"Constraints": command.constraints}),
    }
    if networks:
        task["Networks"] = networks
    restart = _restart(command)
    if restart:
        task["RestartPolicy"] = {**RESTART_DEFAULTS, **restart}
    log_driver = _log_driver(command)
    if log_driver is not None:
        task["LogDriver"] = log_driver
    if command.mode == "global":
        mode: dict[str, Any] = {"Global": {}}
    else:
        replicated = {"Replicas": command.replicas} if command.replicas is not None else {}
        mode = {"Replicated": replicated}
    spec: dict[str, Any] = {"Name": command.name or "", "TaskTemplate": task, "Mode": mode}
    labels = kv_map(command.labels)
    if labels:
        spec["Labels"] = labels
    for prefix, key in (("update", "UpdateConfig"), ("rollback", "RollbackConfig")):
        changed = _group(command, prefix)
        if changed:
            spec[key] = {**UPDATE_DEFAULTS, **changed}
    endpoint: dict[str, Any] = {"Mode": command.endpoint_mode or "vip"}
    if command.publish:
        endpoint["Ports"] = command.publish
    spec["EndpointSpec"] = endpoint
    return spec


def _set_or_drop(section: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, "", [], {}):
        section.pop(key, None)
    else:
        section[key] = value


def _env_key(entry: str) -> str:
    return entry.partition("=")[0]


def _update_map(current: dict[str, str] | None, add: list[str], remove: list[str]) -> Any:
    found = dict(current or {})
    for key in remove:
        found.pop(key, None)
    found.update(kv_map(add))
    return found


def update_spec(
    command: UpdateService, current: dict[str, Any], resolve_network: Callable[[str], str]
) -> dict[str, Any]:
    """The whole ServiceSpec POST /services/{id}/update sends: the current one with the
    flags applied, as the CLI's updateService applies them."""
    spec = copy.deepcopy(current)
    task = spec.setdefault("TaskTemplate", {})
    container = task.setdefault("ContainerSpec", {})
    if command.label_add or command.label_rm:
        _set_or_drop(
            spec, "Labels", _update_map(spec.get("Labels"), command.label_add, command.label_rm)
        )
    if command.container_label_add or command.container_label_rm:
        labels = _update_map(
            container.get("Labels"), command.container_label_add, command.container_label_rm
        )
        _set_or_drop(container, "Labels", labels)
    if command.image is not None:
        container["Image"] = command.image
    if command.args is not None:
        _set_or_drop(container, "Args", shlex.split(command.args))
    if command.entrypoint is not None:
        _set_or_drop(container, "Command", shlex.split(command.entrypoint))
    if command.env_add or command.env_rm:
        removed = set(command.env_rm)
        kept = [e for e in container.get("Env") or [] if _env_key(e) not in removed]
        if command.env_add:
            merged = {_env_key(e): e for e in kept}
            merged.update({_env_key(e): e for e in command.env_add})
            # The CLI rebuilds the list from a Go map (random order): sorted here.
            kept = sorted(merged.values())
        _set_or_drop(container, "Env", kept)
    for flag, key in (("workdir", "Dir"), ("user", "User"), ("hostname", "Hostname")):
        if getattr(command, flag) is not None:
            _set_or_drop(container, key, getattr(command, flag))
    for flag, key in (("init", "Init"), ("read_only", "ReadOnly"), ("tty", "TTY")):
        if getattr(command, flag) is not None:
            container[key] = getattr(command, flag)
    if command.stop_signal is not None:
        _set_or_drop(container, "StopSignal", command.stop_signal)
    if command.stop_grace_period is not None:
        container["StopGracePeriod"] = command.stop_grace_period
    if command.mount_add or command.mount_rm:
        targets = {m["Target"] for m in command.mount_add} | set(command.mount_rm)
        mounts = [m for m in container.get("Mounts") or [] if m.get("Target") not in targets]
        mounts += command.mount_add
        _set_or_drop(container, "Mounts", sorted(mounts, key=lambda m: str(m.get("Target"))))
    if command.sysctl_add or command.sysctl_rm:
        sysctls = _update_map(container.get("Sysctls"), command.sysctl_add, command.sysctl_rm)
        _set_or_drop(container, "Sysctls", sysctls)
    if command.cap_add or command.cap_drop:
        # updateCapabilities: a tri-state. Dropping one that was added takes it off the
        # added list only; adding one that was dropped takes it off the dropped list only;
        # adding wins over dropping in one command. `RESET` empties a list first.
        adds = {capability(c) for c in container.get("CapabilityAdd") or []}
        drops = {capability(c) for c in container.get("CapabilityDrop") or []}
        new_add = {capability(c) for c in command.cap_add}
        new_drop = {capability(c) for c in command.cap_drop}
        if "RESET" in new_add:
            adds, new_add = set(), new_add - {"RESET"}
        if "RESET" in new_drop:
            drops, new_drop = set(), new_drop - {"RESET"}
        for cap in new_drop - new_add:
            if cap in adds:
                adds.discard(cap)
            else:
                drops.add(cap)
        for cap in new_add:
            if cap in drops:
                drops.discard(cap)
            else:
                adds.add(cap)
        _set_or_drop(container, "CapabilityAdd", sorted(adds))
        _set_or_drop(container, "CapabilityDrop", sorted(drops))
    health = _health(command)
    if health is not None:
        if command.no_healthcheck:
            container["Healthcheck"] = health
        else:
            merged = dict(container.get("Healthcheck") or {})
            if merged.get("Test") == ["NONE"]:
                merged.pop("Test")
            merged.update(health)
            container["Healthcheck"] = merged
    if any(v is not None for v in (command.limit_cpu, command.limit_memory, command.limit_pids)):
        limits = task.setdefault("Resources", {}).setdefault("Limits", {})
        for key, value in (
            ("NanoCPUs", command.limit_cpu),
            ("MemoryBytes", command.limit_memory),
            ("Pids", command.limit_pids),
        ):
            if value is not None:
                _set_or_drop(limits, key, value or None)
    if command.reserve_cpu is not None or command.reserve_memory is not None:
        reservations = task.setdefault("Resources", {}).setdefault("Reservations", {})
        for key, value in (
            ("NanoCPUs", command.reserve_cpu),
            ("MemoryBytes", command.reserve_memory),
        ):
            if value is not None:
                _set_or_drop(reservations, key, value or None)
    restart = _restart(command)
    if restart:
        task["RestartPolicy"] = {**(task.get("RestartPolicy") or RESTART_DEFAULTS), **restart}
    if command.constraint_add or command.constraint_rm:
        placement = task.setdefault("Placement", {})
        removed = set(command.constraint_rm)
        constraints = [c for c in placement.get("Constraints") or [] if c not in removed]
        constraints += [c for c in command.constraint_add if c not in constraints]
        _set_or_drop(placement, "Constraints", constraints)
    if command.network_add or command.network_rm:
        removed_ids = {resolve_network(n) for n in command.network_rm}
        networks = [n for n in task.get("Networks") or [] if n.get("Target") not in removed_ids]
        networks += [{**n, "Target": resolve_network(n["Target"])} for n in command.network_add]
        _set_or_drop(task, "Networks", sorted(networks, key=lambda n: str(n["Target"])))
    log_driver = _log_driver(command)
    if log_driver is not None:
        task["LogDriver"] = log_driver
    if command.force:
        task["ForceUpdate"] = int(task.get("ForceUpdate") or 0) + 1
    if command.replicas is not None:
        mode = spec.get("Mode") or {}
        if "Replicated" not in mode:
            raise ValueError("replicas can only be used with replicated mode")
        mode["Replicated"] = {"Replicas": command.replicas}
    for prefix, key in (("update", "UpdateConfig"), ("rollback", "RollbackConfig")):
        changed = _group(command, prefix)
        if changed:
            spec[key] = {**(spec.get(key) or UPDATE_DEFAULTS), **changed}
    if command.endpoint_mode is not None:
        spec.setdefault("EndpointSpec", {})["Mode"] = command.endpoint_mode
    if command.publish_add or command.publish_rm:
        endpoint = spec.setdefault("EndpointSpec", {})
        _set_or_drop(endpoint, "Ports", _update_ports(endpoint.get("Ports") or [], command))
    return spec


def _port_text(port: dict[str, Any]) -> str:
    """portConfigToString: the key ports are told apart and sorted by."""
    return (
        f"{port.get('PublishedPort', 0)}:{port.get('TargetPort', 0)}"
        f"/{port.get('Protocol', '')}/{port.get('PublishMode', '')}"
    )


def _update_ports(current: list[dict[str, Any]], command: UpdateService) -> list[dict[str, Any]]:
    """updatePorts: `--publish-rm` takes a port as `-p` does and removes those with its
    target port, protocol and mode; `--publish-add` adds what is not there; sorted."""
    found: dict[str, dict[str, Any]] = {}
    for port in current:
        found.setdefault(_port_text(port), port)
    removed = [p for spec in command.publish_rm for p in parse_service_port(spec)]

    def same(port: dict[str, Any], gone: dict[str, Any]) -> bool:
        return (
            (port.get("Protocol") or "tcp") == (gone.get("Protocol") or "tcp")
            and port.get("TargetPort") == gone.get("TargetPort")
            and (port.get("PublishMode") or "ingress") == (gone.get("PublishMode") or "ingress")
        )

    ports = [p for p in found.values() if not any(same(p, gone) for gone in removed)]
    ports += [p for p in command.publish_add if _port_text(p) not in found]
    return sorted(ports, key=_port_text)
