"""Command models: what a user asked for, parsed and validated, with no trace of Slack.

Each model's `verb` is both its discriminator and the name policy rules and the audit
use (`container:ls`, `image:pull`). Values arrive as the user typed them and are
checked here (sizes, durations, ports, restart policies) with the docker CLI's own
messages; a field's `title` is the flag a user typed, so errors can name it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from config.settings import LOCAL
from handlers.errors import UsageError
from handlers.intervals import check_crontab, mute_seconds, parse_every, parse_window
from handlers.units import go_duration, nano_cpus, point_in_time, ram_in_bytes
from handlers.values import (
    NetworkAttachment,
    PortBinding,
    RestartPolicy,
    capability_list,
    check_device_cgroup_rule,
    check_dns,
    check_dns_search,
    check_extra_host,
    check_ip,
    check_link,
    check_mac,
    duration_ns,
    is_user_network,
    namespace_mode,
    normalize_capability,
    parse_expose,
    parse_gpus,
    parse_mount,
    parse_network,
    parse_port_spec,
    parse_throttle_bps,
    parse_throttle_iops,
    parse_ulimit,
    parse_weight_device,
    split_device,
)

# docker's --filter key=value, repeated: {"status": ["exited", "created"]}
Filters = dict[str, list[str]]


def _text_or(convert: Any) -> BeforeValidator:
    return BeforeValidator(lambda v: convert(v) if isinstance(v, str) else v)


def _each(convert: Any) -> BeforeValidator:
    return BeforeValidator(lambda v: [convert(x) if isinstance(x, str) else x for x in v or []])


def _flat(convert: Any) -> BeforeValidator:
    def flatten(values: Any) -> list[Any]:
        out: list[Any] = []
        for value in values or []:
            out.extend(convert(value) if isinstance(value, str) else [value])
        return out

    return BeforeValidator(flatten)


def _options(values: Any) -> Any:
    if isinstance(values, list):
        return {k: v for k, _, v in (str(x).partition("=") for x in values)}
    return values


def _labels(values: Any) -> Any:
    """opts.ValidateLabel: a name, not empty once leading blanks go, with no blank in it."""
    if isinstance(values, list):
        for value in map(str, values):
            name = value.partition("=")[0].lstrip(" \t")
            if name == "":
                raise ValueError(f"invalid label '{value}': empty name")
            if " " in name or "\t" in name:
                raise ValueError(f"label '{name}' contains whitespaces")
    return _options(values)


def _env(value: str) -> str:
    if "=" not in value:
        # The CLI would copy the variable from its own environment: here that is the bot's.
        raise ValueError(
            "give a value (NAME=value): a bare NAME would copy the bot's own environment"
        )
    if value.startswith("="):
        raise ValueError(f"invalid environment variable: {value}")
    return value


def _last_per_name(name_of: Callable[[Any], str]) -> AfterValidator:
    """One entry per name, the last given, as the CLI keeps `-e A=1 -e A=2` (A=2) and
    repeated `--ulimit`s; the CLI's order is a Go map's, so keep the order of first mention."""
    return AfterValidator(lambda values: list({name_of(v): v for v in values}.values()))


def _network_list(values: Any) -> Any:
    """`--network`, each value a name or the extended form; conflicts are judged with the
    other network flags in RunContainer._networks."""
    if isinstance(values, str):
        values = [values]
    if isinstance(values, list):
        return [parse_network(v) if isinstance(v, str) else v for v in values]
    return values


def _endpoint(attachment: NetworkAttachment) -> dict[str, Any]:
    """One EndpointSettings, as parseNetworkAttachmentOpt fills it (only what is set)."""
    if attachment.target.strip() == "":
        raise ValueError("no name set for network")
    if not is_user_network(attachment.target):
        if attachment.aliases:
            raise ValueError("network-scoped aliases are only supported for user-defined networks")
        if attachment.links:
            raise ValueError("links are only supported for user-defined networks")
    endpoint: dict[str, Any] = {}
    if attachment.aliases:
        endpoint["Aliases"] = list(attachment.aliases)
    if attachment.driver_opts:
        endpoint["DriverOpts"] = dict(attachment.driver_opts)
    if attachment.links:
        endpoint["Links"] = list(attachment.links)
    if attachment.ipv4 or attachment.ipv6 or attachment.link_local_ips:
        ipam: dict[str, Any] = {
            "IPv4Address": attachment.ipv4,
            "IPv6Address": attachment.ipv6,
        }
        if attachment.link_local_ips:
            ipam["LinkLocalIPs"] = list(attachment.link_local_ips)
        endpoint["IPAMConfig"] = ipam
    if attachment.mac_address:
        check_mac(attachment.mac_address)
        endpoint["MacAddress"] = attachment.mac_address
    if attachment.gw_priority:
        endpoint["GwPriority"] = attachment.gw_priority
    return endpoint


def _cgroupns(value: str) -> str:
    if value not in ("", "host", "private"):
        raise ValueError("--cgroupns: invalid CGROUP mode")
    return value


def _storage_opts(values: Any) -> Any:
    if isinstance(values, list):
        for value in map(str, values):
            if "=" not in value:
                raise ValueError("invalid storage option")
    return _options(values)


def _device(spec: str) -> str:
    split_device(spec)
    return spec


def _pull(value: Any) -> Any:
    if value not in ("always", "missing", "never"):
        raise ValueError(
            f'invalid pull option: \'{value}\': must be one of "always", "missing" or "never"'
        )
    return value


# The sysctls a container has a namespace of its own for: the CLI allows only these.
_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall"}
_SYSCTLS |= {"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}


def _sysctls(values: Any) -> Any:
    if isinstance(values, list):
        for value in map(str, values):
            name, eq, _ = value.partition("=")
            if not eq:
                raise ValueError(f"{value} is not a valid sysctl value")
            if name not in _SYSCTLS and not name.startswith(("fs.mqueue.", "net.")):
                raise ValueError(f"sysctl '{value}' is not allowed")
    return _options(values)


def _memory_swap(value: str) -> int:
    return -1 if value.strip() == "-1" else ram_in_bytes(value)


# The checks below used to wait for the handler, after Slack's ack; a model makes them when
# it is built, so a typo is answered at once. The words are the ones the handlers said.


def _bind_sources(values: Any) -> Any:
    """-v SOURCE:TARGET: a relative SOURCE would be resolved where the CLI runs, which for
    chat is the bot's machine; the engine would read it as a volume name, or refuse it."""
    for spec in values or []:
        if isinstance(spec, str) and ":" in spec and spec.startswith((".", "~")):
            raise UsageError(
                f'invalid argument "{spec}" for "-v, --volume" flag: a relative host path '
                "would be resolved on the bot's machine; give an absolute path",
                token=spec,
            )
    return values


def _tail(value: str) -> str:
    """--tail: a number of lines, or `all` (the handler turns it into the number)."""
    if value != "all" and not value.lstrip("-").isdigit():
        raise ValueError('a number or "all"')
    return value


def _point_in_time(value: str | None) -> str | None:
    """--since/--until: a duration before now, a unix time or an RFC 3339 time. Kept as typed:
    a relative time is measured from when the command runs, not from when it was parsed."""
    if value is not None:
        point_in_time(value)
    return value


def _go_duration(value: str | None) -> str | None:
    if value is not None:
        go_duration(value)
    return value


def _window(value: str | None) -> str | None:
    if value is not None:
        parse_window(value)
    return value


def _mute_duration(value: str) -> str:
    """A mute's DURATION, a positional: the CLI's words for a flag would misname it."""
    try:
        seconds = mute_seconds(value)
    except ValueError as exc:
        raise UsageError(f'invalid argument "{value}" for "DURATION": {exc}', token=value) from None
    if seconds < 1:
        raise UsageError("mute for at least 1s", token=value)
    return value


PointInTime = Annotated[str | None, AfterValidator(_point_in_time)]


Bytes = Annotated[int | None, _text_or(ram_in_bytes)]


class Command(BaseModel):
    """A command model. Its facts are class attributes, read by every table that needs them
    (handlers/verbs.py gathers them by verb). A model that serves several verbs
    (ContainerAction: stop, kill, restart...) gives a fact per verb: a set of the verbs it
    holds for, or a mapping from verb to word; True or one word holds for all its verbs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the engine to run against, by configured host name
    host: str = LOCAL
    #: a change of state is announced in the channel; a read is answered to the requester
    changes_state: ClassVar[bool] = False
    #: pull, push and prune report progress while they run
    long_running: ClassVar[bool] = False
    #: a protected target (the policy's label, Dockhand's own containers) is for admins only
    #: (bot/protection.py; handlers/targets.py names the targets)
    protects_target: ClassVar[bool | frozenset[str]] = False
    #: it (re)starts containers: each one passes the safety check's container.start first
    starts_containers: ClassVar[bool | frozenset[str]] = False
    #: what it did, as a result says it ("stopped: web"); empty: the verb's own word
    past_tense: ClassVar[str | Mapping[str, str]] = ""


class Mutation(Command):
    changes_state: ClassVar[bool] = True


class Help(Command):
    verb: Literal["help"] = "help"
    topic: str | None = None


class ShowVersion(Command):
    verb: Literal["system:version"] = "system:version"
    format: str | None = Field(default=None, title="-f, --format")


class ShowInfo(Command):
    verb: Literal["system:info"] = "system:info"
    format: str | None = Field(default=None, title="-f, --format")


class ListContainers(Command):
    verb: Literal["container:ls"] = "container:ls"
    all: bool = False
    quiet: bool = False
    no_trunc: bool = False
    latest: bool = False
    last: int = -1
    filters: Filters = Field(default_factory=dict)
    size: bool = False
    format: str | None = Field(default=None, title="--format")


class ListImages(Command):
    verb: Literal["image:ls"] = "image:ls"
    all: bool = False
    quiet: bool = False
    digests: bool = False
    no_trunc: bool = False
    repository: str | None = None
    filters: Filters = Field(default_factory=dict)
    format: str | None = Field(default=None, title="--format")


# --- containers -------------------------------------------------------------------------


def check_health_flags(flags: Any) -> None:
    """`--no-healthcheck` beside any `--health-*` flag, as the CLI refuses it (run, create,
    service create and update share the flags)."""
    given = (
        flags.health_cmd,
        flags.health_interval,
        flags.health_timeout,
        flags.health_start_period,
        flags.health_retries,
    )
    if flags.no_healthcheck and any(v is not None for v in given):
        raise ValueError("--no-healthcheck conflicts with --health-* options")


class RunContainer(Mutation):
    """`run` and `create`: everything the Engine's create call takes, in the CLI's terms."""

    verb: Literal["container:run", "container:create"] = "container:run"
    past_tense = {"container:create": "created"}
    starts_containers = frozenset({"container:run"})
    image: str
    command: list[str] = Field(default_factory=list)
    detach: bool = False
    name: str | None = None
    auto_remove: bool = Field(False, title="--rm")
    env: Annotated[list[str], _each(_env), _last_per_name(lambda e: e.partition("=")[0])] = Field(
        default_factory=list, title="-e, --env"
    )
    labels: Annotated[dict[str, str], BeforeValidator(_labels)] = Field(
        default_factory=dict, title="-l, --label"
    )
    workdir: str | None = Field(None, title="-w, --workdir")
    entrypoint: str | None = Field(None, title="--entrypoint")
    user: str | None = Field(None, title="-u, --user")
    restart: Annotated[RestartPolicy | None, _text_or(RestartPolicy.parse)] = Field(
        None, title="--restart"
    )
    add_hosts: Annotated[list[str], _each(check_extra_host)] = Field(
        default_factory=list, title="--add-host"
    )
    dns: Annotated[list[str], _each(check_dns)] = Field(default_factory=list, title="--dns")
    expose: Annotated[list[str], _flat(parse_expose)] = Field(
        default_factory=list, title="--expose"
    )
    mac_address: Annotated[str | None, _text_or(check_mac)] = Field(None, title="--mac-address")
    networks: Annotated[list[NetworkAttachment], BeforeValidator(_network_list)] = Field(
        default_factory=list, title="--network"
    )
    links: Annotated[list[str], _each(check_link)] = Field(default_factory=list, title="--link")
    link_local_ips: list[str] = Field(default_factory=list, title="--link-local-ip")
    hostname: str | None = Field(None, title="-h, --hostname")
    publish: Annotated[list[PortBinding], _flat(parse_port_spec)] = Field(
        default_factory=list, title="-p, --publish"
    )
    publish_all: bool = False
    cpuset_cpus: str | None = Field(None, title="--cpuset-cpus")
    cpus: Annotated[int | None, _text_or(nano_cpus)] = Field(None, title="--cpus")
    cpu_shares: int | None = Field(None, title="-c, --cpu-shares")
    memory: Bytes = Field(None, title="-m, --memory")
    memory_swap: Annotated[int | None, _text_or(_memory_swap)] = Field(None, title="--memory-swap")
    memory_reservation: Bytes = Field(None, title="--memory-reservation")
    shm_size: Bytes = Field(None, title="--shm-size")
    pids_limit: int | None = Field(None, title="--pids-limit")
    volumes: Annotated[list[str], AfterValidator(_bind_sources)] = Field(
        default_factory=list, title="-v, --volume"
    )
    mounts: Annotated[list[dict[str, Any]], _each(parse_mount)] = Field(
        default_factory=list, title="--mount"
    )
    tmpfs: list[str] = Field(default_factory=list, title="--tmpfs")
    read_only: bool = False
    init: bool | None = None  # None: the engine's default (dockerd --init)
    stop_signal: str | None = None
    stop_timeout: int | None = None
    health_cmd: str | None = Field(None, title="--health-cmd")
    health_interval: Annotated[
        int | None, _text_or(lambda v: duration_ns(v, "--health-interval"))
    ] = Field(None, title="--health-interval")
    health_timeout: Annotated[
        int | None, _text_or(lambda v: duration_ns(v, "--health-timeout"))
    ] = Field(None, title="--health-timeout")
    health_start_period: Annotated[
        int | None, _text_or(lambda v: duration_ns(v, "--health-start-period"))
    ] = Field(None, title="--health-start-period")
    health_retries: int | None = Field(None, ge=0, title="--health-retries")
    no_healthcheck: bool = False
    # Flags that give a container power over its host: parsed so policy can see them.
    privileged: bool = False
    cap_add: Annotated[list[str], _each(normalize_capability), AfterValidator(capability_list)] = (
        Field(default_factory=list, title="--cap-add")
    )
    cap_drop: Annotated[list[str], _each(normalize_capability), AfterValidator(capability_list)] = (
        Field(default_factory=list, title="--cap-drop")
    )
    gpus: Annotated[list[dict[str, Any]], _each(parse_gpus)] = Field(
        default_factory=list, title="--gpus"
    )
    device_cgroup_rules: Annotated[list[str], _each(check_device_cgroup_rule)] = Field(
        default_factory=list, title="--device-cgroup-rule"
    )
    blkio_weight: int | None = Field(None, ge=0, le=65535, title="--blkio-weight")
    blkio_weight_devices: Annotated[list[dict[str, Any]], _each(parse_weight_device)] = Field(
        default_factory=list, title="--blkio-weight-device"
    )
    device_read_bps: Annotated[list[dict[str, Any]], _each(parse_throttle_bps)] = Field(
        default_factory=list, title="--device-read-bps"
    )
    device_write_bps: Annotated[list[dict[str, Any]], _each(parse_throttle_bps)] = Field(
        default_factory=list, title="--device-write-bps"
    )
    device_read_iops: Annotated[list[dict[str, Any]], _each(parse_throttle_iops)] = Field(
        default_factory=list, title="--device-read-iops"
    )
    device_write_iops: Annotated[list[dict[str, Any]], _each(parse_throttle_iops)] = Field(
        default_factory=list, title="--device-write-iops"
    )
    cgroupns: Annotated[str | None, _text_or(_cgroupns)] = Field(None, title="--cgroupns")
    cgroup_parent: str | None = Field(None, title="--cgroup-parent")
    runtime: str | None = Field(None, title="--runtime")
    isolation: str | None = Field(None, title="--isolation")
    storage_opts: Annotated[dict[str, str], BeforeValidator(_storage_opts)] = Field(
        default_factory=dict, title="--storage-opt"
    )
    volume_driver: str | None = Field(None, title="--volume-driver")
    kernel_memory: Bytes = Field(None, title="--kernel-memory")
    cpu_rt_period: int | None = Field(None, title="--cpu-rt-period")
    cpu_rt_runtime: int | None = Field(None, title="--cpu-rt-runtime")
    annotations: Annotated[dict[str, str], BeforeValidator(_options)] = Field(
        default_factory=dict, title="--annotation"
    )
    devices: Annotated[list[str], _each(_device)] = Field(default_factory=list, title="--device")
    security_opt: list[str] = Field(default_factory=list)
    pid: Annotated[str | None, _text_or(namespace_mode("PID", shares_containers=True))] = Field(
        None, title="--pid"
    )
    ipc: str | None = None
    uts: Annotated[str | None, _text_or(namespace_mode("UTS", shares_containers=False))] = Field(
        None, title="--uts"
    )
    userns: Annotated[str | None, _text_or(namespace_mode("USER", shares_containers=False))] = (
        Field(None, title="--userns")
    )
    group_add: list[str] = Field(default_factory=list)
    platform: str | None = None
    pull: Annotated[Literal["always", "missing", "never"], BeforeValidator(_pull)] = Field(
        "missing", title="--pull"
    )
    log_driver: str | None = Field(None, title="--log-driver")
    log_opts: Annotated[dict[str, str], BeforeValidator(_options)] = Field(
        default_factory=dict, title="--log-opt"
    )
    ulimits: Annotated[
        list[dict[str, Any]], _each(parse_ulimit), _last_per_name(lambda u: u["Name"])
    ] = Field(default_factory=list, title="--ulimit")
    sysctls: Annotated[dict[str, str], BeforeValidator(_sysctls)] = Field(
        default_factory=dict, title="--sysctl"
    )
    dns_search: Annotated[list[str], _each(check_dns_search)] = Field(
        default_factory=list, title="--dns-search"
    )
    dns_options: list[str] = Field(default_factory=list, title="--dns-option")
    domainname: str | None = Field(None, title="--domainname")
    network_aliases: list[str] = Field(default_factory=list, title="--network-alias")
    ip: Annotated[str | None, _text_or(check_ip)] = Field(None, title="--ip")
    ip6: Annotated[str | None, _text_or(check_ip)] = Field(None, title="--ip6")
    volumes_from: list[str] = Field(default_factory=list, title="--volumes-from")
    oom_kill_disable: bool | None = None
    oom_score_adj: int | None = Field(None, ge=-1000, le=1000, title="--oom-score-adj")
    memory_swappiness: int | None = Field(None, ge=-1, le=100, title="--memory-swappiness")
    cpu_period: int | None = Field(None, title="--cpu-period")
    cpu_quota: int | None = Field(None, title="--cpu-quota")
    cpuset_mems: str | None = Field(None, title="--cpuset-mems")

    @model_validator(mode="after")
    def _conflicts(self) -> RunContainer:
        check_health_flags(self)
        if self.auto_remove and self.restart and self.restart.name != "no":
            raise ValueError("conflicting options: cannot specify both --restart and --rm")
        if self.verb == "container:create" and self.detach:
            raise ValueError("create takes no --detach: a created container is not started")
        if self.log_driver == "none" and self.log_opts:
            raise ValueError("invalid logging opts for driver none")
        self.endpoints()  # the CLI's network conflicts, in its words and its order
        return self

    @property
    def network(self) -> str:
        """The network the container is created on (HostConfig.NetworkMode)."""
        return self.networks[0].target if self.networks else "default"

    def endpoints(self) -> dict[str, dict[str, Any]]:
        """NetworkingConfig.EndpointsConfig as the CLI's parseNetworkOpts builds it: the
        plain flags (--network-alias, --ip, --ip6, --mac-address, --link-local-ip, --link)
        apply to the first network, and may not repeat what its extended form says."""
        given = self.networks or [NetworkAttachment(target="default")]
        endpoints: dict[str, dict[str, Any]] = {}
        user_defined = not_user_defined = False
        for i, attachment in enumerate(given):
            if is_user_network(attachment.target):
                user_defined = True
            else:
                not_user_defined = True
            if i == 0:
                attachment = self._with_flags(attachment)
            endpoint = _endpoint(attachment)
            if attachment.target in endpoints:
                raise ValueError(f'network "{attachment.target}" is specified multiple times')
            # One network and nothing set on it: no endpoint, the engine makes its own.
            if i == 0 and len(given) == 1 and not endpoint:
                continue
            endpoints[attachment.target] = endpoint
        if user_defined and not_user_defined:
            raise ValueError(
                "conflicting options: cannot attach both user-defined and non-user-defined "
                "network-modes"
            )
        if len(given) > 1:
            names = ", ".join(a.target for a in given)
            raise ValueError(
                f"a container joins one network when it is created (asked: {names}); "
                f"create it on {given[0].target} and add the others with `network connect`"
            )
        return endpoints

    def _with_flags(self, attachment: NetworkAttachment) -> NetworkAttachment:
        pairs = (
            (attachment.aliases, self.network_aliases, "--network-alias", "per-network alias"),
            (attachment.links, self.links, "--link", "per-network links"),
            (attachment.ipv4, self.ip, "--ip", "per-network IPv4 address"),
            (attachment.ipv6, self.ip6, "--ip6", "per-network IPv6 address"),
            (attachment.mac_address, self.mac_address, "--mac-address", "per-network MAC address"),
            (
                attachment.link_local_ips,
                self.link_local_ips,
                "--link-local-ip",
                "per-network link-local IP addresses",
            ),
        )
        for own, flag, name, what in pairs:
            if own and flag:
                raise ValueError(f"conflicting options: cannot specify both {name} and {what}")
        changes: dict[str, Any] = {}
        if self.network_aliases:
            changes["aliases"] = tuple(self.network_aliases)
        # On a user network --link is an alias of the endpoint; on the default bridge it is
        # a legacy link (HostConfig.Links) only.
        if is_user_network(attachment.target) and self.links:
            changes["links"] = tuple(self.links)
        if self.ip:
            changes["ipv4"] = self.ip
        if self.ip6:
            changes["ipv6"] = self.ip6
        if self.mac_address:
            changes["mac_address"] = self.mac_address
        if self.link_local_ips:
            changes["link_local_ips"] = tuple(self.link_local_ips)
        return attachment.model_copy(update=changes)

    @property
    def is_run(self) -> bool:
        return self.verb == "container:run"


class ContainerAction(Mutation):
    """start, stop, restart, kill, rm, pause, unpause: one verb over several containers."""

    verb: Literal[
        "container:start",
        "container:stop",
        "container:restart",
        "container:kill",
        "container:rm",
        "container:pause",
        "container:unpause",
    ]
    protects_target = frozenset(
        {"container:stop", "container:rm", "container:kill", "container:restart", "container:pause"}
    )
    #: start and unpause run a container again; restart stops it first: it is protected too
    starts_containers = frozenset({"container:start", "container:restart", "container:unpause"})
    past_tense = {
        "container:start": "started",
        "container:stop": "stopped",
        "container:restart": "restarted",
        "container:kill": "killed",
        "container:rm": "removed",
        "container:pause": "paused",
        "container:unpause": "unpaused",
    }
    containers: list[str] = Field(min_length=1)
    time: int | None = Field(None, title="-t, --time")
    signal: str | None = Field(None, title="-s, --signal")
    force: bool = False
    volumes: bool = False


class RenameContainer(Mutation):
    verb: Literal["container:rename"] = "container:rename"
    protects_target = True
    past_tense = "renamed"
    container: str
    new_name: str


class ContainerLogs(Command):
    verb: Literal["container:logs"] = "container:logs"
    container: str
    timestamps: bool = False
    tail: Annotated[str, AfterValidator(_tail)] = Field("all", title="-n, --tail")
    since: PointInTime = Field(None, title="--since")
    until: PointInTime = Field(None, title="--until")


class Inspect(Command):
    """`inspect` of containers, images, networks or volumes (`any` tries each, as the CLI)."""

    verb: Literal[
        "container:inspect", "image:inspect", "network:inspect", "volume:inspect", "inspect"
    ] = "inspect"
    names: list[str] = Field(min_length=1)
    format: str | None = Field(default=None, title="-f, --format")


class ContainerStats(Command):
    verb: Literal["container:stats"] = "container:stats"
    containers: list[str] = Field(default_factory=list)
    all: bool = False
    no_trunc: bool = False
    format: str | None = Field(default=None, title="--format")


class ContainerTop(Command):
    verb: Literal["container:top"] = "container:top"
    container: str
    ps_args: list[str] = Field(default_factory=list)


class ExecContainer(Command):
    """`exec`: one command in a running container, without a terminal, its output captured
    and bounded in time (DOCKHAND_RUN_WAIT). Its own verb, for admins by default.

    Answered to the requester alone, as a read is (they may Share it): what a command prints
    inside a container (`env`, `cat` of a config) is what inspect's Env redaction keeps from
    the channel. The audit records every exec whatever it printed."""

    verb: Literal["container:exec"] = "container:exec"
    # A command run inside is more than a change to it: a protected container's secrets
    # and files are for admins, whatever a policy grants exec to.
    protects_target = True
    container: str
    command: list[str] = Field(default_factory=list)
    detach: bool = False
    env: Annotated[list[str], _each(_env)] = Field(default_factory=list, title="-e, --env")
    user: str | None = Field(None, title="-u, --user")
    workdir: str | None = Field(None, title="-w, --workdir")
    privileged: bool = False

    @model_validator(mode="after")
    def _has_command(self) -> ExecContainer:
        if not self.command:
            raise ValueError('"exec" requires at least 2 arguments (CONTAINER COMMAND [ARG...])')
        return self


class ContainerPort(Command):
    verb: Literal["container:port"] = "container:port"
    container: str
    port: str | None = Field(None, title="PRIVATE_PORT[/PROTO]")


class ContainerDiff(Command):
    verb: Literal["container:diff"] = "container:diff"
    container: str


class WaitContainers(Command):
    """`wait`: each container's exit code, waited for at most DOCKHAND_RUN_WAIT seconds."""

    verb: Literal["container:wait"] = "container:wait"
    containers: list[str] = Field(min_length=1)


class ShowEvents(Command):
    """`events` over a closed window: chat cannot follow a stream, so --until defaults to
    now and --since to ten minutes before it."""

    verb: Literal["system:events"] = "system:events"
    since: PointInTime = Field(None, title="--since")
    until: PointInTime = Field(None, title="--until")
    filters: Filters = Field(default_factory=dict)
    format: str | None = Field(default=None, title="--format")


class UpdateContainers(Mutation):
    verb: Literal["container:update"] = "container:update"
    protects_target = True
    past_tense = "updated"
    containers: list[str] = Field(min_length=1)
    cpus: Annotated[int | None, _text_or(nano_cpus)] = Field(None, title="--cpus")
    cpu_shares: int | None = Field(None, title="-c, --cpu-shares")
    cpuset_cpus: str | None = Field(None, title="--cpuset-cpus")
    memory: Bytes = Field(None, title="-m, --memory")
    memory_swap: Annotated[int | None, _text_or(_memory_swap)] = Field(None, title="--memory-swap")
    memory_reservation: Bytes = Field(None, title="--memory-reservation")
    pids_limit: int | None = Field(None, title="--pids-limit")
    restart: Annotated[RestartPolicy | None, _text_or(RestartPolicy.parse)] = Field(
        None, title="--restart"
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateContainers:
        fields = (
            self.cpus,
            self.cpu_shares,
            self.cpuset_cpus,
            self.memory,
            self.memory_swap,
            self.memory_reservation,
            self.pids_limit,
            self.restart,
        )
        if all(v is None for v in fields):
            raise ValueError("you must provide one or more flags when using this command")
        return self


class CheckUpdates(Command):
    """`updates`: does each running container's registry serve a newer image for its
    reference? A read: it asks registries, changes nothing."""

    verb: Literal["image:updates"] = "image:updates"
    filters: Filters = Field(default_factory=dict)
    all: bool = False


class UpdateImage(Mutation):
    """`update-image`: pull the container's image reference, recreate it on the new image
    with the same configuration, roll back when the new one does not come up."""

    verb: Literal["container:update-image"] = "container:update-image"
    protects_target = True
    starts_containers = True
    container: str
    #: seconds to wait for a healthcheck to say healthy
    timeout: int = Field(300, ge=1, le=3600, title="--timeout")
    #: seconds a container without a healthcheck must keep running
    grace: int = Field(10, ge=0, le=600, title="--grace")
    long_running: ClassVar[bool] = True


class Prune(Mutation):
    """container, image, network, volume and system prune."""

    verb: Literal["container:prune", "image:prune", "network:prune", "volume:prune", "system:prune"]
    all: bool = False
    volumes: bool = False
    force: bool = False
    filters: Filters = Field(default_factory=dict)
    long_running: ClassVar[bool] = True


# --- images -----------------------------------------------------------------------------


class PullImage(Mutation):
    verb: Literal["image:pull"] = "image:pull"
    name: str
    all_tags: bool = False
    platform: str | None = None
    long_running: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_tag_or_all(self) -> PullImage:
        from handlers.registry import split_reference  # requests: loaded when pull is parsed

        if self.all_tags and split_reference(self.name)[1] is not None:
            raise UsageError("tag can't be used with --all-tags/-a", token=self.name)
        return self


class PushImage(Mutation):
    verb: Literal["image:push"] = "image:push"
    name: str
    all_tags: bool = False
    long_running: ClassVar[bool] = True


class TagImage(Mutation):
    verb: Literal["image:tag"] = "image:tag"
    past_tense = "tagged"
    source: str
    target: str

    @model_validator(mode="after")
    def _no_digest(self) -> TagImage:
        from handlers.registry import split_reference

        tag = split_reference(self.target)[1]
        if tag is not None and tag.startswith("sha256:"):
            raise UsageError("refusing to create a tag with a digest reference", token=self.target)
        return self


class RemoveImages(Mutation):
    verb: Literal["image:rm"] = "image:rm"
    past_tense = "removed"
    images: list[str] = Field(min_length=1)
    force: bool = False
    no_prune: bool = False


class ImageHistory(Command):
    verb: Literal["image:history"] = "image:history"
    image: str
    no_trunc: bool = False
    quiet: bool = False
    human: bool = True
    format: str | None = Field(default=None, title="--format")


class SearchImages(Command):
    verb: Literal["search"] = "search"
    term: str
    filters: Filters = Field(default_factory=dict)
    limit: int = Field(25, ge=1, le=100, title="--limit")
    no_trunc: bool = False


class Login(Mutation):
    verb: Literal["registry:login"] = "registry:login"
    past_tense = "logged in"
    server: str | None = None
    username: str | None = None


class Logout(Mutation):
    verb: Literal["registry:logout"] = "registry:logout"
    past_tense = "logged out"
    server: str | None = None


# --- networks, volumes, system ---------------------------------------------------------


class CreateNetwork(Mutation):
    verb: Literal["network:create"] = "network:create"
    past_tense = "created"
    name: str
    driver: str = "bridge"
    subnets: list[str] = Field(default_factory=list)
    gateways: list[str] = Field(default_factory=list)
    ip_ranges: list[str] = Field(default_factory=list)
    internal: bool = False
    attachable: bool = False
    ipv6: bool = False
    labels: Annotated[dict[str, str], BeforeValidator(_labels)] = Field(default_factory=dict)
    options: Annotated[dict[str, str], BeforeValidator(_options)] = Field(default_factory=dict)


class ListNetworks(Command):
    verb: Literal["network:ls"] = "network:ls"
    filters: Filters = Field(default_factory=dict)
    quiet: bool = False
    no_trunc: bool = False
    format: str | None = Field(default=None, title="--format")


class RemoveObjects(Mutation):
    """network rm, volume rm: several names, each answered."""

    verb: Literal["network:rm", "volume:rm"]
    past_tense = "removed"
    names: list[str] = Field(min_length=1)
    force: bool = False


class ConnectNetwork(Mutation):
    verb: Literal["network:connect", "network:disconnect"]
    protects_target = True
    past_tense = {"network:connect": "connected", "network:disconnect": "disconnected"}
    network: str
    container: str
    aliases: list[str] = Field(default_factory=list)
    ip: str | None = None
    force: bool = False


class CreateVolume(Mutation):
    verb: Literal["volume:create"] = "volume:create"
    past_tense = "created"
    name: str | None = None
    driver: str = "local"
    labels: Annotated[dict[str, str], BeforeValidator(_labels)] = Field(default_factory=dict)
    options: Annotated[dict[str, str], BeforeValidator(_options)] = Field(default_factory=dict)


class ListVolumes(Command):
    verb: Literal["volume:ls"] = "volume:ls"
    filters: Filters = Field(default_factory=dict)
    quiet: bool = False
    format: str | None = Field(default=None, title="--format")


class ShowAudit(Command):
    """`audit`: the record of attempts, answered by the bot from its store (admins)."""

    verb: Literal["audit"] = "audit"
    user: str | None = None
    #: how long ago (a Go duration), not a point in time
    since: Annotated[str | None, AfterValidator(_go_duration)] = Field(None, title="--since")
    filter_verb: str | None = Field(None, title="--verb")
    limit: int = Field(50, ge=1, le=500, title="-n, --limit")


PRUNE_KINDS = {
    "images": "image",
    "containers": "container",
    "volumes": "volume",
    "networks": "network",
    "system": "system",
}


class SchedulePrune(Mutation):
    verb: Literal["schedule:add"] = "schedule:add"
    task: Literal["prune", "health", "updates"] = "prune"
    kind: str | None = Field(None, title="KIND")
    all: bool = False
    filters: Filters = Field(default_factory=dict)
    cron: str | None = Field(None, title="--cron")
    every: str | None = Field(None, title="--every")
    target_host: str | None = Field(None, title="--host")
    channel: str | None = Field(None, title="--channel")
    autoheal: bool = False
    #: updates: when containers labelled dockhand.update=auto may be updated (HH:MM-HH:MM)
    window: Annotated[str | None, AfterValidator(_window)] = Field(None, title="--window")

    @model_validator(mode="after")
    def _when(self) -> SchedulePrune:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of --cron or --every")
        if self.task == "health" and self.cron is not None:
            raise ValueError("health checks take --every")
        if self.task == "prune" and self.kind not in PRUNE_KINDS:
            raise ValueError(f"prune what? one of {', '.join(PRUNE_KINDS)}")
        try:
            if self.cron is not None:
                check_crontab(self.cron)
            else:
                parse_every(str(self.every))
        except ValueError as exc:
            flag = "--cron" if self.cron is not None else "--every"
            raise UsageError(
                f'invalid argument for "{flag}" flag: {exc}', token=self.cron or self.every
            ) from None
        return self


class ScheduleList(Command):
    verb: Literal["schedule:ls"] = "schedule:ls"


class ScheduleAction(Mutation):
    verb: Literal["schedule:rm", "schedule:pause", "schedule:resume", "schedule:run"]
    past_tense = {
        "schedule:rm": "removed",
        "schedule:pause": "paused",
        "schedule:resume": "resumed",
        "schedule:run": "running now",
    }
    schedule_id: str


class Mute(Mutation):
    verb: Literal["alert:mute"] = "alert:mute"
    container: str
    duration: Annotated[str, AfterValidator(_mute_duration)] = Field("1h", title="DURATION")


class DiskUsage(Command):
    verb: Literal["system:df"] = "system:df"
    verbose: bool = False
    format: str | None = Field(default=None, title="--format")
