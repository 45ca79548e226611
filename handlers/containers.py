"""Container verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

from typing import Any

import docker

from handlers.commands import ListContainers
from handlers.results import ContainerList, ContainerSummary, PortMapping


def list_containers(command: ListContainers, client: docker.DockerClient) -> ContainerList:
    # The low-level call is one request for the whole list; client.containers.list()
    # would inspect every container (one request each).
    found = client.api.containers(
        all=command.all,
        filters=command.filters or None,
        latest=command.latest,
        limit=command.last,
    )
    return ContainerList(
        containers=[container_summary(raw) for raw in found],
        quiet=command.quiet,
        no_trunc=command.no_trunc,
    )


def container_summary(raw: dict[str, Any]) -> ContainerSummary:
    """One entry of GET /containers/json as a model."""
    return ContainerSummary(
        id=raw["Id"],
        names=[name.lstrip("/") for name in raw.get("Names") or []],
        image=raw.get("Image", ""),
        command=raw.get("Command", ""),
        created=raw.get("Created", 0),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=[
            PortMapping(
                private_port=port["PrivatePort"],
                type=port.get("Type", "tcp"),
                public_port=port.get("PublicPort"),
                ip=port.get("IP"),
            )
            for port in raw.get("Ports") or []
        ],
        labels=raw.get("Labels") or {},
    )
