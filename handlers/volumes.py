"""Volume verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

from typing import Any

import docker

from handlers.commands import CreateVolume, ListVolumes
from handlers.context import Context
from handlers.engine_api import engine_request
from handlers.results import (
    VOLUME_HEADERS,
    BatchResult,
    FormattedResult,
    TableResult,
    labels_text,
    listing,
)
from handlers.template import Row


def create_volume(
    command: CreateVolume, client: docker.DockerClient, context: Context
) -> BatchResult:
    body = volume_body(command)
    context.admit("volume.create", body, command.name or "")
    answer = engine_request(client.api, "POST", "/volumes/create", body=body)
    return BatchResult(verb=command.verb, done=[answer["Name"]])


def volume_body(command: CreateVolume) -> dict[str, Any]:
    """The body of POST /volumes/create, as docker-py's create_volume builds it."""
    body: dict[str, Any] = {
        "Name": command.name,
        "Driver": command.driver,
        "DriverOpts": command.options or None,
    }
    if command.labels:
        body["Labels"] = command.labels
    return body


def list_volumes(
    command: ListVolumes, client: docker.DockerClient
) -> TableResult | FormattedResult:
    found = client.api.volumes(filters=command.filters or None).get("Volumes") or []
    rows = [
        Row(
            {
                "Availability": "N/A",  # cluster volumes only
                "Driver": v.get("Driver", ""),
                "Group": "N/A",
                "Labels": labels_text(v.get("Labels")),
                "Links": "N/A",  # the list has no usage data; `system df -v` has
                "Mountpoint": v.get("Mountpoint", ""),
                "Name": v["Name"],
                "Scope": v.get("Scope", ""),
                "Size": "N/A",
                "Status": "N/A",
            },
            v.get("Labels") or {},
        )
        for v in sorted(found, key=lambda v: v["Name"])
    ]
    return listing(
        f"{len(rows)} volumes",
        rows,
        VOLUME_HEADERS,
        ["Driver", "Name"],
        format=command.format,
        quiet="Name" if command.quiet else None,
    )
