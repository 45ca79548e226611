"""The safety check on what the engine will be asked to do: default deny, on the exact body.

Chat text reaches a root-equivalent socket, so the check does not read the flags a person
typed: it reads the Engine API body a handler is about to send (`POST /containers/create`,
`/networks/create`, `/volumes/create`, `/containers/{id}/update`, `/networks/{id}/connect`)
and the inspected container before `start`, `restart` or `unpause`. Every field of those
bodies has an entry in one of the tables below: allowed, allowed with a value check, or
refused. A field no table knows is refused, naming it, so a new engine field stays closed
until someone decides what it means (tests/unit/test_safety_table.py fails for any keyword
docker-py can send that has no entry).

References are resolved through the engine before deciding: `container:X` namespaces take
X's whole configuration (recursively), named volumes are inspected, networks are judged by
their driver. Before the ack there is no engine at hand (`refs` is None): the same tables
run without the references, so most refusals come at once, and the whole check runs again
at the last moment before the engine call.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot import host_mounts
from bot.host_mounts import HostMount
from config.policy import Guards
from handlers.errors import NoSuchObject, NotAllowed
from handlers.registry import registry_of

# Where Docker's (and containerd's) sockets usually live; the engine's own socket path, from
# its URL, is added per check. A bind of one of these, or of a directory holding one, is root.
DOCKER_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
)
NANO = 1_000_000_000
# Dockhand's own deployment (its bot, Redis, socket proxy and their network) carries this
# label: no one joins their namespaces or networks, or stops them, from chat.
INTERNAL_LABEL = "dockhand.internal"
# Host paths that are never a bind source, nor inside one, whatever bind_paths say: the
# kernel's interfaces, the host's configuration, the engines' and containerd's state.
HOST_SYSTEM_PATHS = (
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/etc",
    "/root",
    "/home",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/snap",
    "/run",
    "/var/run",
    "/var/spool",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/run/docker",
    "/run/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/run/dbus",
    "/var/run/dbus",
)
# How much of a bind source is searched for sockets (an engine's exec-root holds
# containerd's) before it is allowed; bounded so a big data directory stays cheap.
SOCKET_SCAN_DEPTH = 3
SOCKET_SCAN_ENTRIES = 5000
# How deep `container:X` references are followed (X sharing Y's namespace, ...).
MAX_DEPTH = 5

# Engine-namespaced sysctls (what the engine itself accepts for a private namespace).
SYSCTLS = {
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
}
SYSCTL_PREFIXES = ("fs.mqueue.", "net.")
# Log drivers that write on the host's disk or journal and never open a connection from the
# host's network namespace (syslog, gelf, fluentd, splunk... do, on the container's behalf).
LOG_DRIVERS: dict[str, set[str]] = {
    "json-file": {"max-size", "max-file", "compress", "labels", "labels-regex", "env"}
    | {"env-regex", "tag"},
    "local": {"max-size", "max-file", "compress"},
    "journald": {"tag", "labels", "labels-regex", "env", "env-regex"},
    "none": set(),
}
# Options with Type "" go to the daemon's default driver, whatever it is: only the common ones.
DEFAULT_LOG_OPTIONS = {"max-size", "max-file", "compress", "labels", "env", "tag"}
NETWORK_DRIVERS = {"bridge", "overlay", "null"}
# Bridge options that tune a new bridge; `com.docker.network.bridge.name` is not among them,
# since naming an existing host bridge would put containers on the host's own segment.
BRIDGE_OPTIONS = {
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.bridge.host_binding_ipv4",
    "com.docker.network.driver.mtu",
    "com.docker.network.container_iface_prefix",
}
OVERLAY_OPTIONS = {"encrypted", "com.docker.network.driver.overlay.vxlanid_list"}
# The paths the engine masks or makes read-only by default; a container that masks fewer
# (the CLI's `--security-opt systempaths=unconfined` sends empty lists) sees the host's
# /proc/kcore, /proc/sysrq-trigger and the like.
MASKED_PATHS = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}
MASKED_PATHS |= {"/sys/firmware"}
READONLY_PATHS = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
SECURITY_OPTIONS = {
    "no-new-privileges",
    "no-new-privileges=true",
    "no-new-privileges:true",
    "no-new-privileges=false",
    "no-new-privileges:false",
    "apparmor=docker-default",
    "apparmor:docker-default",
}
TMPFS_MOUNT_OPTIONS = re.compile(
    r"^(size=\d+[kmgKMG%]?|nr_inodes=\d+[kmgKMG]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+"
    r"|noexec|exec|nosuid|nodev|ro|rw)$"
)
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Refusal(NotAllowed):
    """The safety check said no. `rule` is `guard NAME`, the audit's and the policy's word."""


def refuse(rule: str, message: str) -> Refusal:
    return Refusal(f"refused by policy: {message}", rule=f"guard {rule}")


class References(Protocol):
    """What the check may look up on the engine; each returns None for no such object."""

    def container(self, name: str) -> dict[str, Any] | None: ...

    def volume(self, name: str) -> dict[str, Any] | None: ...

    def network(self, name: str) -> dict[str, Any] | None: ...

    def image(self, name: str) -> dict[str, Any] | None:
        """The local image a create names (None when it still has to be pulled)."""
        ...

    def data_root(self) -> str:
        """The engine's own DockerRootDir: every container's files and volumes are in it."""
        ...

    def mounts(self) -> list[HostMount]:
        """Every host path every container on the engine mounts."""
        ...

    def internal_volumes(self) -> set[str]:
        """Names of the volumes Dockhand's own containers (label dockhand.internal) mount."""
        ...


@dataclass(frozen=True)
class Check:
    """One check's settings: the guards, the engine to resolve references on (None before
    the ack), the engine's own socket paths, and how deep in `container:X` we are."""

    guards: Guards
    refs: References | None = None
    sockets: tuple[str, ...] = ()
    #: "" for the container being created; "X: " for a container met by reference or started
    subject: str = ""
    seen: frozenset[str] = frozenset()

    def fail(self, rule: str, flag: str, where: str, why: str) -> Refusal:
        return refuse(rule, f"{self.subject}{flag} ({where}) {why}")


# A field test gets the check, the value, the whole section it stands in, and its path.
Test = Callable[[Check, Any, Mapping[str, Any], str], None]


@dataclass(frozen=True)
class Rule:
    """One table entry: the CLI flag a person knows the field by, the rule name refusals
    carry, and the value test (None: allowed whatever the value)."""

    flag: str
    name: str
    test: Test | None = None


def allowed(flag: str) -> Rule:
    return Rule(flag, "allowed")


def closed(flag: str, name: str, why: str = "is not allowed") -> Rule:
    """Refused unless empty: a zero, false, empty string or empty list is no setting."""

    def test(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
        if value not in (None, "", 0, False, [], {}):
            raise check.fail(name, flag, where, why)

    return Rule(flag, name, test)


def one_of(flag: str, name: str, values: Iterable[str]) -> Rule:
    permitted = set(values)

    def test(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
        if (value or "") not in permitted:
            shown = ", ".join(sorted(v or '""' for v in permitted))
            raise check.fail(name, flag, where, f"`{value}` is not allowed (allowed: {shown})")

    return Rule(flag, name, test)


def check_section(
    check: Check, section: Mapping[str, Any] | None, table: Mapping[str, Rule], where: str
) -> None:
    """Every key of `section` must have an entry in `table`; each entry's test runs."""
    if section is None:
        return
    if not isinstance(section, Mapping):
        raise refuse("unknown-field", f"{where} is not an object")
    for key, value in section.items():
        rule = table.get(key)
        if rule is None:
            raise refuse(
                "unknown-field",
                f"{check.subject}{where}.{key} is a field Dockhand's safety check does not "
                "know; it stays refused until an admin decides what it means",
            )
        if rule.test is not None:
            rule.test(check, value, section, f"{where}.{key}")


# --- host paths --------------------------------------------------------------------------


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def check_host_path(check: Check, path: str, flag: str) -> None:
    """A host path a container would see: absolute, no `..`, no Docker socket in or under it,
    inside the allowed paths as written and with links resolved, and with no link at all
    below the allowed base (a link there can be flipped between this check and the mount)."""
    guards = check.guards
    where = f"{check.subject}{flag} `{path}`"
    if not path.startswith("/"):
        raise refuse("bind-path", f"{where}: host paths must be absolute")
    if ".." in path.split("/"):
        raise refuse("bind-path", f"{where}: `..` is not allowed in a host path")
    if CONTROL.search(path):
        raise refuse("bind-path", f"{where}: control characters in a host path")
    written = posixpath.normpath(path)
    # Links are resolved where they can be (the bot beside the engine); the engine follows
    # them, so a link into a denied place is as denied as the place itself.
    resolved = os.path.realpath(written)
    sockets = (*DOCKER_SOCKETS, *check.sockets)
    data_root = check.refs.data_root() if check.refs is not None else ""
    for candidate in dict.fromkeys((written, resolved)):
        for socket in sockets:
            if _inside(socket, candidate):
                raise refuse("docker-socket", f"{where} would expose the Docker socket")
        if data_root and (_inside(candidate, data_root) or _inside(data_root, candidate)):
            # Other containers' files and volumes: writing there is writing into them.
            raise refuse("engine-data", f"{where} would expose the engine's data ({data_root})")
        if _is_socket(candidate):
            raise refuse("docker-socket", f"{where} is a socket")
        if not any(_inside(candidate, base) for base in guards.bind_paths):
            shown = ", ".join(guards.bind_paths) or "none"
            raise refuse("bind-path", f"{where} is outside the allowed host paths ({shown})")
        # Even inside bind_paths (an admin who allowed `/`): never these.
        for system in HOST_SYSTEM_PATHS:
            if _inside(candidate, system) or _inside(system, candidate):
                raise refuse("host-system", f"{where} would expose the host's {system}")
    below_socket = _socket_below(resolved)
    if below_socket is not None:
        raise refuse("docker-socket", f"{where} holds a socket ({below_socket})")
    base = next(b for b in guards.bind_paths if _inside(written, b))
    below = written[len(base.rstrip("/")) :].strip("/")
    current = base.rstrip("/")
    for part in below.split("/") if below else []:
        current = f"{current}/{part}"
        if os.path.islink(current):
            raise refuse("bind-path", f"{where}: `{current}` is a symbolic link")


def _socket_below(path: str) -> str | None:
    """A socket within SOCKET_SCAN_DEPTH levels below `path`, searched breadth first
    over at most SOCKET_SCAN_ENTRIES entries, links not followed."""
    level, seen = [path], 0
    for _ in range(SOCKET_SCAN_DEPTH):
        below: list[str] = []
        for directory in level:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > SOCKET_SCAN_ENTRIES:
                    return None
                if _is_socket(entry.path):
                    return entry.path
                if entry.is_dir(follow_symlinks=False):
                    below.append(entry.path)
        level = below
    return None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


# --- volumes -----------------------------------------------------------------------------


def check_local_options(check: Check, options: Mapping[str, Any] | None, where: str) -> None:
    """Options of the `local` volume driver are a mount(8) call on the host: only a tmpfs,
    or a bind of an allowed host path, is safe. nfs/cifs (a connection from the host),
    overlay (`lowerdir=/etc`) and block devices are refused."""
    if not options:
        return
    lowered = {str(k).lower(): str(v) for k, v in options.items()}
    unknown = sorted(set(lowered) - {"type", "o", "device"})
    if unknown:
        raise refuse("volume-options", f"{where}: option `{unknown[0]}` is not allowed")
    kind = lowered.get("type", "")
    mount_options = [o.strip() for o in lowered.get("o", "").split(",") if o.strip()]
    device = lowered.get("device")
    if kind == "tmpfs":
        if device not in (None, "", "tmpfs"):
            raise refuse("volume-options", f"{where}: a tmpfs volume has device tmpfs")
        for option in mount_options:
            if not TMPFS_MOUNT_OPTIONS.match(option):
                raise refuse("volume-options", f"{where}: tmpfs option `{option}` is not allowed")
        return
    binds = host_mounts.BIND_OPTIONS & set(mount_options)
    if binds and kind in ("", "none") and device:
        rest = [o for o in mount_options if o not in {"bind", "rbind", "ro", "rw"}]
        if rest:
            raise refuse("volume-options", f"{where}: bind option `{rest[0]}` is not allowed")
        check_host_path(check, device, f"{where} device")
        return
    if device and device.startswith("/"):
        # Whatever the type, a device path names something on the host: judge it as one.
        check_host_path(check, device, f"{where} device")
    raise refuse(
        "volume-options",
        f"{where}: type `{kind or 'none'}` with `{lowered.get('o', '')}` would mount "
        "something of the host's (only tmpfs, or a bind of an allowed path)",
    )


def check_volume_driver(check: Check, driver: str | None, where: str) -> None:
    if (driver or "local") not in {"local", *check.guards.allow.volume_drivers}:
        raise refuse("volume-driver", f"{where}: volume driver `{driver}` is not allowed")


def check_volume_object(check: Check, volume: Mapping[str, Any], where: str) -> None:
    """An existing volume, as the engine inspects it."""
    driver = str(volume.get("Driver") or "local")
    check_volume_driver(check, driver, where)
    if driver == "local":
        check_local_options(check, volume.get("Options"), where)


def check_named_volume(check: Check, name: str, where: str) -> None:
    if not VOLUME_NAME.match(name):
        raise refuse("bind-path", f"{where} `{name}`: neither an absolute host path nor a volume")
    if check.refs is None:
        return
    volume = check.refs.volume(name)
    internal = volume is not None and INTERNAL_LABEL in (volume.get("Labels") or {})
    if internal or name in check.refs.internal_volumes():
        # Redis's data is the job store: writing a job there is running code in the bot.
        raise refuse("internal", f"{where} volume `{name}` is part of Dockhand itself")
    if volume is not None:
        check_volume_object(check, volume, f"{where} volume `{name}`")


# --- HostConfig tests --------------------------------------------------------------------


def _binds(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for bind in value or []:
        parts = str(bind).split(":")
        if len(parts) < 2:
            raise check.fail("bind-path", "-v", where, f"`{bind}` is not source:target")
        source = parts[0]
        mode = set(parts[2].split(",")) if len(parts) > 2 else set()
        if mode & {"shared", "rshared"}:
            raise check.fail(
                "bind-propagation", "-v", where, f"`{bind}` would propagate mounts to the host"
            )
        if source.startswith("/"):
            check_host_path(check, source, "-v")
        else:
            check_named_volume(check, source, f"{check.subject}-v")


def _mounts(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for n, mount in enumerate(value or []):
        at = f"{where}[{n}]"
        check_section(check, mount, MOUNT_FIELDS, at)
        kind = mount.get("Type")
        source = str(mount.get("Source") or "")
        if kind == "bind":
            check_host_path(check, source, "--mount")
        elif kind == "volume":
            options = mount.get("VolumeOptions") or {}
            config = options.get("DriverConfig") or {}
            check_volume_driver(check, config.get("Name"), f"{check.subject}--mount")
            if (config.get("Name") or "local") == "local":
                check_local_options(check, config.get("Options"), f"{check.subject}--mount")
            if source:
                check_named_volume(check, source, f"{check.subject}--mount")
            subpath = str(options.get("Subpath") or "")
            if ".." in subpath.split("/"):
                raise check.fail("bind-path", "--mount volume-subpath", at, "may not hold `..`")
        elif kind != "tmpfs":
            raise check.fail("mount-type", "--mount", at, f"type `{kind}` is not allowed")


def _propagation(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    if value in ("shared", "rshared"):
        raise check.fail(
            "bind-propagation", "--mount bind-propagation", where, "would reach the host's mounts"
        )


def _capabilities(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    permitted = {_capability(c) for c in check.guards.allow.capabilities}
    for cap in value or []:
        if _capability(str(cap)) not in permitted:
            raise check.fail("cap-add", "--cap-add", where, f"{cap} is not allowed")


def _capability(name: str) -> str:
    name = name.strip().upper()
    return name if name == "ALL" or name.startswith("CAP_") else f"CAP_{name}"


def _devices(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for device in value or []:
        path = str((device or {}).get("PathOnHost") or "")
        if posixpath.normpath(path) not in check.guards.allow.devices:
            raise check.fail("device", "--device", where, f"`{path}` gives host hardware")


def _namespace(name: str, flag: str, private: set[str]) -> Test:
    """PidMode, IpcMode, UTSMode, UsernsMode, NetworkMode: private is fine, `host` never,
    `container:X` only when X itself passes the whole check."""

    def test(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
        mode = str(value or "")
        if mode.lower() == "host":
            raise check.fail(f"{name}-host", flag, where, "host shares the host's namespace")
        if mode.startswith("container:") and name != "userns":
            if not check.guards.allow.namespace_sharing:
                # X's processes, their environment and files (/proc/N/root), or its
                # loopback: more than `inspect` shows anyone but an admin.
                raise check.fail(
                    "namespace-sharing",
                    flag,
                    where,
                    f"`{mode}` shares another container's namespace",
                )
            check_reference(check, mode.partition(":")[2], f"{flag} {mode}")
            return
        if mode in private:
            return
        if name == "network":
            check_network_name(check, mode, flag, where)
            return
        raise check.fail(name, flag, where, f"`{mode}` is not allowed")

    return test


def check_reference(check: Check, name: str, flag: str) -> None:
    """`container:X`: the new container lands in X's namespace, so X must pass as a whole."""
    if check.refs is None:
        return  # resolved when the command runs
    if name in check.seen or len(check.seen) >= MAX_DEPTH:
        raise refuse("namespace-reference", f"{check.subject}{flag}: references go too deep")
    other = check.refs.container(name)
    if other is None:
        return  # the engine refuses an unknown container itself
    if INTERNAL_LABEL in ((other.get("Config") or {}).get("Labels") or {}):
        raise refuse(
            "internal", f"{check.subject}{flag}: {_name(other, name)} is part of Dockhand itself"
        )
    # The engine keeps `container:<id>`; name the container as people know it.
    known = _name(other, name)
    inner = replace(check, subject=f"{check.subject}{flag} → {known}: ", seen=check.seen | {name})
    check_container(inner, other)


def _name(inspected: Mapping[str, Any], fallback: str) -> str:
    return str(inspected.get("Name") or fallback).lstrip("/")


def check_network_name(check: Check, name: str, flag: str, where: str) -> None:
    if name.lower() == "host":
        raise check.fail("network-host", flag, where, "host shares the host's network")
    if name in ("", "default", "bridge", "none"):
        return
    if check.refs is None:
        return
    network = check.refs.network(name)
    if network is not None and INTERNAL_LABEL in (network.get("Labels") or {}):
        raise refuse("internal", f"{check.subject}{flag} {name}: a network of Dockhand itself")
    if network is not None:
        check_network_driver(check, str(network.get("Driver") or ""), f"{flag} {name}")


def check_network_driver(check: Check, driver: str, where: str) -> None:
    if driver == "host":
        raise refuse("network-host", f"{check.subject}{where}: the host driver is the host's own")
    if driver not in NETWORK_DRIVERS | set(check.guards.allow.network_drivers):
        raise refuse(
            "network-driver",
            f"{check.subject}{where}: network driver `{driver}` is not allowed "
            "(macvlan and ipvlan put containers on the host's own segment)",
        )


def _log_config(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    config = value or {}
    unknown = sorted(set(config) - {"Type", "Config"})
    if unknown:
        raise check.fail("unknown-field", "--log-driver", f"{where}.{unknown[0]}", "is unknown")
    driver = str(config.get("Type") or "")
    options = config.get("Config") or {}
    extra = check.guards.allow.log_drivers
    if driver and driver not in LOG_DRIVERS and driver not in extra:
        raise check.fail(
            "log-driver",
            "--log-driver",
            where,
            f"`{driver}` makes the engine send logs from the host "
            f"(allowed: {', '.join([*LOG_DRIVERS, *extra])})",
        )
    keys = LOG_DRIVERS.get(driver) if driver else DEFAULT_LOG_OPTIONS
    for key, option in options.items():
        if keys is not None and key not in keys:
            raise check.fail("log-opt", "--log-opt", where, f"`{key}` is not allowed for {driver}")
        if CONTROL.search(f"{key}{option}"):
            raise check.fail("log-opt", "--log-opt", where, f"`{key}` holds control characters")


def _security_opt(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    permitted = SECURITY_OPTIONS | set(check.guards.allow.security_opt)
    for option in value or []:
        if str(option).strip() not in permitted:
            shown = str(option) if len(str(option)) < 60 else f"{str(option)[:57]}..."
            raise check.fail(
                "security-opt",
                "--security-opt",
                where,
                f"`{shown}` is not allowed (only no-new-privileges and the default profiles)",
            )


def _system_paths(core: set[str]) -> Test:
    def test(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
        if value is None:
            return  # the engine's defaults
        missing = sorted(core - set(value))
        if missing:
            raise check.fail(
                "systempaths",
                "--security-opt systempaths=unconfined",
                where,
                f"leaves {missing[0]} open to the container",
            )

    return test


def _sysctls(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    for name, setting in (value or {}).items():
        if name not in SYSCTLS and not str(name).startswith(SYSCTL_PREFIXES):
            raise check.fail("sysctl", "--sysctl", where, f"`{name}` is not namespaced")
        if CONTROL.search(f"{name}{setting}"):
            raise check.fail("sysctl", "--sysctl", where, f"`{name}` holds control characters")
        shared = "NetworkMode" if str(name).startswith("net.") else "IpcMode"
        if str(section.get(shared) or "").startswith("container:"):
            # The namespace is another container's: the setting would change that one.
            raise check.fail(
                "sysctl", "--sysctl", where, f"`{name}` would change {section[shared]}'s namespace"
            )


def _runtime(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    if (value or "runc") not in {"runc", *check.guards.allow.runtimes}:
        raise check.fail("runtime", "--runtime", where, f"`{value}` is not allowed")


def _volume_driver(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    check_volume_driver(check, value, f"{check.subject}--volume-driver")


def _oom_score(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    if int(value or 0) < 0:
        raise check.fail(
            "oom-score-adj", "--oom-score-adj", where, "below 0 makes the host kill others first"
        )


def _oom_kill(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    if value and not section.get("Memory"):
        raise check.fail(
            "oom-kill-disable", "--oom-kill-disable", where, "without -m can exhaust the host"
        )


def _own_labels(check: Check, labels: Any, where: str) -> None:
    """`dockhand.internal` marks Dockhand's own deployment; set from chat it would make a
    container (or network, or volume) no one may stop or join."""
    if INTERNAL_LABEL in (labels or {}):
        raise refuse("internal", f"{check.subject}{where}: `{INTERNAL_LABEL}` is Dockhand's own")


def _image(check: Check, value: Any, section: Mapping[str, Any], where: str) -> None:
    check_registry(str(value or ""), check.guards)


def check_registry(image: str, guards: Guards) -> None:
    if guards.registries and registry_of(image) not in guards.registries:
        raise refuse(
            "registry",
            f"images from {registry_of(image)} are not allowed "
            f"(allowed: {', '.join(guards.registries)})",
        )


# --- the tables ---------------------------------------------------------------------------

# Config of POST /containers/create (and of an inspected container).
CONFIG_FIELDS: dict[str, Rule] = {
    "Hostname": allowed("--hostname"),
    "Domainname": allowed("--domainname"),
    "User": allowed("--user"),
    "AttachStdin": allowed("--attach"),
    "AttachStdout": allowed("--attach"),
    "AttachStderr": allowed("--attach"),
    "ExposedPorts": allowed("--expose"),
    "Tty": allowed("--tty"),
    "OpenStdin": allowed("--interactive"),
    "StdinOnce": allowed("--interactive"),
    "Env": allowed("--env"),
    "Cmd": allowed("COMMAND"),
    "Healthcheck": allowed("--health-cmd"),
    "ArgsEscaped": allowed("(Windows)"),
    "Image": Rule("IMAGE", "registry", _image),
    "Volumes": allowed("-v CONTAINER-PATH"),  # anonymous volumes: fresh, empty, engine-owned
    "WorkingDir": allowed("--workdir"),
    "Entrypoint": allowed("--entrypoint"),
    "NetworkDisabled": allowed("--network none"),
    "MacAddress": allowed("--mac-address"),
    "OnBuild": closed("ONBUILD", "onbuild", "is for image builds"),
    "Labels": Rule("--label", "internal", lambda c, v, s, w: _own_labels(c, v, w)),
    "StopSignal": allowed("--stop-signal"),
    "StopTimeout": allowed("--stop-timeout"),
    "Shell": allowed("SHELL"),
    # docker-py sends the runtime in Config too, for old engines.
    "Runtime": Rule("--runtime", "runtime", _runtime),
}

# Resources: what `update` may change too. Memory, CPU and pids caps are checked on the
# whole section (a missing field is no limit), see check_caps.
RESOURCE_FIELDS: dict[str, Rule] = {
    "CpuShares": allowed("--cpu-shares"),
    "Memory": allowed("--memory"),
    "CgroupParent": closed("--cgroup-parent", "cgroup-parent", "would escape the engine's cgroup"),
    "BlkioWeight": allowed("--blkio-weight"),
    # Throttles name host devices but only to slow the container's own I/O on them.
    "BlkioWeightDevice": allowed("--blkio-weight-device"),
    "BlkioDeviceReadBps": allowed("--device-read-bps"),
    "BlkioDeviceWriteBps": allowed("--device-write-bps"),
    "BlkioDeviceReadIOps": allowed("--device-read-iops"),
    "BlkioDeviceWriteIOps": allowed("--device-write-iops"),
    "CpuPeriod": allowed("--cpu-period"),
    "CpuQuota": allowed("--cpu-quota"),
    "CpuRealtimePeriod": closed("--cpu-rt-period", "cpu-realtime"),
    "CpuRealtimeRuntime": closed("--cpu-rt-runtime", "cpu-realtime"),
    # docker-py's spellings; the engine decodes JSON keys without regard to case.
    "CPURealtimePeriod": closed("--cpu-rt-period", "cpu-realtime"),
    "CPURealtimeRuntime": closed("--cpu-rt-runtime", "cpu-realtime"),
    "CpusetCpus": allowed("--cpuset-cpus"),
    "CpusetMems": allowed("--cpuset-mems"),
    "Devices": Rule("--device", "device", _devices),
    "DeviceCgroupRules": closed("--device-cgroup-rule", "device", "opens host devices"),
    "DeviceRequests": closed("--gpus", "device", "gives host hardware"),
    "KernelMemory": closed("--kernel-memory", "kernel-memory", "is deprecated"),
    "KernelMemoryTCP": closed("--kernel-memory-tcp", "kernel-memory", "is deprecated"),
    "MemoryReservation": allowed("--memory-reservation"),
    "MemorySwap": allowed("--memory-swap"),
    "MemorySwappiness": allowed("--memory-swappiness"),
    "NanoCpus": allowed("--cpus"),
    "OomKillDisable": Rule("--oom-kill-disable", "oom-kill-disable", _oom_kill),
    "Init": allowed("--init"),
    "PidsLimit": allowed("--pids-limit"),
    "Ulimits": allowed("--ulimit"),
    "CpuCount": closed("--cpu-count", "windows", "is for Windows"),
    "CpuPercent": closed("--cpu-percent", "windows", "is for Windows"),
    "IOMaximumIOps": closed("--io-maxiops", "windows", "is for Windows"),
    "IOMaximumBandwidth": closed("--io-maxbandwidth", "windows", "is for Windows"),
    "RestartPolicy": allowed("--restart"),
}

HOST_CONFIG_FIELDS: dict[str, Rule] = {
    **RESOURCE_FIELDS,
    "Binds": Rule("-v", "bind-path", _binds),
    "ContainerIDFile": closed("--cidfile", "cidfile", "is written by the CLI, not the engine"),
    "LogConfig": Rule("--log-driver", "log-driver", _log_config),
    "NetworkMode": Rule(
        "--network", "network", _namespace("network", "--network", {"default", "bridge", "none"})
    ),
    "PortBindings": allowed("--publish"),
    "AutoRemove": allowed("--rm"),
    "VolumeDriver": Rule("--volume-driver", "volume-driver", _volume_driver),
    "VolumesFrom": closed(
        "--volumes-from", "volumes-from", "shares another container's mounts, whatever they are"
    ),
    "ConsoleSize": allowed("(terminal size)"),
    "Annotations": closed("--annotation", "annotation", "passes options to the runtime"),
    "CapAdd": Rule("--cap-add", "cap-add", _capabilities),
    "CapDrop": allowed("--cap-drop"),
    # `host` is the engine's default on cgroup v1; the cgroup tree stays read-only inside.
    "CgroupnsMode": one_of("--cgroupns", "cgroupns", ("", "private", "host")),
    "Dns": allowed("--dns"),
    "DnsOptions": allowed("--dns-option"),
    "DnsSearch": allowed("--dns-search"),
    "ExtraHosts": allowed("--add-host"),
    "GroupAdd": allowed("--group-add"),
    "IpcMode": Rule(
        "--ipc", "ipc", _namespace("ipc", "--ipc", {"", "private", "shareable", "none"})
    ),
    "Cgroup": closed("--cgroup", "cgroup", "joins another cgroup"),
    # Legacy links copy the linked container's environment (its secrets) into this one.
    "Links": closed("--link", "link", "copies another container's environment"),
    "OomScoreAdj": Rule("--oom-score-adj", "oom-score-adj", _oom_score),
    "PidMode": Rule("--pid", "pid", _namespace("pid", "--pid", {""})),
    "Privileged": closed("--privileged", "privileged", "gives the container the whole host"),
    "PublishAllPorts": allowed("--publish-all"),
    "ReadonlyRootfs": allowed("--read-only"),
    "SecurityOpt": Rule("--security-opt", "security-opt", _security_opt),
    "StorageOpt": closed("--storage-opt", "storage-opt"),
    "Tmpfs": allowed("--tmpfs"),
    "UTSMode": Rule("--uts", "uts", _namespace("uts", "--uts", {""})),
    "UsernsMode": Rule("--userns", "userns", _namespace("userns", "--userns", {""})),
    "ShmSize": allowed("--shm-size"),
    "Sysctls": Rule("--sysctl", "sysctl", _sysctls),
    "Runtime": Rule("--runtime", "runtime", _runtime),
    "Isolation": one_of("--isolation", "isolation", ("", "default")),
    "MaskedPaths": Rule("--security-opt systempaths", "systempaths", _system_paths(MASKED_PATHS)),
    "ReadonlyPaths": Rule(
        "--security-opt systempaths", "systempaths", _system_paths(READONLY_PATHS)
    ),
    "Mounts": Rule("--mount", "mount", _mounts),
    # Fields of engines long gone that docker-py can still send.
    "InitPath": closed("--init-path", "init-path", "runs a host binary as the container's init"),
    "LxcConf": closed("--lxc-conf", "lxc-conf", "configures the runtime directly"),
}

MOUNT_FIELDS: dict[str, Rule] = {
    "Type": allowed("type"),
    "Source": allowed("source"),  # judged by type in _mounts
    "Target": allowed("target"),
    "ReadOnly": allowed("readonly"),
    "Consistency": allowed("consistency"),
    "BindOptions": Rule("bind-*", "mount", lambda c, v, s, w: check_section(c, v, BIND, w)),
    "VolumeOptions": Rule("volume-*", "mount", lambda c, v, s, w: check_section(c, v, VOL, w)),
    "TmpfsOptions": Rule("tmpfs-*", "mount", lambda c, v, s, w: check_section(c, v, TMPFS, w)),
    "ClusterOptions": closed("type=cluster", "mount-type"),
    "ImageOptions": closed("type=image", "mount-type"),
}
BIND: dict[str, Rule] = {
    "Propagation": Rule("bind-propagation", "bind-propagation", _propagation),
    "NonRecursive": allowed("bind-recursive"),
    "CreateMountpoint": allowed("bind-create-mountpoint"),  # within an allowed path only
    "ReadOnlyNonRecursive": allowed("bind-recursive"),
    "ReadOnlyForceRecursive": allowed("bind-recursive"),
}
VOL: dict[str, Rule] = {
    "NoCopy": allowed("volume-nocopy"),
    # The labels of the volume the mount creates: Dockhand's own label no more than `-l`.
    "Labels": Rule("volume-label", "internal", lambda c, v, s, w: _own_labels(c, v, w)),
    "DriverConfig": allowed("volume-driver/volume-opt"),  # judged in _mounts
    "Subpath": allowed("volume-subpath"),  # `..` refused in _mounts
}
TMPFS: dict[str, Rule] = {
    "SizeBytes": allowed("tmpfs-size"),
    "Mode": allowed("tmpfs-mode"),
    "Options": allowed("tmpfs-options"),
}

# EndpointSettings of NetworkingConfig.EndpointsConfig and of `network connect`.
ENDPOINT_FIELDS: dict[str, Rule] = {
    "IPAMConfig": allowed("--ip/--ip6"),
    "Links": closed("--link", "link", "copies another container's environment"),
    "Aliases": allowed("--network-alias"),
    "MacAddress": allowed("--mac-address"),
    "DriverOpts": closed("--network driver-opt", "network-driver-opt", "go to the driver"),
    "GwPriority": allowed("--network gw-priority"),
    "DNSNames": allowed("(engine)"),
    # Filled in by the engine; harmless when sent back.
    "NetworkID": allowed("(engine)"),
    "EndpointID": allowed("(engine)"),
    "Gateway": allowed("(engine)"),
    "IPAddress": allowed("(engine)"),
    "IPPrefixLen": allowed("(engine)"),
    "IPv6Gateway": allowed("(engine)"),
    "GlobalIPv6Address": allowed("(engine)"),
    "GlobalIPv6PrefixLen": allowed("(engine)"),
}

# POST /networks/create
NETWORK_FIELDS: dict[str, Rule] = {
    "Name": allowed("NAME"),
    "CheckDuplicate": allowed("(engine)"),
    "Driver": allowed("--driver"),  # judged in check_network_create, with Options
    "Scope": one_of("--scope", "network-scope", ("", "local", "swarm", "global")),
    "Internal": allowed("--internal"),
    "Attachable": allowed("--attachable"),
    "Ingress": closed("--ingress", "network-ingress", "replaces the swarm's routing mesh"),
    "IPAM": allowed("--subnet/--gateway/--ip-range"),  # judged in check_network_create
    "EnableIPv6": allowed("--ipv6"),
    "EnableIPv4": allowed("--ipv4"),
    "Options": allowed("--opt"),  # judged in check_network_create
    "Labels": Rule("--label", "internal", lambda c, v, s, w: _own_labels(c, v, w)),
    "ConfigOnly": closed("--config-only", "network-config"),
    "ConfigFrom": closed("--config-from", "network-config", "copies another network's driver"),
}

# POST /volumes/create
VOLUME_FIELDS: dict[str, Rule] = {
    "Name": allowed("NAME"),
    "Driver": allowed("--driver"),  # judged in check_volume_create, with DriverOpts
    "DriverOpts": allowed("--opt"),
    "Labels": Rule("--label", "internal", lambda c, v, s, w: _own_labels(c, v, w)),
    "ClusterVolumeSpec": closed("--group/--scope", "cluster-volume"),
}


# --- the checks ---------------------------------------------------------------------------


def check_create(check: Check, body: Mapping[str, Any]) -> None:
    """POST /containers/create: Config, HostConfig and NetworkingConfig, every field."""
    config = {k: v for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
    check_section(check, config, CONFIG_FIELDS, "Config")
    image = check.refs.image(str(body["Image"])) if check.refs and body.get("Image") else None
    if image is not None:
        # The engine merges the image's labels into the container's: an image carrying the
        # label would make a container Dockhand's own, as `-l` from chat may not.
        _own_labels(check, (image.get("Config") or {}).get("Labels"), "Config.Image labels")
    host = body.get("HostConfig") or {}
    check_section(check, host, HOST_CONFIG_FIELDS, "HostConfig")
    check_caps(check, host, whole=True)
    check_overlap(check, host)
    networking = body.get("NetworkingConfig") or {}
    check_section(check, networking, {"EndpointsConfig": allowed("--network")}, "NetworkingConfig")
    for network, endpoint in (networking.get("EndpointsConfig") or {}).items():
        check_network_name(check, str(network), "--network", "NetworkingConfig")
        check_section(check, endpoint, ENDPOINT_FIELDS, f"EndpointsConfig.{network}")


def check_container(check: Check, inspected: Mapping[str, Any]) -> None:
    """A container as the engine inspects it, before it starts again (or is joined by
    another): made elsewhere, or before the policy, it must pass the same tables."""
    check_section(check, inspected.get("Config") or {}, CONFIG_FIELDS, "Config")
    host = inspected.get("HostConfig") or {}
    check_section(check, host, HOST_CONFIG_FIELDS, "HostConfig")
    check_caps(check, host, whole=True)
    check_overlap(check, host, str(inspected.get("Id") or ""))
    networks = (inspected.get("NetworkSettings") or {}).get("Networks") or {}
    for network in networks:
        check_network_name(check, str(network), "network", "NetworkSettings.Networks")


def check_overlap(check: Check, host: Mapping[str, Any], own_id: str = "") -> None:
    """No write access above a path another mount binds (bot/host_mounts.py says why):
    within the container at once, against every other container on the engine when it runs."""

    def options(name: str) -> Mapping[str, Any] | None:
        volume = check.refs.volume(name) if check.refs is not None else None
        return (volume or {}).get("Options") or {} if volume is not None else None

    mine = host_mounts.of_host_config(host, options)
    if not mine:
        return
    others = [m for m in check.refs.mounts() if m.owner_id != own_id] if check.refs else []
    found = host_mounts.conflict(mine, others)
    if found is not None:
        writer, bound = found
        raise refuse(
            "bind-overlap",
            f"{check.subject}{writer.owner or 'this container'} could write to "
            f"{writer.source}, above {bound.source} that {bound.owner or 'this container'} "
            "binds: a link put there would be followed the next time the engine mounts it",
        )


def check_update(check: Check, body: Mapping[str, Any]) -> None:
    """POST /containers/{id}/update: resources and the restart policy, within the caps."""
    check_section(check, body, RESOURCE_FIELDS, "update")
    check_caps(check, body, whole=False)


def check_connect(check: Check, network: str, body: Mapping[str, Any]) -> None:
    """POST /networks/{id}/connect: the network's driver and the endpoint's settings."""
    check_section(
        check, body, {"Container": allowed("CONTAINER"), "EndpointConfig": allowed("")}, "connect"
    )
    check_network_name(check, network, "network connect", "connect")
    builtin = network in ("bridge", "none", "host")
    if check.refs is not None and not builtin and check.refs.network(network) is None:
        # The engine records a connection of a stopped container to any name at all, and
        # only fails at its next start: say it now.
        raise NoSuchObject(f"network {network} not found")
    check_section(check, body.get("EndpointConfig"), ENDPOINT_FIELDS, "EndpointConfig")


def check_network_create(check: Check, body: Mapping[str, Any]) -> None:
    check_section(check, body, NETWORK_FIELDS, "network")
    driver = str(body.get("Driver") or "bridge")
    check_network_driver(check, driver, "network create --driver")
    known = {"bridge": BRIDGE_OPTIONS, "overlay": OVERLAY_OPTIONS}.get(driver)
    for key, value in (body.get("Options") or {}).items():
        if known is not None and key not in known:
            raise refuse("network-options", f"network create -o `{key}` is not allowed")
        if CONTROL.search(f"{key}{value}"):
            raise refuse("network-options", f"network create -o `{key}` holds control characters")
    ipam = body.get("IPAM") or {}
    for pool in ipam.get("Config") or []:
        check_pool(check, pool)
    check_section(
        check,
        ipam,
        {
            "Driver": one_of("--ipam-driver", "ipam-driver", ("", "default")),
            "Config": allowed("--subnet"),
            "Options": closed("--ipam-opt", "ipam-options"),
        },
        "IPAM",
    )


def check_pool(check: Check, pool: Mapping[str, Any]) -> None:
    """--subnet, --ip-range, --gateway, --aux-address of a new network. A subnet becomes a
    route on the host: one over the host's LAN or its cloud metadata address would take the
    host's own traffic into a container. So only within `allow.subnets`, and never
    loopback, link-local, multicast or unspecified addresses."""
    keys = sorted(set(pool) - {"Subnet", "IPRange", "Gateway", "AuxiliaryAddresses"})
    if keys:
        raise refuse("unknown-field", f"IPAM.Config.{keys[0]} is a field the check does not know")
    values = [pool.get("Subnet"), pool.get("IPRange"), pool.get("Gateway")]
    values += list((pool.get("AuxiliaryAddresses") or {}).values())
    allowed_pools = [ipaddress.ip_network(net, strict=False) for net in check.guards.allow.subnets]
    for value in filter(None, values):
        try:
            network = ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise refuse("subnet", f"network create: `{value}` is not an address") from None
        special = network.is_loopback or network.is_link_local or network.is_multicast
        if special or network.is_unspecified:
            raise refuse("subnet", f"network create: `{value}` is a special-purpose range")
        if not any(
            network.version == pool_net.version and network.subnet_of(pool_net)  # type: ignore[arg-type]
            for pool_net in allowed_pools
        ):
            shown = ", ".join(check.guards.allow.subnets) or "none; the engine picks one"
            raise refuse(
                "subnet",
                f"network create: `{value}` is outside the allowed subnets ({shown}); it "
                "would become a route on the host",
            )


def check_volume_create(check: Check, body: Mapping[str, Any]) -> None:
    check_section(check, body, VOLUME_FIELDS, "volume")
    if body.get("Name"):
        check_named_volume(check, str(body["Name"]), "volume create")
    check_volume_driver(check, body.get("Driver"), "volume create --driver")
    if (body.get("Driver") or "local") == "local":
        check_local_options(check, body.get("DriverOpts"), "volume create -o")


# POST /containers/{id}/exec: what a command started inside an existing container may ask.
# No terminal and no stdin in chat; never privileged (the command would get every capability
# and every device of the host, whatever the container was made with).
EXEC_FIELDS: dict[str, Rule] = {
    "User": CONFIG_FIELDS["User"],
    "Privileged": closed("--privileged", "privileged", "gives the command the whole host"),
    "Tty": closed("--tty", "exec-tty", "needs a terminal chat does not have"),
    "AttachStdin": closed("--interactive", "exec-stdin", "needs a terminal chat does not have"),
    "AttachStdout": allowed(""),
    "AttachStderr": allowed(""),
    "DetachKeys": closed("--detach-keys", "exec-tty", "needs a terminal chat does not have"),
    "Env": CONFIG_FIELDS["Env"],
    "WorkingDir": CONFIG_FIELDS["WorkingDir"],
    "Cmd": CONFIG_FIELDS["Cmd"],
}


def check_exec(check: Check, target: str, body: Mapping[str, Any]) -> None:
    """An exec runs as part of the target, with all it has: so the body field by field, and
    the container as a whole, as a `container:X` namespace is judged. A container made
    elsewhere with a host bind or --privileged is as refused to exec into as to create."""
    check_section(check, body, EXEC_FIELDS, "exec")
    found = check.refs.container(target) if check.refs is not None else None
    if found is None:
        return  # before the ack, or no such container: the engine answers that itself
    name = _name(found, target)
    if INTERNAL_LABEL in ((found.get("Config") or {}).get("Labels") or {}):
        raise refuse("internal", f"exec: {name} is part of Dockhand itself")
    check_container(replace(check, subject=f"exec → {name}: "), found)


def check_caps(check: Check, section: Mapping[str, Any], *, whole: bool) -> None:
    """Memory, CPU and pids caps. In a whole HostConfig a missing or zero limit is no limit
    (refused under a cap); in an update body only what is sent is judged."""
    guards = check.guards
    memory = section.get("Memory")
    over = not memory or memory <= 0 or memory > (guards.max_memory or 0)
    if guards.max_memory and (whole or memory is not None) and over:
        shown = _binary(memory) if memory and memory > 0 else "no limit"
        raise refuse(
            "max-memory",
            f"{check.subject}--memory {shown} is over the cap of {_binary(guards.max_memory)}",
        )
    if guards.max_cpus and (whole or {"NanoCpus", "CpuQuota"} & set(section)):
        cpus = _effective_cpus(section)
        if cpus is None or cpus <= 0 or cpus > guards.max_cpus * NANO:
            shown = f"{cpus / NANO:g}" if cpus and cpus > 0 else "no limit"
            raise refuse(
                "max-cpus", f"{check.subject}--cpus {shown} is over the cap of {guards.max_cpus:g}"
            )
    pids = section.get("PidsLimit")
    over = not pids or pids <= 0 or pids > (guards.max_pids or 0)
    if guards.max_pids and (whole or pids is not None) and over:
        shown = str(pids) if pids and pids > 0 else "no limit"
        raise refuse(
            "max-pids",
            f"{check.subject}--pids-limit {shown} is over the cap of {guards.max_pids}",
        )


def _effective_cpus(section: Mapping[str, Any]) -> int | None:
    """NanoCpus, or --cpu-quota/--cpu-period in other words (the engine refuses both)."""
    if section.get("NanoCpus"):
        return int(section["NanoCpus"])
    quota = int(section.get("CpuQuota") or 0)
    if quota > 0:
        return quota * NANO // int(section.get("CpuPeriod") or 100_000)
    return None if quota == 0 else 0


def _binary(size: int) -> str:
    """Bytes as a person typed them (`256m`, `1g`), the units -m takes."""
    for unit, factor in (("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}b" if size < 1024 else f"{size / (1 << 20):.4g}m"


def admit_request(check: Check, kind: str, body: Mapping[str, Any], target: str) -> None:
    """The one entry the handlers reach (through Context.admit): each kind of engine request
    to its check. A kind this function does not know is refused, like an unknown field."""
    if kind == "container.create":
        check_create(check, body)
    elif kind == "container.start":
        found = check.refs.container(target) if check.refs is not None else None
        if found is not None:
            check_container(replace(check, subject=f"{_name(found, target)}: "), found)
    elif kind == "container.update":
        check_update(check, body)
        policy = (body.get("RestartPolicy") or {}).get("Name") or "no"
        found = check.refs.container(target) if check.refs is not None and target else None
        if policy != "no" and found is not None:
            # With a restart policy the engine starts it again on its own, unchecked.
            check_container(replace(check, subject=f"{_name(found, target)}: "), found)
    elif kind == "network.create":
        check_network_create(check, body)
    elif kind == "network.connect":
        check_connect(check, target, body)
    elif kind == "volume.create":
        check_volume_create(check, body)
    elif kind in ("service.create", "service.update"):
        # Swarm specs: their tables build on the container tables above.
        from bot.service_safety import check_service

        check_service(check, body)
    elif kind == "container.exec":
        check_exec(check, target, body)
    else:
        raise refuse("unknown-request", f"`{kind}` is a request the safety check does not know")
