"""A container's `docker run`, read back from `docker inspect`: the create body that makes the
same container again (on a newer image), and what the newer image's defaults would change.

The engine merges an image's defaults into the container's Config at create (Cmd, Entrypoint,
Env, ExposedPorts, Labels, WorkingDir, User, Healthcheck, Volumes, StopSignal, Shell), so
inspect cannot tell a value someone gave from one the image gave. Comparing with the old
image's config can: what equals the old image's default is left out of the new body, so the
new image's default takes its place instead of the old one frozen in. (A value someone typed
that happens to equal the old default is taken for the default: inspect keeps no difference.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

#: Config fields the engine fills from the image when the create body leaves them out
INHERITED = (
    "Cmd",
    "Entrypoint",
    "Env",
    "ExposedPorts",
    "Labels",
    "WorkingDir",
    "User",
    "Healthcheck",
    "Volumes",
    "StopSignal",
    "Shell",
)
#: Config fields `docker run` sets that are the container's own, kept as inspect shows them
OWN_CONFIG = (
    "Domainname",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "StopTimeout",
    "MacAddress",
    "NetworkDisabled",
)
#: HostConfig fields inspect shows that a create must not send back as they are
HOST_LEFT_OUT = {"ContainerIDFile", "Links", "MaskedPaths", "ReadonlyPaths"}
#: network modes that are no network of their own (no endpoint settings to carry)
NOT_A_NETWORK = {"", "default", "bridge", "host", "none"}
_LINK = re.compile(r"^/?(?P<peer>[^:]+):/[^/]+/(?P<alias>.+)$")


class Recreation(BaseModel):
    """How to make the container again: the create body, the networks to connect it to
    after create (API 1.41 takes one network at create), and the anonymous volumes carried
    over by name so their data stays (what `docker compose up` does on a recreate)."""

    body: dict[str, Any]
    connects: dict[str, dict[str, Any]] = Field(default_factory=dict)
    carried: list[tuple[str, str]] = Field(default_factory=list)


class ConfigChange(BaseModel):
    """One default of the image that the container inherits and the new image changes."""

    field: str
    old: Any = None
    new: Any = None


def image_config(image: Mapping[str, Any] | None) -> dict[str, Any]:
    """An image inspect's Config (or a registry config blob's `config`), never None."""
    if not image:
        return {}
    return dict(image.get("Config") or image.get("config") or {})


def _same(given: Any, default: Any) -> bool:
    """Equal as the engine stores them: an empty list or map is no setting."""
    return (given or None) == (default or None)


def _links(links: list[str] | None) -> list[str] | None:
    """Inspect's `/peer:/self/alias` back to the `peer:alias` a create takes."""
    out = []
    for link in links or []:
        match = _LINK.match(link)
        out.append(f"{match['peer']}:{match['alias']}" if match else link)
    return out or None


def _anonymous_volumes(container: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(volume name, destination) of anonymous volumes: a `-v /path` or an image VOLUME.
    Named volumes, binds and --mount targets are already in HostConfig."""
    config = container.get("Config") or {}
    host = container.get("HostConfig") or {}
    declared = set((config.get("Volumes") or {}).keys())
    given = {bind.split(":")[1] for bind in host.get("Binds") or [] if ":" in bind}
    given |= {m.get("Target", "") for m in host.get("Mounts") or []}
    return [
        (m["Name"], m["Destination"])
        for m in container.get("Mounts") or []
        if m.get("Type") == "volume"
        and m.get("Destination") in declared
        and m.get("Destination") not in given
        and m.get("Name")
    ]


def _healthcheck(given: Mapping[str, Any] | None, default: Mapping[str, Any] | None) -> Any:
    """What of the container's healthcheck someone gave: the engine fills each field left
    zero from the image's, so only the fields that differ from the old image's are kept."""
    if not given:
        return None
    default = default or {}
    own = {k: v for k, v in given.items() if default.get(k) != v}
    return own or None


def recreate_body(
    container: Mapping[str, Any], old_image: Mapping[str, Any] | None, image: str | None = None
) -> Recreation:
    """The create body for `container` (its inspect) on `image` (default: the reference it
    was created with), leaving out what came from `old_image`'s defaults (its inspect)."""
    config = container.get("Config") or {}
    host = dict(container.get("HostConfig") or {})
    defaults = image_config(old_image)
    body: dict[str, Any] = {"Image": image or config.get("Image", "")}

    network_mode = str(host.get("NetworkMode") or "")
    hostname = config.get("Hostname") or ""
    # The engine names a container's host after its ID unless told otherwise; in another
    # container's or the host's namespace the hostname is theirs and may not be given.
    if (
        hostname
        and hostname != str(container.get("Id", ""))[:12]
        and network_mode != "host"
        and not network_mode.startswith("container:")
    ):
        body["Hostname"] = hostname
    for key in OWN_CONFIG:
        if config.get(key) not in (None, "", False):
            body[key] = config[key]

    entrypoint_inherited = _same(config.get("Entrypoint"), defaults.get("Entrypoint"))
    if not entrypoint_inherited:
        # An entrypoint reset with `--entrypoint ''` reads back as null; null would inherit.
        body["Entrypoint"] = config.get("Entrypoint") or [""]
    if not (entrypoint_inherited and _same(config.get("Cmd"), defaults.get("Cmd"))):
        body["Cmd"] = config.get("Cmd")
    default_env = set(defaults.get("Env") or [])
    body["Env"] = [e for e in config.get("Env") or [] if e not in default_env] or None
    default_labels = defaults.get("Labels") or {}
    body["Labels"] = {
        k: v
        for k, v in (config.get("Labels") or {}).items()
        if k not in default_labels or default_labels[k] != v
    }
    published = set((host.get("PortBindings") or {}).keys())
    default_ports = set((defaults.get("ExposedPorts") or {}).keys())
    exposed: dict[str, dict[str, str]] = {
        port: {}
        for port in (config.get("ExposedPorts") or {})
        if port not in default_ports or port in published
    }
    body["ExposedPorts"] = exposed or None
    default_volumes = set((defaults.get("Volumes") or {}).keys())
    volumes: dict[str, dict[str, str]] = {
        path: {} for path in config.get("Volumes") or {} if path not in default_volumes
    }
    body["Volumes"] = volumes or None
    for key in ("WorkingDir", "User", "StopSignal", "Shell"):
        if config.get(key) and not _same(config.get(key), defaults.get(key)):
            body[key] = config[key]
    health = _healthcheck(config.get("Healthcheck"), defaults.get("Healthcheck"))
    if health is not None:
        body["Healthcheck"] = health

    carried = _anonymous_volumes(container)
    new_host = {k: v for k, v in host.items() if k not in HOST_LEFT_OUT}
    if carried:
        new_host["Binds"] = [*(host.get("Binds") or []), *(f"{n}:{d}" for n, d in carried)]
    if host.get("Mounts"):
        # `--mount type=volume,target=/v` without a source is anonymous too: name it.
        volumes = {
            m.get("Destination"): m.get("Name")
            for m in container.get("Mounts") or []
            if m.get("Type") == "volume" and m.get("Name")
        }
        mounts = []
        for mount in host["Mounts"]:
            target = mount.get("Target")
            if mount.get("Type") == "volume" and not mount.get("Source") and target in volumes:
                mount = {**mount, "Source": volumes[target]}
                carried.append((str(volumes[target]), str(target)))
            mounts.append(mount)
        new_host["Mounts"] = mounts
    links = _links(host.get("Links"))
    if links:
        new_host["Links"] = links
    # The engine's own masks read back in full; sending them would freeze this engine's
    # list. Only `systempaths=unconfined` (empty lists) is the container's own choice.
    for key in ("MaskedPaths", "ReadonlyPaths"):
        if host.get(key) == []:
            new_host[key] = []
    body["HostConfig"] = new_host

    endpoints = _endpoints(container)
    # The engine files the default network mode's endpoint under `bridge`.
    listed = "bridge" if network_mode in ("", "default") else network_mode
    main = endpoints.pop(listed, None)
    if main is not None:
        body["NetworkingConfig"] = {"EndpointsConfig": {network_mode or "default": main}}
    return Recreation(body=body, connects=endpoints, carried=carried)


def _endpoints(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each user network's endpoint settings someone could give: aliases (without the short
    ID the engine adds), a fixed address, links, driver options."""
    short_id = str(container.get("Id", ""))[:12]
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    out: dict[str, dict[str, Any]] = {}
    for name, settings in networks.items():
        endpoint: dict[str, Any] = {}
        aliases = [a for a in settings.get("Aliases") or [] if a != short_id]
        if aliases:
            endpoint["Aliases"] = aliases
        if settings.get("IPAMConfig") is not None:
            endpoint["IPAMConfig"] = settings["IPAMConfig"]
        links = _links(settings.get("Links"))
        if links:
            endpoint["Links"] = links
        if settings.get("DriverOpts"):
            endpoint["DriverOpts"] = settings["DriverOpts"]
        if name in NOT_A_NETWORK and not endpoint:
            continue  # the default bridge, host or none, with nothing of its own to carry
        out[name] = endpoint
    return out


def inherited_changes(
    container: Mapping[str, Any],
    old_image: Mapping[str, Any] | None,
    new_image: Mapping[str, Any] | None,
) -> list[ConfigChange]:
    """The new image's defaults that will reach the container: fields it inherits (see
    recreate_body) whose default differs between the old image and the new one."""
    body = recreate_body(container, old_image).body
    old, new = image_config(old_image), image_config(new_image)
    changes = []
    for key in INHERITED:
        if key == "Cmd" and "Entrypoint" in body:
            continue  # an entrypoint of the container's own: the image's Cmd is not used
        given = body.get(key)
        if key in ("Env", "Labels", "ExposedPorts", "Volumes"):
            # Merged by entry: a change shows in entries the container did not set itself.
            if _same(old.get(key), new.get(key)):
                continue
        elif key in body and given is not None:
            continue  # the container's own value stays
        if not _same(old.get(key), new.get(key)):
            changes.append(ConfigChange(field=key, old=old.get(key), new=new.get(key)))
    return changes
