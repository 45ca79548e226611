"""System verbs (version, info): a command model and a Docker client in, a result out."""

from __future__ import annotations

import platform
import time
from typing import Any

import docker
import docker.errors

from handlers.commands import DiskUsage, Prune, ShowInfo, ShowVersion
from handlers.containers import container_summary
from handlers.context import Context
from handlers.images import image_summary
from handlers.progress import ProgressReport
from handlers.results import (
    DF_HEADERS,
    EngineInfo,
    EngineVersion,
    FormattedResult,
    PruneResult,
    TableResult,
    listing,
)
from handlers.template import Row, align_columns, render
from handlers.units import human_duration, human_size, point_in_time


def show_version(
    command: ShowVersion, client: docker.DockerClient
) -> EngineVersion | FormattedResult:
    raw = client.version()
    if command.format:
        # The CLI's .Client is the CLI itself; here the client is Dockhand's docker-py.
        about = {"Client": {"Version": docker.__version__, "ApiVersion": client.api.api_version}}
        lines = [render(command.format, {**about, "Server": raw}, go_names=True)]
        return FormattedResult(title=f"version of {command.host}", lines=lines)
    components = {
        c["Name"]: c.get("Version", "")
        for c in raw.get("Components") or []
        if c.get("Name") != "Engine"
    }
    return EngineVersion(
        host=command.host,
        version=raw.get("Version", ""),
        api_version=raw.get("ApiVersion", ""),
        min_api_version=raw.get("MinAPIVersion", ""),
        os=raw.get("Os", ""),
        arch=raw.get("Arch", ""),
        kernel_version=raw.get("KernelVersion", ""),
        git_commit=raw.get("GitCommit", ""),
        go_version=raw.get("GoVersion", ""),
        components=components,
        server=raw,
        client={
            "Version": dockhand_version(),
            "ApiVersion": str(client.api.api_version),
            "docker-py": docker.__version__,
            "Python": platform.python_version(),
            "OS/Arch": f"{platform.system().lower()}/{_go_arch()}",
            "Context": command.host,
        },
    )


# Python's platform.machine() in Go's GOARCH words, as `docker version` writes OS/Arch.
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _go_arch() -> str:
    return _GO_ARCH.get(platform.machine(), platform.machine())


def dockhand_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("dockhand")
    except metadata.PackageNotFoundError:
        return "unknown"


def show_info(command: ShowInfo, client: docker.DockerClient) -> EngineInfo | FormattedResult:
    raw = client.info()
    if command.format:
        lines = [render(command.format, raw, go_names=True)]
        return FormattedResult(title=f"info of {command.host}", lines=lines)
    return EngineInfo(
        host=command.host,
        name=raw.get("Name", ""),
        server_version=raw.get("ServerVersion", ""),
        containers=raw.get("Containers", 0),
        running=raw.get("ContainersRunning", 0),
        paused=raw.get("ContainersPaused", 0),
        stopped=raw.get("ContainersStopped", 0),
        images=raw.get("Images", 0),
        storage_driver=raw.get("Driver", ""),
        cgroup_driver=raw.get("CgroupDriver", ""),
        cgroup_version=raw.get("CgroupVersion", ""),
        kernel_version=raw.get("KernelVersion", ""),
        operating_system=raw.get("OperatingSystem", ""),
        architecture=raw.get("Architecture", ""),
        cpus=raw.get("NCPU", 0),
        memory=raw.get("MemTotal", 0),
        docker_root_dir=raw.get("DockerRootDir", ""),
        warnings=raw.get("Warnings") or [],
        server=raw,
    )


def disk_usage(command: DiskUsage, client: docker.DockerClient) -> TableResult | FormattedResult:
    """`docker system df`: the CLI's arithmetic over GET /system/df."""
    raw = client.api.df()
    images = raw.get("Images") or []
    containers = raw.get("Containers") or []
    volumes = raw.get("Volumes") or []
    cache = raw.get("BuildCache") or []
    image_size = sum(i.get("Size", 0) for i in images)
    shared = sum(i.get("SharedSize", 0) for i in images if i.get("SharedSize", 0) > 0)
    image_active = [i for i in images if i.get("Containers", 0) > 0]
    active_size = sum(i.get("Size", 0) - max(i.get("SharedSize", 0), 0) for i in image_active)
    image_reclaim = max(image_size - active_size - (shared if image_active else 0), 0)
    running = [c for c in containers if c.get("State") in {"running", "paused", "restarting"}]
    container_size = sum(c.get("SizeRw", 0) for c in containers)
    container_reclaim = sum(c.get("SizeRw", 0) for c in containers if c not in running)
    volume_size = sum(max(v.get("UsageData", {}).get("Size", 0), 0) for v in volumes)
    volume_active = [v for v in volumes if v.get("UsageData", {}).get("RefCount", 0) > 0]
    volume_reclaim = sum(
        max(v.get("UsageData", {}).get("Size", 0), 0) for v in volumes if v not in volume_active
    )
    cache_size = sum(b.get("Size", 0) for b in cache)
    cache_reclaim = sum(
        b.get("Size", 0) for b in cache if not b.get("InUse") and not b.get("Shared")
    )

    def reclaim(part: int, total: int) -> str:
        percent = f" ({part * 100 // total}%)" if total else ""
        return human_size(part) + percent

    rows = [
        [
            "Images",
            str(len(images)),
            str(len(image_active)),
            human_size(image_size),
            reclaim(image_reclaim, image_size),
        ],
        [
            "Containers",
            str(len(containers)),
            str(len(running)),
            human_size(container_size),
            reclaim(container_reclaim, container_size),
        ],
        [
            "Local Volumes",
            str(len(volumes)),
            str(len(volume_active)),
            human_size(volume_size),
            reclaim(volume_reclaim, volume_size),
        ],
        [
            "Build Cache",
            str(len(cache)),
            str(sum(1 for b in cache if b.get("InUse"))),
            human_size(cache_size),
            human_size(cache_reclaim),
        ],
    ]
    title = f"disk usage on {command.host}"
    if command.verbose and not command.format:
        return FormattedResult(title=title, lines=_verbose_usage(raw, cache_size))
    fields = ["Type", "TotalCount", "Active", "Size", "Reclaimable"]
    return listing(
        title,
        [Row(dict(zip(fields, row, strict=True))) for row in rows],
        DF_HEADERS,
        fields,
        format=command.format,
        quiet=None,
    )


def _verbose_usage(raw: dict[str, Any], cache_size: int) -> list[str]:
    """`docker system df -v` as the CLI prints it: a table for each kind of object."""
    now = time.time()
    image_rows = [
        "\t".join(
            [
                *(fields[name] for name in ("Repository", "Tag", "ID", "CreatedSince", "Size")),
                human_size(max(i.get("SharedSize", 0), 0), 3),
                human_size(i.get("Size", 0) - max(i.get("SharedSize", 0), 0)),
                str(max(i.get("Containers", 0), 0)),
            ]
        )
        for i in raw.get("Images") or []
        for fields in image_summary(i).cli_rows(False, now)
    ]
    container_rows = []
    for c in raw.get("Containers") or []:
        fields = container_summary(c).cli_fields(False, now)
        shown = [fields[name] for name in ("ID", "Image", "Command", "LocalVolumes")]
        shown += [human_size(c.get("SizeRw", 0), 3)]
        shown += [fields[name] for name in ("RunningFor", "Status", "Names")]
        container_rows.append("\t".join(shown))
    volume_rows = [
        "\t".join(
            [
                v["Name"],
                str(max((v.get("UsageData") or {}).get("RefCount", 0), 0)),
                human_size(max((v.get("UsageData") or {}).get("Size", 0), 0), 3),
            ]
        )
        for v in raw.get("Volumes") or []
    ]
    cache_rows = [
        "\t".join(
            [
                b.get("ID", "")[:12],
                b.get("Type", ""),
                human_size(b.get("Size", 0), 3),
                f"{human_duration(now - point_in_time(b.get('CreatedAt') or '0'))} ago",
                f"{human_duration(now - point_in_time(b.get('LastUsedAt') or '0'))} ago",
                str(b.get("UsageCount", 0)),
                "true" if b.get("Shared") else "false",
            ]
        )
        for b in raw.get("BuildCache") or []
    ]
    return [
        "Images space usage:",
        "",
        *align_columns(
            [
                "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS",
                *image_rows,
            ]
        ),
        "",
        "Containers space usage:",
        "",
        *align_columns(
            [
                "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES",
                *container_rows,
            ]
        ),
        "",
        "Local Volumes space usage:",
        "",
        *align_columns(["VOLUME NAME\tLINKS\tSIZE", *volume_rows]),
        "",
        f"Build cache usage: {human_size(cache_size)}",
        "",
        *align_columns(
            ["CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED", *cache_rows]
        ),
    ]


def prune(command: Prune, client: docker.DockerClient, context: Context) -> PruneResult:
    """container, image, network, volume and system prune, as the CLI asks the engine."""
    api = client.api
    kind = command.verb.split(":")[0]
    filters = dict(command.filters)
    deleted: list[str] = []
    reclaimed = 0

    def note(step: str) -> None:
        if context.progress is not None:
            context.progress(ProgressReport(action=f"Pruning {kind}s", message=step))

    if kind in {"container", "system"}:
        note("removing stopped containers")
        answer = api.prune_containers(filters=filters or None)
        deleted += [f"container {c}" for c in answer.get("ContainersDeleted") or []]
        reclaimed += answer.get("SpaceReclaimed") or 0
    if kind in {"network", "system"}:
        note("removing unused networks")
        answer = api.prune_networks(filters=filters or None)
        deleted += [f"network {n}" for n in answer.get("NetworksDeleted") or []]
    if kind == "volume" or (kind == "system" and command.volumes):
        note("removing unused volumes")
        volume_filters = {k: v for k, v in filters.items() if k != "until"}
        if command.all and _api_at_least(api, "1.42"):
            volume_filters["all"] = ["true"]
        answer = api.prune_volumes(filters=volume_filters or None)
        deleted += [f"volume {v}" for v in answer.get("VolumesDeleted") or []]
        reclaimed += answer.get("SpaceReclaimed") or 0
    if kind in {"image", "system"}:
        note("removing images")
        image_filters = {**filters, "dangling": ["false" if command.all else "true"]}
        answer = api.prune_images(filters=image_filters)
        for entry in answer.get("ImagesDeleted") or []:
            deleted += [f"{key.lower()} {value}" for key, value in entry.items()]
        reclaimed += answer.get("SpaceReclaimed") or 0
    if kind == "system":
        note("removing build cache")
        try:
            answer = api.prune_builds()
            reclaimed += answer.get("SpaceReclaimed") or 0
            deleted += [f"build cache {c}" for c in answer.get("CachesDeleted") or []]
        except docker.errors.APIError:
            pass  # an engine without BuildKit has no build cache to prune
    return PruneResult(kind=kind, deleted=deleted, space_reclaimed=reclaimed)


def _api_at_least(api: docker.APIClient, version: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    return parts(str(api.api_version)) >= parts(version)
