"""Verbs over any kind of object: inspect (with the CLI's `--format` templates) and the
removal of networks and volumes by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from handlers.commands import Inspect, RemoveObjects
from handlers.engines import explain
from handlers.errors import NoSuchObject
from handlers.results import BatchResult, InspectResult
from handlers.template import render


def inspect_objects(command: Inspect, client: docker.DockerClient) -> InspectResult:
    api = client.api
    lookups: dict[str, Callable[[str], dict[str, Any]]] = {
        "container": api.inspect_container,
        "image": api.inspect_image,
        "network": api.inspect_network,
        "volume": api.inspect_volume,
    }
    kind = command.verb.split(":")[0]
    order = [lookups[kind]] if kind in lookups else list(lookups.values())
    objects = []
    for name in command.names:
        for lookup in order:
            try:
                objects.append(lookup(name))
                break
            except docker.errors.NotFound:
                continue
        else:
            what = "object" if kind == "inspect" else kind
            raise NoSuchObject(f"Error: No such {what}: {name}")
    formatted = [render(command.format, o) for o in objects] if command.format else None
    return InspectResult(objects=objects, formatted=formatted)


def remove_objects(command: RemoveObjects, client: docker.DockerClient) -> BatchResult:
    result = BatchResult(verb=command.verb)
    for name in command.names:
        try:
            if command.verb == "network:rm":
                client.api.remove_network(name)
            else:
                client.api.remove_volume(name, force=command.force)
            result.done.append(name)
        except docker.errors.APIError as exc:
            result.errors.append((name, explain(exc)))
    return result
