"""The labels of the containers a command acts on, looked up as its handler will look them
up: what the bot's protection rule (bot/protection.py) judges before anything changes."""

from __future__ import annotations

from typing import Any

import docker.errors

from handlers.commands import (
    Command,
    ConnectNetwork,
    ContainerAction,
    ExecContainer,
    RenameContainer,
    UpdateContainers,
    UpdateImage,
)
from handlers.engine_api import inspect
from handlers.services import service_target_labels


def target_names(command: Command) -> list[str]:
    """The containers a command changes, as typed."""
    if isinstance(command, ContainerAction | UpdateContainers):
        return list(command.containers)
    if isinstance(command, RenameContainer | ConnectNetwork | UpdateImage | ExecContainer):
        return [command.container]
    return []


def target_labels(command: Command, client: Any) -> dict[str, dict[str, str]]:
    """Each existing target's labels, by the name it was given; a missing container is left
    out (the handler reports it in its own words and order)."""
    services = service_target_labels(command, client)  # Swarm services, by their labels
    if services is not None:
        return services
    found: dict[str, dict[str, str]] = {}
    for name in target_names(command):
        try:
            attrs = inspect(client.api, "container", name)
        except docker.errors.NotFound:
            continue
        found[name] = dict((attrs.get("Config") or {}).get("Labels") or {})
    return found
