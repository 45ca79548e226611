"""Dry runs of destructive commands: exactly what they would remove, asked of the engine.

The prune rules follow the engine's own: a stopped container; a top-level image that no
container uses and (without -a) has no tag; an unused volume; a user network with no
endpoints. `until` and `label` filters apply as the engine applies them.
"""

from __future__ import annotations

from typing import Any

import docker
import docker.errors
from pydantic import BaseModel, Field

from handlers.commands import ContainerAction, Filters, Prune, RemoveObjects
from handlers.service_commands import RemoveServices, ScaleServices
from handlers.services import service_preview
from handlers.units import human_size, point_in_time

PREDEFINED_NETWORKS = {"bridge", "host", "none", "ingress", "docker_gwbridge"}


# What a previewed verb does to its items, when it is not removing them.
_ACTIONS = {
    "container:stop": "stop",
    "container:kill": "kill",
    "container:restart": "restart",
    "container:pause": "pause",
    # only a scale to 0 asks first: the service stays, its tasks go
    "service:scale": "stop every task of",
}


class PreviewItem(BaseModel):
    kind: str  # container, image, volume, network
    id: str
    name: str = ""
    size: int = 0


class Preview(BaseModel):
    verb: str
    items: list[PreviewItem] = Field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.items)

    def lines(self) -> list[str]:
        out = []
        for item in self.items:
            size = f"  {human_size(item.size, 3)}" if item.size else ""
            short = item.id.removeprefix("sha256:")[:12]
            out.append(f"{item.kind:<9} {short:<12} {item.name}{size}")
        return out

    def summary(self) -> str:
        if not self.items:
            return f"would {_ACTIONS.get(self.verb, 'remove')} nothing"
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()]
        reclaim = f", about {human_size(self.bytes, 3)} reclaimed" if self.bytes else ""
        action = _ACTIONS.get(self.verb, "remove")
        return f"would {action} {', '.join(parts)}{reclaim}"


def preview(command: Any, client: docker.DockerClient) -> Preview:
    api = client.api
    result = Preview(verb=command.verb)
    if isinstance(command, RemoveServices | ScaleServices):
        result.items = [
            PreviewItem(kind=item["kind"], id=item["id"], name=item["name"])
            for item in service_preview(command, api)
        ]
        return result
    if isinstance(command, ContainerAction):
        for name in command.containers:
            try:
                found = api.inspect_container(name)
            except docker.errors.NotFound:
                continue
            running = found["State"].get("Running", False)
            if command.verb in {"container:stop", "container:kill"} and not running:
                continue
            result.items.append(
                PreviewItem(
                    kind="container",
                    id=found["Id"],
                    name=f"{found['Name'].lstrip('/')} ({found['State'].get('Status')})",
                )
            )
        return result
    if isinstance(command, RemoveObjects):
        kind = command.verb.split(":")[0]
        for name in command.names:
            try:
                found = api.inspect_network(name) if kind == "network" else api.inspect_volume(name)
            except docker.errors.NotFound:
                continue
            result.items.append(
                PreviewItem(
                    kind=kind,
                    id=found.get("Id", found.get("Name", "")),
                    name=found.get("Name", name),
                )
            )
        return result
    if isinstance(command, Prune):
        kind = command.verb.split(":")[0]
        pruned_containers: set[str] = set()
        if kind in {"container", "system"}:
            for item in _containers(api, command.filters):
                pruned_containers.add(item.id)
                result.items.append(item)
        if kind in {"network", "system"}:
            result.items += _networks(api, command.filters)
        if kind == "volume" or (kind == "system" and command.volumes):
            result.items += _volumes(api, command.filters, command.all)
        if kind in {"image", "system"}:
            result.items += _images(api, command.filters, command.all, pruned_containers)
    return result


def _until(filters: Filters) -> float | None:
    values = filters.get("until")
    if not values:
        return None
    return point_in_time(values[-1])


def _labels_match(labels: dict[str, str] | None, filters: Filters) -> bool:
    labels = labels or {}
    for spec in filters.get("label", []):
        key, eq, value = spec.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    # As the engine reads `label!`: excluded only when every one of them matches.
    excluded = filters.get("label!", [])
    return not excluded or not all(
        key in labels and (not eq or labels[key] == value)
        for key, eq, value in (spec.partition("=") for spec in excluded)
    )


def _containers(api: docker.APIClient, filters: Filters) -> list[PreviewItem]:
    until = _until(filters)
    found = api.containers(all=True, size=True, filters={"status": ["exited", "created", "dead"]})
    return [
        PreviewItem(
            kind="container",
            id=c["Id"],
            name=(c.get("Names") or ["/"])[0][1:],
            size=c.get("SizeRw") or 0,
        )
        for c in found
        if (until is None or c.get("Created", 0) < until)
        and _labels_match(c.get("Labels"), filters)
    ]


def _networks(api: docker.APIClient, filters: Filters) -> list[PreviewItem]:
    until = _until(filters)
    found = api.networks(filters={"dangling": ["true"]})
    items = []
    for network in found:
        if network["Name"] in PREDEFINED_NETWORKS:
            continue
        if not _labels_match(network.get("Labels"), filters):
            continue
        if until is not None and _created(network.get("Created", "")) >= until:
            continue
        # The engine reports pruned networks by name, so the preview names them the same way.
        items.append(PreviewItem(kind="network", id=network["Name"], name=network["Id"][:12]))

    return items


def _created(text: str) -> float:
    try:
        return point_in_time(text)
    except ValueError:
        return 0.0


def _volumes(api: docker.APIClient, filters: Filters, everything: bool) -> list[PreviewItem]:
    found = api.volumes(filters={"dangling": ["true"]}).get("Volumes") or []
    named_too = everything or str(api.api_version) < "1.42"
    sizes = {
        v["Name"]: max((v.get("UsageData") or {}).get("Size", 0), 0)
        for v in api.df().get("Volumes") or []
    }
    return [
        PreviewItem(kind="volume", id=v["Name"], name=v["Name"], size=sizes.get(v["Name"], 0))
        for v in found
        if _labels_match(v.get("Labels"), filters)
        and (named_too or "com.docker.volume.anonymous" in (v.get("Labels") or {}))
    ]


def _images(
    api: docker.APIClient, filters: Filters, everything: bool, leaving: set[str]
) -> list[PreviewItem]:
    until = _until(filters)
    images = api.images(all=True)
    parents = {i.get("ParentId") for i in images if i.get("ParentId")}
    in_use = {c["ImageID"] for c in api.containers(all=True) if c["Id"] not in leaving}
    items = []
    for image in images:
        if image["Id"] in parents or image["Id"] in in_use:
            continue
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        if tags and not everything:
            continue
        if until is not None and image.get("Created", 0) >= until:
            continue
        if not _labels_match(image.get("Labels"), filters):
            continue
        items.append(
            PreviewItem(
                kind="image",
                id=image["Id"],
                name=", ".join(tags) or "<none>",
                size=image.get("Size", 0),
            )
        )
    return items
