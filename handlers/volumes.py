"""Volume verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

import docker

from handlers.commands import CreateVolume, ListVolumes
from handlers.results import BatchResult, Table, TableResult


def create_volume(command: CreateVolume, client: docker.DockerClient) -> BatchResult:
    answer = client.api.create_volume(
        name=command.name,
        driver=command.driver,
        driver_opts=command.options or None,
        labels=command.labels or None,
    )
    return BatchResult(verb=command.verb, done=[answer["Name"]])


def list_volumes(command: ListVolumes, client: docker.DockerClient) -> TableResult:
    found = client.api.volumes(filters=command.filters or None).get("Volumes") or []
    rows = [[v.get("Driver", ""), v["Name"]] for v in sorted(found, key=lambda v: v["Name"])]
    if command.quiet:
        return TableResult(
            title=f"{len(rows)} volumes",
            grid=Table(columns=["VOLUME NAME"], rows=[[r[1]] for r in rows]),
        )
    return TableResult(
        title=f"{len(rows)} volumes", grid=Table(columns=["DRIVER", "VOLUME NAME"], rows=rows)
    )
