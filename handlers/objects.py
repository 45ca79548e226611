"""inspect of any object, with the CLI's `--format` templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from handlers.commands import Inspect
from handlers.errors import NoSuchObject
from handlers.results import InspectResult
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
