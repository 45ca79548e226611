"""Image verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import docker
import docker.errors

from handlers.commands import (
    ImageHistory,
    ListImages,
    Login,
    Logout,
    PullImage,
    PushImage,
    RemoveImages,
    SearchImages,
    TagImage,
)
from handlers.context import Context
from handlers.engine_api import engine_request
from handlers.engines import explain
from handlers.errors import EngineError, Hint, UsageError
from handlers.progress import LayerTracker
from handlers.registry import DOCKER_HUB, catalog_search, registry_of, split_reference
from handlers.results import (
    HISTORY_HEADERS,
    IMAGES_HEADERS,
    BatchResult,
    FormattedResult,
    ImageList,
    ImageSummary,
    PullResult,
    PushResult,
    SearchHit,
    SearchResult,
    TableResult,
    TagResult,
    TextResult,
    listing,
)
from handlers.template import Row, listing_template, render_listing
from handlers.units import human_duration, human_size


def list_images(command: ListImages, client: docker.DockerClient) -> ImageList | FormattedResult:
    filters = dict(command.filters)
    if command.repository:
        filters.setdefault("reference", []).append(command.repository)
    found = client.api.images(all=command.all, filters=filters or None)
    images = sorted((image_summary(raw) for raw in found), key=lambda i: -i.created)
    found_images = ImageList(
        images=images, quiet=command.quiet, digests=command.digests, no_trunc=command.no_trunc
    )
    template = listing_template(command.format, command.quiet)
    if template is None:
        return found_images
    now = time.time()
    rows = [row for image in images for row in image.cli_rows(command.no_trunc, now)]
    return FormattedResult(
        title=found_images.summary(), lines=render_listing(template, rows, IMAGES_HEADERS)
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


def pull_reference(
    client: docker.DockerClient,
    reference: str,
    context: Context,
    *,
    all_tags: bool = False,
    platform: str | None = None,
) -> PullResult:
    repository, tag = split_reference(reference)
    if tag is None and not all_tags:
        tag = "latest"  # the CLI's default
    if tag is not None and all_tags:
        raise UsageError("tag can't be used with --all-tags/-a", token=reference)
    auth_config = context.auth_config(registry_of(reference))
    shown = repository + (
        f"@{tag}" if tag and tag.startswith("sha256:") else f":{tag}" if tag else ""
    )
    tracker = LayerTracker(f"Pulling {shown}", context.progress)
    stream = client.api.pull(
        repository,
        tag=tag,
        stream=True,
        decode=True,
        all_tags=all_tags,
        platform=platform,
        auth_config=auth_config,
    )
    for event in stream:
        tracker.feed(event)
    digest = tracker.find_status("Digest: ") or ""
    return PullResult(
        reference=shown,
        digest=digest.removeprefix("Digest: "),
        status=tracker.find_status("Status: ") or "",
        layers=tracker.report().layers,
    )


def pull_image(command: PullImage, client: docker.DockerClient, context: Context) -> PullResult:
    return pull_reference(
        client, command.name, context, all_tags=command.all_tags, platform=command.platform
    )


def push_image(command: PushImage, client: docker.DockerClient, context: Context) -> PushResult:
    repository, tag = split_reference(command.name)
    if tag is None and not command.all_tags:
        tag = "latest"
    auth_config = context.auth_config(registry_of(command.name))
    tracker = LayerTracker(f"Pushing {command.name}", context.progress)
    stream = client.api.push(
        repository,
        tag=tag,
        stream=True,
        decode=True,
        auth_config=auth_config,
    )
    digest, size = "", 0
    for event in stream:
        tracker.feed(event)
        aux = event.get("aux") or {}
        if aux.get("Digest"):
            digest, size = aux["Digest"], int(aux.get("Size", 0))
    return PushResult(
        reference=f"{repository}:{tag}" if tag else repository, digest=digest, size=size
    )


def tag_image(command: TagImage, client: docker.DockerClient) -> TagResult:
    repository, tag = split_reference(command.target)  # not a digest: TagImage checked it
    client.api.tag(command.source, repository, tag=tag or "latest")
    image_id = client.api.inspect_image(command.target if tag else f"{repository}:latest")["Id"]
    return TagResult(
        source=command.source, target=f"{repository}:{tag or 'latest'}", image_id=image_id
    )


def remove_images(command: RemoveImages, client: docker.DockerClient) -> BatchResult:
    result = BatchResult(verb=command.verb)
    for image in command.images:
        try:
            answer = client.api.remove_image(image, force=command.force, noprune=command.no_prune)
        except docker.errors.APIError as exc:
            result.errors.append((image, explain(exc)))
            continue
        for entry in answer or []:
            for key in ("Untagged", "Deleted"):
                if key in entry:
                    result.done.append(f"{key}: {entry[key]}")
    return result


def image_history(
    command: ImageHistory, client: docker.DockerClient
) -> TableResult | FormattedResult:
    now = time.time()
    rows = []
    for layer in client.api.history(command.image):
        layer_id = str(layer.get("Id", "<missing>"))
        created_by = str(layer.get("CreatedBy", ""))
        if not command.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        created = int(layer.get("Created", 0))
        # Go's RFC 3339: the local zone, "Z" when that is UTC.
        stamp = datetime.fromtimestamp(created).astimezone().isoformat().replace("+00:00", "Z")
        rows.append(
            Row(
                {
                    "Comment": str(layer.get("Comment", "")),
                    "CreatedAt": stamp,
                    "CreatedBy": created_by,
                    # -H=false: times and sizes as the machine has them, as the CLI
                    "CreatedSince": f"{human_duration(now - created)} ago"
                    if command.human
                    else stamp,
                    "ID": layer_id
                    if command.no_trunc or layer_id == "<missing>"
                    else layer_id.removeprefix("sha256:")[:12],
                    "Size": human_size(layer.get("Size", 0), 3)
                    if command.human
                    else str(layer.get("Size", 0)),
                },
            )
        )
    return listing(
        f"history of {command.image}",
        rows,
        HISTORY_HEADERS,
        ["ID", "CreatedSince", "CreatedBy", "Size", "Comment"],
        format=command.format,
        quiet="ID" if command.quiet else None,
    )


def search_images(
    command: SearchImages, client: docker.DockerClient, context: Context
) -> SearchResult:
    _check_search_filters(command.filters)
    registry = registry_of(command.term) if "/" in command.term else DOCKER_HUB
    # Asked first, whichever registry: the bot's lookup refuses one the policy does not
    # allow before anything is sent there, and gives only the requester's own login.
    auth = context.credentials(registry)
    if registry != DOCKER_HUB:
        term = command.term.split("/", 1)[1]
        found = catalog_search(
            registry, term, auth, limit=command.limit, timeout=client.api.timeout
        )
        hits = [SearchHit(name=f"{registry}/{name}", tags=tags) for name, tags in found]
        return SearchResult(term=term, source=registry, hits=hits, no_trunc=command.no_trunc)
    try:
        raw = client.api.search(command.term, limit=command.limit)
    except docker.errors.APIError as exc:
        raise EngineError(
            f"Docker Hub search failed: the engine could not reach it ({exc.explanation or exc})"
        ) from exc
    hits = [
        SearchHit(
            name=r.get("name", ""),
            description=r.get("description", ""),
            stars=int(r.get("star_count", 0)),
            official=bool(r.get("is_official")),
        )
        for r in raw
    ]
    return SearchResult(
        term=command.term,
        source="Docker Hub",
        hits=_filter_hits(hits, command.filters),
        no_trunc=command.no_trunc,
    )


def _check_search_filters(filters: dict[str, list[str]]) -> None:
    """As the daemon judges them before it asks any registry, in its words: only stars (a
    number), is-official and is-automated (true or false)."""
    for key, values in filters.items():
        if key not in {"stars", "is-official", "is-automated"}:
            raise EngineError(f"Invalid filter '{key}'")
        for value in values:
            if key == "stars" and not value.isdigit():
                raise EngineError(f"Invalid filter 'stars={value}'")
            if key != "stars" and value.lower() not in {"true", "false", "1", "0"}:
                raise EngineError(f"Invalid filter '{key}=[{value}]'")


def _filter_hits(hits: list[SearchHit], filters: dict[str, list[str]]) -> list[SearchHit]:
    for key, values in filters.items():
        for value in values:
            if key == "stars":
                hits = [h for h in hits if h.stars >= int(value)]
            elif key == "is-official":
                hits = [h for h in hits if h.official == (value.lower() in {"true", "1"})]
    return hits


def login(command: Login, client: docker.DockerClient, context: Context) -> TextResult:
    server = command.server or DOCKER_HUB
    auth = context.credentials(server)
    if auth is None:
        raise UsageError(
            f"no credentials for {server}", token=server, hint=Hint("login-privately", server)
        )
    # The engine checks the credentials against the registry. Not docker-py's login(): it
    # would cache them in the shared client, for every later user of this host.
    engine_request(client.api, "POST", "/auth", body=auth.auth_config())
    return TextResult(title="Login Succeeded", text=f"{auth.username} @ {server}")


def logout(command: Logout, client: docker.DockerClient) -> TextResult:
    server = command.server or DOCKER_HUB
    return TextResult(title=f"Removing login credentials for {server}", text="")
