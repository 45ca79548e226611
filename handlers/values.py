"""The docker CLI's value syntaxes, parsed and checked with the CLI's own messages:
port specs (`127.0.0.1:8080:80/udp`), restart policies (`on-failure:3`), `--mount`
fields, `--add-host`, `--dns`, `--mac-address`.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from handlers.units import go_duration, ram_in_bytes

PROTOCOLS = ("tcp", "udp", "sctp")
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


class PortBinding(BaseModel):
    """One container port and where the host publishes it (`HostPort` may be a range)."""

    model_config = ConfigDict(frozen=True)

    container_port: str  # "80/tcp"
    host_ip: str = ""
    host_port: str = ""


# The network modes that are not user-defined networks (with `container:<name>`).
NETWORK_MODES = frozenset({"default", "bridge", "host", "none"})


def is_user_network(name: str) -> bool:
    return name not in NETWORK_MODES and not name.startswith("container:")


def _int_pair(text: str, separator: str, what: str) -> tuple[int, int]:
    """`a` or `a<separator>b` as two integers (b defaults to a): `80-81`, `1024:2048`."""
    start, given, end = text.partition(separator)
    try:
        return int(start), int(end) if given else int(start)
    except ValueError:
        raise ValueError(f"invalid {what}: {text}") from None


def _port_range(text: str, what: str) -> tuple[int, int]:
    first, last = _int_pair(text, "-", what)
    if not (0 <= first <= 65535 and 0 <= last <= 65535) or last < first:
        raise ValueError(f"invalid {what}: {text}")
    return first, last


def parse_port_spec(spec: str) -> list[PortBinding]:
    """nat.ParsePortSpec: `[ip:][hostPort:]containerPort[/proto]`, ranges allowed."""
    raw, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    # The last part is the container port, the one before it the host port, and all
    # before that the address: `::1:8080:80` and `[::1]:8080:80` both bind ::1.
    parts = raw.split(":")
    container = parts[-1]
    host = parts[-2] if len(parts) > 1 else ""
    ip = ":".join(parts[:-2]).removeprefix("[").removesuffix("]")
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ValueError(f"invalid IP address: {ip}") from None
    if not container:
        raise ValueError(f"no port specified: {spec}<empty>")
    first, last = _port_range(container, "containerPort")
    host_first, host_last = _port_range(host, "hostPort") if host else (0, 0)
    if host and (last - first) != (host_last - host_first) and last != first:
        raise ValueError(
            f"invalid ranges specified for container and host Ports: {container} and {host}"
        )
    bindings = []
    for i in range(last - first + 1):
        host_port = str(host_first + i) if host else ""
        if host and first == last and host_first != host_last:
            host_port = f"{host_first}-{host_last}"  # a dynamic host range for one port
        bindings.append(
            PortBinding(container_port=f"{first + i}/{proto}", host_ip=ip, host_port=host_port)
        )
    return bindings


def parse_expose(spec: str) -> list[str]:
    """`--expose 80`, `--expose 7000-7002/udp`: container ports only."""
    raw, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    first, last = _port_range(raw, "range format for --expose")
    return [f"{port}/{proto}" for port in range(first, last + 1)]


class RestartPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        name, colon, count = text.partition(":")
        if name not in RESTART_NAMES:
            raise ValueError(
                f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                "'on-failure', or 'unless-stopped'"
            )
        if not colon:
            return cls(name=name)
        if name != "on-failure":
            raise ValueError(f"maximum retry count cannot be used with restart policy '{name}'")
        if not count.isdigit():
            raise ValueError(
                "invalid restart policy format: maximum retry count must be an integer"
            )
        return cls(name=name, maximum_retry_count=int(count))

    def __str__(self) -> str:
        retries = f":{self.maximum_retry_count}" if self.maximum_retry_count else ""
        return f"{self.name}{retries}"


def parse_mount(spec: str) -> dict[str, Any]:
    """`--mount type=bind,source=/x,target=/y,readonly` as an Engine API Mount object."""
    fields = next(csv.reader([spec]))
    mount: dict[str, Any] = {"Type": "volume"}
    bind: dict[str, Any] = {}
    volume: dict[str, Any] = {}
    tmpfs: dict[str, Any] = {}
    for field in fields:
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key in {"readonly", "ro"}:
            if eq and value.lower() not in {"true", "false", "1", "0"}:
                raise ValueError(f"invalid value for {key}: {value}")
            mount["ReadOnly"] = not eq or value.lower() in {"true", "1"}
            continue
        if key == "volume-nocopy":
            volume["NoCopy"] = not eq or value.lower() in {"true", "1"}
            continue
        if not eq:
            raise ValueError(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            if value not in {"bind", "volume", "tmpfs", "npipe", "cluster"}:
                raise ValueError(f"invalid mount type: {value}")
            mount["Type"] = value
        elif key in {"source", "src"}:
            mount["Source"] = value
        elif key in {"target", "destination", "dst"}:
            mount["Target"] = value
        elif key == "consistency":
            mount["Consistency"] = value
        elif key == "bind-propagation":
            bind["Propagation"] = value
        elif key == "volume-driver":
            volume.setdefault("DriverConfig", {})["Name"] = value
        elif key == "volume-label":
            name, _, label = value.partition("=")
            volume.setdefault("Labels", {})[name] = label
        elif key == "volume-opt":
            name, _, opt = value.partition("=")
            volume.setdefault("DriverConfig", {}).setdefault("Options", {})[name] = opt
        elif key == "tmpfs-size":
            tmpfs["SizeBytes"] = ram_in_bytes(value)
        elif key == "tmpfs-mode":
            tmpfs["Mode"] = int(value, 8)
        else:
            raise ValueError(f"unexpected key '{key}' in '{field}'")
    if "Target" not in mount:
        raise ValueError("target is required")
    if mount["Type"] == "bind" and "Source" not in mount:
        raise ValueError("source is required when specifying bind mounts")
    if volume:
        volume.setdefault("DriverConfig", {})  # the CLI always sends one with volume options
    for name, options, kind in (
        ("BindOptions", bind, "bind"),
        ("VolumeOptions", volume, "volume"),
        ("TmpfsOptions", tmpfs, "tmpfs"),
    ):
        if options:
            if mount["Type"] != kind:
                raise ValueError(f"cannot mix '{kind}-*' options with mount type '{mount['Type']}'")
            mount[name] = options
    return mount


def check_extra_host(spec: str) -> str:
    """`--add-host name:ip` (or `name=ip`), as the Engine stores it: `name:ip`."""
    name, sep, address = spec.partition("=")
    if not sep:
        name, sep, address = spec.partition(":")
    address = address.strip("[]")
    if not sep or not name or not address:
        raise ValueError(f'bad format for add-host: "{spec}"')
    if address != "host-gateway":
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f'invalid IP address in add-host: "{address}"') from None
    return f"{name}:{address}"


def check_ip(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text} is not an ip address") from None
    return text


def split_device(spec: str) -> tuple[str, str, str]:
    """`--device /dev/x[:/dev/y][:rwm]` as (host path, container path, permissions), with
    the CLI's refusals."""
    parts = spec.split(":")
    if len(parts) > 3:
        raise ValueError(f"bad format for path: {spec}")
    permissions = "rwm"
    if len(parts) > 1 and _is_device_mode(parts[-1]):
        permissions = parts.pop()
    elif len(parts) == 3:
        raise ValueError(f"bad mode specified: {parts[2]}")
    host, inside = parts[0], parts[-1]
    for path in (host, inside):
        if not path.startswith("/"):
            raise ValueError(f"{path} is not an absolute path")
    return host, inside, permissions


def _is_device_mode(text: str) -> bool:
    return 0 < len(text) <= 3 and set(text) <= set("rwm")


def namespace_mode(name: str, *, shares_containers: bool) -> Callable[[str], str]:
    """--pid, --uts, --userns: `host`, or (--pid) `container:<name>`; the CLI's words."""

    def check(text: str) -> str:
        shared = shares_containers and text.startswith("container:") and text != "container:"
        if text not in {"", "host"} and not shared:
            raise ValueError(f"invalid {name} mode")
        return text

    return check


ULIMITS = frozenset({"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue"})
ULIMITS |= {"nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}


def parse_ulimit(spec: str) -> dict[str, Any]:
    """`--ulimit nofile=1024[:2048]` as an Engine API Ulimit (go-units ParseUlimit)."""
    name, eq, limits = spec.partition("=")
    if not eq:
        raise ValueError(f"invalid ulimit argument: {spec}")
    if name not in ULIMITS:
        raise ValueError(f"invalid ulimit type: {name}")
    try:
        soft, hard = _int_pair(limits, ":", "ulimit")
    except ValueError:
        raise ValueError(f"invalid ulimit argument: {spec}") from None
    if soft > hard and hard != -1:
        raise ValueError(f"ulimit soft limit must be less than or equal to hard limit: {spec}")
    return {"Name": name, "Soft": soft, "Hard": hard}


def check_mac(text: str) -> str:
    if not _MAC.match(text):
        raise ValueError(f"{text} is not a valid mac address")
    return text


def duration_ns(text: str, flag: str) -> int:
    value = go_duration(text)
    if value < 0:
        raise ValueError(f"{flag} cannot be negative")
    return value


def normalize_capability(name: str) -> str:
    """The CLI sends `NET_ADMIN` as `CAP_NET_ADMIN`; `ALL` stays `ALL`."""
    upper = name.strip().upper()
    return upper if upper == "ALL" or upper.startswith("CAP_") else f"CAP_{upper}"
