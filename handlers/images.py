"""Image verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

from typing import Any

import docker

from handlers.commands import ListImages
from handlers.results import ImageList, ImageSummary


def list_images(command: ListImages, client: docker.DockerClient) -> ImageList:
    filters = dict(command.filters)
    if command.repository:
        filters.setdefault("reference", []).append(command.repository)
    found = client.api.images(all=command.all, filters=filters or None)
    images = sorted((image_summary(raw) for raw in found), key=lambda i: -i.created)
    return ImageList(
        images=images, quiet=command.quiet, digests=command.digests, no_trunc=command.no_trunc
    )


def image_summary(raw: dict[str, Any]) -> ImageSummary:
    """One entry of GET /images/json as a model."""
    return ImageSummary(
        id=raw["Id"],
        repo_tags=raw.get("RepoTags") or [],
        repo_digests=raw.get("RepoDigests") or [],
        created=raw.get("Created", 0),
        size=raw.get("Size", 0),
        labels=raw.get("Labels") or {},
    )
