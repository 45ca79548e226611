"""Command models for Swarm: `service` and `node` verbs, as the docker CLI takes them.

Values are checked here with the CLI's own rules (durations, CPUs, sizes, mounts, ports);
the Engine API bodies are built from them in handlers/service_spec.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from handlers.commands import Command, Filters, Mutation, PointInTime, check_health_flags
from handlers.units import go_duration, nano_cpus, ram_in_bytes
from handlers.values import check_extra_host, parse_mount, parse_network


def _text(convert: Any) -> BeforeValidator:
    return BeforeValidator(lambda v: convert(v) if isinstance(v, str) else v)


def _each(convert: Any) -> BeforeValidator:
    return BeforeValidator(lambda vs: [convert(v) if isinstance(v, str) else v for v in vs or []])


def _duration(text: str) -> int:
    return go_duration(text)


def _uint(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax') from None
    if value < 0:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return value


def _ratio(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None


def _env(value: str) -> str:
    if "=" not in value:
        # The CLI would copy the variable from its own environment: here that is the bot's.
        raise ValueError(
            "give a value (NAME=value): a bare NAME would copy the bot's own environment"
        )
    return value


def _network(value: str) -> dict[str, Any]:
    attachment = parse_network(value)
    if attachment.ipv4 or attachment.ipv6 or attachment.mac_address or attachment.links:
        raise ValueError("a service's network attachment takes name, alias and driver-opt only")
    found: dict[str, Any] = {"Target": attachment.target}
    if attachment.aliases:
        found["Aliases"] = list(attachment.aliases)
    if attachment.driver_opts:
        found["DriverOpts"] = dict(attachment.driver_opts)
    return found


_PROTOCOLS = {"tcp", "udp", "sctp"}


def parse_service_port(spec: str) -> list[dict[str, Any]]:
    """`-p 8080:80`, `-p 8080:80/udp`, `-p 80`, `-p 8000-8001:80-81` or the long
    `published=8080,target=80,protocol=udp,mode=host`, as swarm PortConfigs."""
    if "=" in spec:
        port: dict[str, Any] = {"Protocol": "tcp", "PublishMode": "ingress"}
        for field in spec.split(","):
            key, eq, value = field.partition("=")
            key, value = key.strip().lower(), value.strip()
            if not eq:
                raise ValueError(f"invalid field {field}")
            if key == "protocol":
                if value not in _PROTOCOLS:
                    raise ValueError(f"invalid protocol value '{value}'")
                port["Protocol"] = value
            elif key == "mode":
                if value not in ("ingress", "host"):
                    raise ValueError(f"invalid publish mode value ({value})")
                port["PublishMode"] = value
            elif key == "target":
                port["TargetPort"] = _uint(value)
            elif key == "published":
                port["PublishedPort"] = _uint(value)
            else:
                raise ValueError(f"invalid field key {key}")
        if not port.get("TargetPort"):
            raise ValueError("missing mandatory field 'target'")
        return [port]
    body, _, protocol = spec.partition("/")
    protocol = protocol or "tcp"
    if protocol not in _PROTOCOLS:
        raise ValueError(f"invalid proto: {protocol}")
    published, colon, target = body.rpartition(":")
    if not colon:
        published, target = "", body
    if ":" in published:
        raise ValueError("hostip is not supported")

    def span(text: str) -> tuple[int, int]:
        low, dash, high = text.partition("-")
        start = _uint(low)
        return start, _uint(high) if dash else start

    t_start, t_end = span(target)
    p_start, p_end = span(published) if published else (0, 0)
    if published and p_end - p_start != t_end - t_start:
        raise ValueError(f"invalid ranges specified for container and host Ports: {spec}")
    ports = []
    for n in range(t_end - t_start + 1):
        port = {"Protocol": protocol, "TargetPort": t_start + n, "PublishMode": "ingress"}
        if published:
            port["PublishedPort"] = p_start + n
        ports.append(port)
    return ports


def _port_removal(value: str) -> str:
    """`--publish-rm` takes a port as `-p` does (its target port is what it removes)."""
    parse_service_port(value)
    return value


def _ports(values: Any) -> Any:
    out: list[Any] = []
    for value in values or []:
        out.extend(parse_service_port(value) if isinstance(value, str) else [value])
    return out


Duration = Annotated[int | None, _text(_duration)]
Cpus = Annotated[int | None, _text(nano_cpus)]
Bytes = Annotated[int | None, _text(ram_in_bytes)]


class ServiceSettings(Command):
    """What `service create` and `service update` share (flags with the same meaning)."""

    detach: bool = False
    quiet: bool = False
    workdir: str | None = Field(None, title="-w, --workdir")
    user: str | None = Field(None, title="-u, --user")
    hostname: str | None = Field(None, title="--hostname")
    entrypoint: str | None = Field(None, title="--entrypoint")
    limit_cpu: Cpus = Field(None, title="--limit-cpu")
    limit_memory: Bytes = Field(None, title="--limit-memory")
    limit_pids: int | None = Field(None, title="--limit-pids")
    reserve_cpu: Cpus = Field(None, title="--reserve-cpu")
    reserve_memory: Bytes = Field(None, title="--reserve-memory")
    stop_grace_period: Duration = Field(None, title="--stop-grace-period")
    stop_signal: str | None = Field(None, title="--stop-signal")
    restart_condition: Literal["none", "on-failure", "any"] | None = Field(
        None, title="--restart-condition"
    )
    restart_delay: Duration = Field(None, title="--restart-delay")
    restart_max_attempts: Annotated[int | None, _text(_uint)] = Field(
        None, title="--restart-max-attempts"
    )
    restart_window: Duration = Field(None, title="--restart-window")
    update_parallelism: Annotated[int | None, _text(_uint)] = Field(
        None, title="--update-parallelism"
    )
    update_delay: Duration = Field(None, title="--update-delay")
    update_monitor: Duration = Field(None, title="--update-monitor")
    update_failure_action: Literal["pause", "continue", "rollback"] | None = Field(
        None, title="--update-failure-action"
    )
    update_max_failure_ratio: Annotated[float | None, _text(_ratio)] = Field(
        None, title="--update-max-failure-ratio"
    )
    update_order: Literal["start-first", "stop-first"] | None = Field(None, title="--update-order")
    rollback_parallelism: Annotated[int | None, _text(_uint)] = Field(
        None, title="--rollback-parallelism"
    )
    rollback_delay: Duration = Field(None, title="--rollback-delay")
    rollback_monitor: Duration = Field(None, title="--rollback-monitor")
    rollback_failure_action: Literal["pause", "continue"] | None = Field(
        None, title="--rollback-failure-action"
    )
    rollback_max_failure_ratio: Annotated[float | None, _text(_ratio)] = Field(
        None, title="--rollback-max-failure-ratio"
    )
    rollback_order: Literal["start-first", "stop-first"] | None = Field(
        None, title="--rollback-order"
    )
    health_cmd: str | None = Field(None, title="--health-cmd")
    health_interval: Duration = Field(None, title="--health-interval")
    health_timeout: Duration = Field(None, title="--health-timeout")
    health_start_period: Duration = Field(None, title="--health-start-period")
    health_retries: int | None = Field(None, title="--health-retries")
    no_healthcheck: bool | None = Field(None, title="--no-healthcheck")
    init: bool | None = Field(None, title="--init")
    read_only: bool | None = Field(None, title="--read-only")
    tty: bool | None = Field(None, title="-t, --tty")
    log_driver: str | None = Field(None, title="--log-driver")
    log_opts: list[str] = Field(default_factory=list, title="--log-opt")
    endpoint_mode: Literal["vip", "dnsrr"] | None = Field(None, title="--endpoint-mode")
    no_resolve_image: bool = False

    @model_validator(mode="after")
    def _health(self) -> ServiceSettings:
        check_health_flags(self)
        return self


class CreateService(ServiceSettings, Mutation):
    verb: Literal["service:create"] = "service:create"
    past_tense = "created"
    image: str
    args: list[str] = Field(default_factory=list)
    name: str | None = Field(None, title="--name")
    mode: Literal["replicated", "global"] = Field("replicated", title="--mode")
    replicas: Annotated[int | None, _text(_uint)] = Field(None, title="--replicas")
    env: Annotated[list[str], _each(_env)] = Field(default_factory=list, title="-e, --env")
    labels: list[str] = Field(default_factory=list, title="-l, --label")
    container_labels: list[str] = Field(default_factory=list, title="--container-label")
    mounts: Annotated[list[dict[str, Any]], _each(parse_mount)] = Field(
        default_factory=list, title="--mount"
    )
    networks: Annotated[list[dict[str, Any]], _each(_network)] = Field(
        default_factory=list, title="--network"
    )
    publish: Annotated[list[dict[str, Any]], BeforeValidator(_ports)] = Field(
        default_factory=list, title="-p, --publish"
    )
    constraints: list[str] = Field(default_factory=list, title="--constraint")
    cap_add: list[str] = Field(default_factory=list, title="--cap-add")
    cap_drop: list[str] = Field(default_factory=list, title="--cap-drop")
    sysctls: list[str] = Field(default_factory=list, title="--sysctl")
    dns: list[str] = Field(default_factory=list, title="--dns")
    dns_search: list[str] = Field(default_factory=list, title="--dns-search")
    dns_options: list[str] = Field(default_factory=list, title="--dns-option")
    hosts: Annotated[list[str], _each(check_extra_host)] = Field(
        default_factory=list, title="--host"
    )
    groups: list[str] = Field(default_factory=list, title="--group")

    @model_validator(mode="after")
    def _mode(self) -> CreateService:
        if self.mode == "global" and self.replicas is not None:
            raise ValueError("replicas can only be used with replicated or replicated-job mode")
        return self


class UpdateService(ServiceSettings, Mutation):
    verb: Literal["service:update"] = "service:update"
    protects_target = True
    past_tense = "updated"
    service: str
    image: str | None = Field(None, title="--image")
    args: str | None = Field(None, title="--args")
    replicas: Annotated[int | None, _text(_uint)] = Field(None, title="--replicas")
    force: bool = False
    rollback: bool = False
    env_add: Annotated[list[str], _each(_env)] = Field(default_factory=list, title="--env-add")
    env_rm: list[str] = Field(default_factory=list, title="--env-rm")
    label_add: list[str] = Field(default_factory=list, title="--label-add")
    label_rm: list[str] = Field(default_factory=list, title="--label-rm")
    container_label_add: list[str] = Field(default_factory=list, title="--container-label-add")
    container_label_rm: list[str] = Field(default_factory=list, title="--container-label-rm")
    mount_add: Annotated[list[dict[str, Any]], _each(parse_mount)] = Field(
        default_factory=list, title="--mount-add"
    )
    mount_rm: list[str] = Field(default_factory=list, title="--mount-rm")
    network_add: Annotated[list[dict[str, Any]], _each(_network)] = Field(
        default_factory=list, title="--network-add"
    )
    network_rm: list[str] = Field(default_factory=list, title="--network-rm")
    publish_add: Annotated[list[dict[str, Any]], BeforeValidator(_ports)] = Field(
        default_factory=list, title="--publish-add"
    )
    publish_rm: Annotated[list[str], _each(_port_removal)] = Field(
        default_factory=list, title="--publish-rm"
    )
    constraint_add: list[str] = Field(default_factory=list, title="--constraint-add")
    constraint_rm: list[str] = Field(default_factory=list, title="--constraint-rm")
    cap_add: list[str] = Field(default_factory=list, title="--cap-add")
    cap_drop: list[str] = Field(default_factory=list, title="--cap-drop")
    sysctl_add: list[str] = Field(default_factory=list, title="--sysctl-add")
    sysctl_rm: list[str] = Field(default_factory=list, title="--sysctl-rm")


class ListServices(Command):
    verb: Literal["service:ls"] = "service:ls"
    filters: Filters = Field(default_factory=dict)
    quiet: bool = False
    format: str | None = Field(default=None, title="--format")


class ServiceTasks(Command):
    """`service ps`: the tasks of one or more services, in one listing request."""

    verb: Literal["service:ps"] = "service:ps"
    services: list[str] = Field(min_length=1)
    filters: Filters = Field(default_factory=dict)
    quiet: bool = False
    no_trunc: bool = False
    no_resolve: bool = False
    format: str | None = Field(default=None, title="--format")


class InspectSwarmObjects(Command):
    verb: Literal["service:inspect", "node:inspect"]
    names: list[str] = Field(min_length=1)
    format: str | None = Field(default=None, title="-f, --format")
    pretty: bool = False


class ServiceLogs(Command):
    verb: Literal["service:logs"] = "service:logs"
    service: str
    tail: str = Field("all", title="-n, --tail")
    since: PointInTime = Field(None, title="--since")  # checked before the ack
    timestamps: bool = False
    no_task_ids: bool = False
    no_trunc: bool = False
    raw: bool = False

    @model_validator(mode="after")
    def _tail(self) -> ServiceLogs:
        if self.tail != "all" and not self.tail.isdigit():
            raise ValueError(f"invalid tail value: {self.tail} (a number or all)")
        return self


def _scale(value: str) -> tuple[str, int]:
    name, eq, count = value.partition("=")
    if not eq or not name:
        raise ValueError(f"invalid scale specifier '{value}'. Expected format is SERVICE=REPLICAS")
    try:
        replicas = int(count, 10)
    except ValueError:
        raise ValueError(f"invalid replicas value {count}: invalid syntax") from None
    if replicas < 0:
        raise ValueError(f"invalid replicas value {count}: must be zero or more")
    return name, replicas


class ScaleServices(Mutation):
    verb: Literal["service:scale"] = "service:scale"
    protects_target = True
    past_tense = "scaled"
    scales: Annotated[list[tuple[str, int]], _each(_scale)] = Field(
        min_length=1, title="SERVICE=REPLICAS"
    )
    detach: bool = False


class RollbackService(Mutation):
    verb: Literal["service:rollback"] = "service:rollback"
    protects_target = True
    past_tense = "rolled back"
    service: str
    detach: bool = False
    quiet: bool = False


class RemoveServices(Mutation):
    verb: Literal["service:rm"] = "service:rm"
    protects_target = True
    past_tense = "removed"
    names: list[str] = Field(min_length=1)


class ListNodes(Command):
    verb: Literal["node:ls"] = "node:ls"
    filters: Filters = Field(default_factory=dict)
    quiet: bool = False
    format: str | None = Field(default=None, title="--format")


class UpdateNode(Mutation):
    verb: Literal["node:update"] = "node:update"
    past_tense = "updated"
    node: str
    availability: Literal["active", "pause", "drain"] | None = Field(None, title="--availability")
    role: Literal["worker", "manager"] | None = Field(None, title="--role")
    label_add: list[str] = Field(default_factory=list, title="--label-add")
    label_rm: list[str] = Field(default_factory=list, title="--label-rm")
