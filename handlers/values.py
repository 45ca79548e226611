"""The docker CLI's value syntaxes, parsed and checked with the CLI's own messages:
port specs (`127.0.0.1:8080:80/udp`), restart policies (`on-failure:3`), `--mount`
fields, `--network` attachments, `--add-host`, `--dns`, `--dns-search`, `--mac-address`,
`--gpus`, `--link` and the block-IO device limits.
"""

from __future__ import annotations

import csv
import ipaddress
import posixpath
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from handlers.units import go_duration, ram_in_bytes

PROTOCOLS = ("tcp", "udp", "sctp")
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
# net.ParseMAC's forms: 6, 8 or 20 octets, as `aa:bb:..`, `aa-bb-..` or `aabb.ccdd...`.
_MAC = re.compile(
    r"^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2})+"
    r"|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4})+)$"
)


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
    """`--expose 80`, `--expose 7000-7002/udp`: container ports only. The CLI takes any
    protocol word here, as typed (`8080/ncp`); only `-p` checks it."""
    if ":" in spec:
        raise ValueError(f"invalid port format for --expose: {spec}")
    parts = spec.split("/")
    raw = parts[0]
    proto = parts[1] if len(parts) > 1 and parts[1] else "tcp"
    try:
        first, last = _go_port_range(raw)
    except ValueError as exc:
        raise ValueError(f"invalid range format for --expose: {spec}, error: {exc}") from None
    return [f"{port}/{proto}" for port in range(first, last + 1)]


def _go_port_range(text: str) -> tuple[int, int]:
    """nat.ParsePortRange: `80` or `80-90`, each an unsigned 16-bit number."""
    if text == "":
        raise ValueError("empty string specified for ports")
    parts = text.split("-")
    first = _uint16(parts[0])
    last = _uint16(parts[1]) if len(parts) > 1 else first
    if last < first:
        raise ValueError(f"invalid range specified for port: {text}")
    return first, last


def _uint16(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


class RestartPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        if text == "":
            # `--restart=`: the CLI sends no policy name at all, which the engine keeps as "".
            return cls(name="")
        name, colon, count = text.partition(":")
        if colon and not name:
            raise ValueError("invalid restart policy format: no policy provided before colon")
        if name not in RESTART_NAMES:
            raise ValueError(
                f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                "'on-failure', or 'unless-stopped'"
            )
        if not colon or count == "":
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


_GO_TRUE = {"1", "t", "true"}
_GO_BOOLS = _GO_TRUE | {"0", "f", "false"}
# bind-recursive's values and the BindOptions flag each sets (`enabled`: none).
_BIND_RECURSIVE = {
    "enabled": "",
    "disabled": "NonRecursive",
    "writable": "ReadOnlyNonRecursive",
    "readonly": "ReadOnlyForceRecursive",
}


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
        if key == "bind-nonrecursive":
            # Deprecated in the CLI for bind-recursive=disabled, still accepted.
            if eq and value.lower() not in _GO_BOOLS:
                raise ValueError(f"invalid value for {key}: {value}")
            bind["NonRecursive"] = not eq or value.lower() in _GO_TRUE
            continue
        if not eq:
            raise ValueError(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            value = value.lower()
            if value not in {"bind", "volume", "tmpfs", "npipe", "cluster"}:
                raise ValueError(f"invalid mount type: {value}")
            mount["Type"] = value
        elif key in {"source", "src"}:
            mount["Source"] = value
        elif key in {"target", "destination", "dst"}:
            mount["Target"] = value
        elif key == "consistency":
            mount["Consistency"] = value.lower()
        elif key == "bind-propagation":
            bind["Propagation"] = value.lower()
        elif key == "bind-recursive":
            if value not in _BIND_RECURSIVE:
                raise ValueError(
                    f'invalid value for {key}: {value} (must be "enabled", "disabled", '
                    '"writable", or "readonly")'
                )
            if _BIND_RECURSIVE[value]:  # `enabled` is the default: nothing to send
                bind[_BIND_RECURSIVE[value]] = True
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
    if bind.get("ReadOnlyNonRecursive") and not mount.get("ReadOnly"):
        raise ValueError(
            "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"
        )
    if bind.get("ReadOnlyForceRecursive"):
        if not mount.get("ReadOnly"):
            raise ValueError(
                "option 'bind-recursive=readonly' requires 'readonly' to be specified in "
                "conjunction"
            )
        if bind.get("Propagation") != "rprivate":
            raise ValueError(
                "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be "
                "specified in conjunction"
            )
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
    if not sep or not name or ":" in name:
        raise ValueError(f'bad format for add-host: "{spec}"')
    if address != "host-gateway":
        # Brackets around the address are dropped only when they pair up, as the CLI does.
        if len(address) > 2 and address[0] == "[" and address[-1] == "]":
            address = address[1:-1]
        if _go_ip(address) is None:
            raise ValueError(f'invalid IP address in add-host: "{address}"')
    return f"{name}:{address}"


def _go_ip(text: str) -> str | None:
    """net.ParseIP(strings.TrimSpace(text)).String(), or None: the canonical form Go
    prints (IPv6 compressed and lower case, an IPv4-mapped address as dotted IPv4)."""
    text = text.strip()
    if "%" in text:
        return None  # Go's ParseIP takes no zone
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def check_dns(text: str) -> str:
    """`--dns`: trimmed and canonicalised, as opts.ValidateIPAddress hands it on."""
    canonical = _go_ip(text)
    if canonical is None:
        raise ValueError(f"IP address is not correctly formatted: {text}")
    return canonical


# A domain as the CLI's validateDomain reads one. Its pattern writes `(:?` where a
# non-capturing `(?:` was meant, so an optional colon may precede each label: kept, since
# the point is to accept what the CLI accepts.
_LABEL = r":?(?:[a-zA-Z0-9]|:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^(:?{_LABEL}(?::?\.{_LABEL})*)\.?[\t\n\f\r ]*$")


def check_dns_search(text: str) -> str:
    """`--dns-search`: `.` for none, else a domain, sent without its trailing dot."""
    text = text.strip(" ")
    if text == ".":
        return text
    match = _DOMAIN.match(text)
    if not re.search("[a-zA-Z]", text) or not match or len(match.group(1)) >= 255:
        raise ValueError(f"{text} is not a valid domain")
    return match.group(1)


def check_ip(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text} is not an ip address") from None
    return text


def split_device(spec: str) -> tuple[str, str, str]:
    """`--device /dev/x[:/dev/y][:rwm]` as (host path, container path, permissions), with
    the CLI's refusals: only the path inside must be absolute (the host's is the engine's
    business), and it is sent cleaned (`/dev/x/../y` is `/dev/y`)."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ValueError(f"bad format for path: {spec}")
    permissions = "rwm"
    if len(parts) == 3:
        if not _is_device_mode(parts[2]):
            raise ValueError(f"bad mode specified: {parts[2]}")
        host, inside, permissions = parts
        inside_given = inside
    elif len(parts) == 2 and _is_device_mode(parts[1]):
        inside_given, permissions = parts
        host = inside = _clean(inside_given)
    elif len(parts) == 2:
        host, inside_given = parts
        inside = _clean(inside_given)
    else:
        inside_given = parts[0]
        host = inside = _clean(inside_given)
    if not inside_given.startswith("/"):
        raise ValueError(f"{inside_given} is not an absolute path")
    return host, inside, permissions


def _clean(path: str) -> str:
    """Go's path.Clean: like posixpath.normpath, but `//x` is `/x`."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _is_device_mode(text: str) -> bool:
    """r, w and m, each at most once (`rr` is no mode: it is read as a path)."""
    return 0 < len(text) <= 3 and set(text) <= set("rwm") and len(set(text)) == len(text)


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
    """opts.ValidateMACAddress: what net.ParseMAC takes, after trimming; sent as given."""
    trimmed = text.strip()
    octets = len(re.findall("[0-9A-Fa-f]{2}", trimmed))
    if not _MAC.match(trimmed) or octets not in (6, 8, 20):
        raise ValueError(f"{text} is not a valid mac address")
    return text


def duration_ns(text: str, flag: str) -> int:
    value = go_duration(text)
    if value < 0:
        raise ValueError(f"{flag} cannot be negative")
    return value


def normalize_capability(name: str) -> str:
    """The CLI sends `NET_ADMIN` as `CAP_NET_ADMIN`; `ALL` stays `ALL`. It does not trim:
    ` MKNOD ` goes as `CAP_ MKNOD `, and the engine refuses it."""
    upper = name.upper()
    return upper if upper == "ALL" or upper.startswith("CAP_") else f"CAP_{upper}"


def capability_list(names: list[str]) -> list[str]:
    """Each capability once, sorted, as the docker client sends --cap-add/--cap-drop."""
    return sorted(set(names))


# --- --network, --link, --gpus, block IO ----------------------------------------------


class NetworkAttachment(BaseModel):
    """One `--network`: a name, or the extended `name=NET,alias=A,ip=...` form."""

    model_config = ConfigDict(frozen=True)

    target: str
    aliases: tuple[str, ...] = ()
    driver_opts: tuple[tuple[str, str], ...] = ()
    links: tuple[str, ...] = ()
    ipv4: str = ""
    ipv6: str = ""
    link_local_ips: tuple[str, ...] = ()
    mac_address: str = ""
    gw_priority: int = 0
    extended: bool = False


# The CLI reads a value as the extended form when this occurs anywhere in it (unanchored,
# Go's ASCII \w): `name=web` is extended, `web` and `container:x` are names.
_EXTENDED_NETWORK = re.compile(r"\w+=\w+(,\w+=\w+)*", re.ASCII)


def parse_network(spec: str) -> NetworkAttachment:
    """opts.NetworkOpt.Set: keys and values are read lower-cased, as the CLI reads them."""
    if not _EXTENDED_NETWORK.search(spec):
        return NetworkAttachment(target=spec)
    found: dict[str, Any] = {"aliases": [], "link_local_ips": [], "driver_opts": {}}
    for field in _csv_fields(spec):
        key, eq, value = field.lower().partition("=")
        if not eq or key == "":
            raise ValueError(f"invalid field {field}")
        key, value = key.strip(), value.strip()
        if key == "name":
            found["target"] = value
        elif key == "alias":
            found["aliases"].append(value)
        elif key == "ip":
            found["ipv4"] = value
        elif key == "ip6":
            found["ipv6"] = value
        elif key == "mac-address":
            found["mac_address"] = value
        elif key == "link-local-ip":
            found["link_local_ips"].append(value)
        elif key == "driver-opt":
            name, eq, option = value.partition("=")
            if not eq or name == "":
                raise ValueError("invalid key value pair format in driver options")
            found["driver_opts"][name.strip()] = option.strip()
        elif key == "gw-priority":
            try:
                found["gw_priority"] = int(value, 10)
            except ValueError:
                raise ValueError(f"invalid gw-priority ({value}): invalid syntax") from None
        else:
            raise ValueError(f"invalid field key {key}")
    if not found.get("target"):
        raise ValueError("network name/id is not specified")
    return NetworkAttachment(
        **{
            **found,
            "aliases": tuple(found["aliases"]),
            "link_local_ips": tuple(found["link_local_ips"]),
            "driver_opts": tuple(found["driver_opts"].items()),
            "extended": True,
        }
    )


def _csv_fields(spec: str) -> list[str]:
    """One line of Go's encoding/csv, which the CLI uses for its `k=v,k=v` values."""
    try:
        return next(csv.reader([spec], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise ValueError(f"parse error: {exc}") from None


def check_link(spec: str) -> str:
    """opts.ValidateLink: `name` or `name:alias`."""
    if spec == "":
        raise ValueError("empty string specified for links")
    if spec.count(":") > 1:
        raise ValueError(f"bad format for links: {spec}")
    return spec


def parse_gpus(spec: str) -> dict[str, Any]:
    """opts.GpuOpts.Set: `all`, `2`, `count=2,capabilities=utility`, `"device=0,1"`, as an
    Engine API DeviceRequest."""
    request: dict[str, Any] = {"Driver": "", "Count": 0, "DeviceIDs": None}
    seen: set[str] = set()
    for field in _csv_fields(spec):
        key, eq, value = field.partition("=")
        if key in seen:
            raise ValueError(f"gpu request key '{key}' can be specified only once")
        seen.add(key)
        if not eq:
            seen.add("count")
            request["Count"] = _gpu_count(key)
        elif key == "driver":
            request["Driver"] = value
        elif key == "count":
            request["Count"] = _gpu_count(value)
        elif key == "device":
            request["DeviceIDs"] = value.split(",")
        elif key == "capabilities":
            request["Capabilities"] = [[*value.split(","), "gpu"]]
        elif key == "options":
            try:
                options = _csv_fields(value)
            except ValueError as exc:
                raise ValueError(f"failed to read gpu options: {exc}") from None
            request["Options"] = {k: v for k, _, v in (o.partition("=") for o in options)}
        else:
            raise ValueError(f"unexpected key '{key}' in '{field}'")
    if "count" not in seen and request["DeviceIDs"] is None:
        request["Count"] = 1
    request.setdefault("Options", {})
    request.setdefault("Capabilities", [["gpu"]])
    return request


def _gpu_count(text: str) -> int:
    if text == "all":
        return -1
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError(
            f'invalid count ({text}): value must be either "all" or an integer: invalid syntax'
        ) from None


def _device_and(spec: str) -> tuple[str, str]:
    path, colon, value = spec.partition(":")
    if not colon or path == "":
        raise ValueError(f"bad format: {spec}")
    if not path.startswith("/dev/"):
        raise ValueError(f"bad format for device path: {spec}")
    return path, value


def parse_weight_device(spec: str) -> dict[str, Any]:
    """`--blkio-weight-device /dev/sda:300`: 10 to 1000, or 0."""
    path, value = _device_and(spec)
    weight = int(value) if value.isascii() and value.isdigit() else -1
    if not 0 <= weight <= 65535 or (weight > 0 and not 10 <= weight <= 1000):
        raise ValueError(f"invalid weight for device: {spec}")
    return {"Path": path, "Weight": weight}


def parse_throttle_bps(spec: str) -> dict[str, Any]:
    """`--device-read-bps /dev/sda:1mb`: a rate in bytes per second, with go-units sizes."""
    path, value = _device_and(spec)
    try:
        rate = ram_in_bytes(value)
    except ValueError:
        rate = -1
    if rate < 0:
        raise ValueError(
            f"invalid rate for device: {spec}. The correct format is "
            "<device-path>:<number>[<unit>]. Number must be a positive integer. "
            "Unit is optional and can be kb, mb, or gb"
        )
    return {"Path": path, "Rate": rate}


def parse_throttle_iops(spec: str) -> dict[str, Any]:
    """`--device-read-iops /dev/sda:100`: a plain count per second."""
    path, value = _device_and(spec)
    if not (value.isascii() and value.isdigit()) or int(value) >= 1 << 64:
        raise ValueError(
            f"invalid rate for device: {spec}. The correct format is "
            "<device-path>:<number>. Number must be a positive integer"
        )
    return {"Path": path, "Rate": int(value)}


_CGROUP_RULE = re.compile(r"^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$")


def check_device_cgroup_rule(rule: str) -> str:
    if not _CGROUP_RULE.match(rule):
        raise ValueError(f"invalid device cgroup format '{rule}'")
    return rule
