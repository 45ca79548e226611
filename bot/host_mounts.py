"""Host paths containers mount, and the one way two such mounts become an escape.

The engine follows symbolic links in a bind's source each time it mounts it: at create,
at every start, at every restart it does on its own (a restart policy, a daemon restart).
A container that can write to a directory *above* another bind's source can replace that
source with a link to `/`, and the next mount of it is the host's root. So no container
may hold write access above a path another mount (its own or another container's) binds.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HostMount:
    """A host path a container mounts, and whether the container can write to it."""

    owner: str  # the container's name, or "" for the one being checked
    owner_id: str
    source: str
    writable: bool


#: mount(8) options that make a local volume a bind of its `device` (both follow links)
BIND_OPTIONS = frozenset({"bind", "rbind"})


def bind_device(options: Mapping[str, Any] | None) -> str | None:
    """The host path a local volume binds (`-o o=bind -o device=/srv/x`, or `rbind`), if it
    does. One reading for the safety check and the overlap rule, so neither misses one."""
    lowered = {str(k).lower(): str(v) for k, v in (options or {}).items()}
    flags = {o.strip() for o in lowered.get("o", "").split(",")}
    if flags & BIND_OPTIONS and lowered.get("device"):
        return lowered["device"]
    return None


def of_host_config(
    host: Mapping[str, Any], volume_options: Callable[[str], Mapping[str, Any] | None]
) -> list[HostMount]:
    """The host paths a create body's (or an inspected container's) HostConfig mounts.
    `volume_options` gives a named volume's driver options (None: no such volume)."""
    found: list[HostMount] = []
    for bind in host.get("Binds") or []:
        parts = str(bind).split(":")
        if len(parts) < 2:
            continue
        writable = "ro" not in (parts[2].split(",") if len(parts) > 2 else [])
        source = parts[0]
        if not source.startswith("/"):
            source = bind_device(volume_options(source)) or ""
        if source:
            found.append(HostMount("", "", source, writable))
    for mount in host.get("Mounts") or []:
        writable = not mount.get("ReadOnly")
        source = str(mount.get("Source") or "")
        if mount.get("Type") == "volume":
            config = (mount.get("VolumeOptions") or {}).get("DriverConfig") or {}
            source = (
                bind_device(config.get("Options"))
                or (bind_device(volume_options(source)) if source else None)
                or ""
            )
        elif mount.get("Type") != "bind":
            continue
        if source:
            found.append(HostMount("", "", source, writable))
    return found


def of_listing(
    containers: Iterable[Mapping[str, Any]], volumes: Iterable[Mapping[str, Any]]
) -> list[HostMount]:
    """Every host path every container mounts, from one container listing and one volume
    listing (GET /containers/json?all=1, GET /volumes): two requests, whatever the count."""
    devices = {str(v.get("Name")): bind_device(v.get("Options")) for v in volumes}
    found: list[HostMount] = []
    for container in containers:
        owner = str((container.get("Names") or ["?"])[0]).lstrip("/")
        for mount in container.get("Mounts") or []:
            if mount.get("Type") == "bind":
                source = str(mount.get("Source") or "")
            elif mount.get("Type") == "volume":
                source = devices.get(str(mount.get("Name"))) or ""
            else:
                continue
            if source:
                found.append(
                    HostMount(owner, str(container.get("Id")), source, bool(mount.get("RW", True)))
                )
    return found


def _above(upper: str, lower: str) -> bool:
    """`upper` is a directory strictly above `lower`."""
    upper, lower = posixpath.normpath(upper), posixpath.normpath(lower)
    return upper != lower and lower.startswith(upper.rstrip("/") + "/")


def conflict(
    mine: list[HostMount], others: Iterable[HostMount]
) -> tuple[HostMount, HostMount] | None:
    """A pair (writer, bound) where `writer` can write above what `bound` mounts: among the
    container's own mounts, or between them and other containers' (either way round)."""
    for n, first in enumerate(mine):
        for second in mine[n + 1 :]:
            for writer, bound in ((first, second), (second, first)):
                if writer.writable and _above(writer.source, bound.source):
                    return writer, bound
    for other in others:
        for own in mine:
            if own.writable and _above(own.source, other.source):
                return own, other
            if other.writable and _above(other.source, own.source):
                return other, own
    return None
