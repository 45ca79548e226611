"""Result models: what a handler found, plus a neutral table view every renderer shares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from handlers.template import Row, listing_template, render_listing
from handlers.units import go_time, human_duration, human_size


class Table(BaseModel):
    """Rows of cells under column titles, as the docker CLI would print them.

    `marks` holds one state word a row (running, exited, paused...) for renderers
    that add an emoji or a colour; it never changes the cells.
    """

    columns: list[str]
    rows: list[list[str]]
    marks: list[str] = Field(default_factory=list)


class Result(BaseModel):
    """Base of every handler result."""

    def summary(self) -> str:
        """One line a person reads first."""
        return ""

    def table(self) -> Table | None:
        return None

    def facts(self) -> list[tuple[str, str]]:
        """Labelled values, for results that are one object rather than rows."""
        return []

    def body(self) -> str:
        """Free text shown after the table or facts (help, logs, command output)."""
        return ""

    def failed(self) -> bool:
        """True when the command did not do all it was asked (a batch with errors)."""
        return False

    def verbatim(self) -> bool:
        """True when the body is output the user shaped (--format): a terminal prints it
        alone, as the CLI would, so it can be piped."""
        return False


class TextResult(Result):
    """A result that is words only (help, confirmations)."""

    title: str = ""
    text: str

    def summary(self) -> str:
        return self.title

    def body(self) -> str:
        return self.text


class PortMapping(BaseModel):
    private_port: int
    type: str = "tcp"
    public_port: int | None = None
    ip: str | None = None


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def displayable_ports(ports: list[PortMapping]) -> str:
    """The PORTS column as `docker ps` writes it: sorted by container port, runs of
    consecutive ports that map to themselves folded into ranges (`7000-7002/tcp`,
    `127.0.0.1:8000-8001->8000-8001/tcp`), other host mappings one each, at the end.

    A run is written when the next port of its kind breaks it; the runs still open are
    written last, in the order their kinds first appeared. That order is the CLI's too."""
    written: list[str] = []
    open_runs: dict[tuple[str, str], tuple[int, int]] = {}
    mappings: list[str] = []

    def run_text(key: tuple[str, str], first: int, last: int) -> str:
        ip, kind = key
        span = str(first) if first == last else f"{first}-{last}"
        return f"{_host(ip)}:{span}->{span}/{kind}" if ip else f"{span}/{kind}"

    for port in sorted(
        ports, key=lambda p: (p.private_port, p.ip or "", p.public_port or 0, p.type)
    ):
        if port.ip and port.public_port != port.private_port:
            mappings.append(f"{_host(port.ip)}:{port.public_port}->{port.private_port}/{port.type}")
            continue
        key = (port.ip or "", port.type)
        run = open_runs.get(key)
        if run is not None and port.private_port == run[1] + 1:
            open_runs[key] = (run[0], port.private_port)
            continue
        if run is not None:
            written.append(run_text(key, *run))
        open_runs[key] = (port.private_port, port.private_port)
    written += [run_text(key, *run) for key, run in open_runs.items()]
    return ", ".join(written + mappings)


class ContainerSummary(BaseModel):
    id: str
    names: list[str]
    image: str
    command: str
    created: int
    state: str
    status: str
    ports: list[PortMapping] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    #: each mount's volume name, or its source path when it has none
    mounts: list[str] = Field(default_factory=list)
    local_volumes: int = 0
    networks: list[str] = Field(default_factory=list)
    size_rw: int | None = None
    size_root_fs: int | None = None

    def cli_fields(self, no_trunc: bool, now: float) -> Row:
        """The fields `docker ps --format` knows, written as the CLI writes them."""
        size = human_size(self.size_rw or 0, 3)
        if self.size_root_fs:
            size += f" (virtual {human_size(self.size_root_fs, 3)})"
        fields = {
            "Command": _quote_command(self.command, 0 if no_trunc else 20),
            "CreatedAt": go_time(datetime.fromtimestamp(self.created, UTC)),
            "ID": self.shown_id(no_trunc),
            "Image": self.image,
            "Labels": labels_text(self.labels),
            "LocalVolumes": str(self.local_volumes),
            "Mounts": ",".join(m if no_trunc else _ellipsis(m, 15) for m in self.mounts),
            "Names": ",".join(self.names) if no_trunc else self.name,
            "Networks": ",".join(sorted(self.networks)),
            "Platform": None,
            "Ports": displayable_ports(self.ports),
            "RunningFor": f"{human_duration(now - self.created)} ago",
            "Size": size,
            "State": self.state,
            "Status": self.status,
        }
        return Row(fields, self.labels)

    def shown_id(self, no_trunc: bool) -> str:
        return self.id if no_trunc else self.id[:12]

    @property
    def name(self) -> str:
        """The container's own name: the first one that is not a link alias."""
        return next((n for n in self.names if "/" not in n), self.names[0] if self.names else "")

    @property
    def health(self) -> str | None:
        for word in ("unhealthy", "healthy", "health: starting"):
            if f"({word})" in self.status:
                return word
        return None

    @property
    def mark(self) -> str:
        """State word for renderers: unhealthy beats running, exit codes matter."""
        if self.health == "unhealthy":
            return "unhealthy"
        if self.state == "exited" and self.status.startswith("Exited (0)"):
            return "exited-ok"
        return self.state


PS_HEADERS = {
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Labels": "LABELS",
    "LocalVolumes": "LOCAL VOLUMES",
    "Mounts": "MOUNTS",
    "Names": "NAMES",
    "Networks": "NETWORKS",
    "Platform": "PLATFORM",
    "Ports": "PORTS",
    "RunningFor": "CREATED",
    "Size": "SIZE",
    "State": "STATE",
    "Status": "STATUS",
}
IMAGES_HEADERS = {
    "Containers": "CONTAINERS",
    "CreatedAt": "CREATED AT",
    "CreatedSince": "CREATED",
    "Digest": "DIGEST",
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "SharedSize": "SHARED SIZE",
    "Size": "SIZE",
    "Tag": "TAG",
    "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "SIZE",  # sic: the CLI heads both size columns so
}


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class ContainerList(Result):
    containers: list[ContainerSummary]
    quiet: bool = False
    no_trunc: bool = False
    size: bool = False

    def summary(self) -> str:
        count = len(self.containers)
        running = sum(1 for c in self.containers if c.state == "running")
        return f"{count} container{'s' if count != 1 else ''}, {running} running"

    def table(self) -> Table:
        now = datetime.now(UTC).timestamp()
        if self.quiet:
            rows = [[c.shown_id(self.no_trunc)] for c in self.containers]
            return Table(columns=["CONTAINER ID"], rows=rows)
        # The CLI's default table: these fields, and SIZE after NAMES with -s.
        shown = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
        shown += ["Size"] if self.size else []
        rows = []
        for container in self.containers:
            fields = container.cli_fields(self.no_trunc, now)
            rows.append([fields[name] for name in shown])
        return Table(
            columns=[PS_HEADERS[name] for name in shown],
            rows=rows,
            marks=[c.mark for c in self.containers],
        )


class ImageSummary(BaseModel):
    id: str
    repo_tags: list[str] = Field(default_factory=list)
    repo_digests: list[str] = Field(default_factory=list)
    created: int
    size: int
    labels: dict[str, str] = Field(default_factory=dict)

    def cli_rows(self, no_trunc: bool, now: float) -> list[Row]:
        """The fields `docker images --format` knows, a row per name."""
        image_id = self.shown_id(no_trunc)
        return [
            Row(
                {
                    "Containers": "N/A",
                    "CreatedAt": go_time(datetime.fromtimestamp(self.created, UTC)),
                    "CreatedSince": f"{human_duration(now - self.created)} ago",
                    "Digest": digest,
                    "ID": image_id,
                    "Repository": repo,
                    "SharedSize": "N/A",
                    "Size": human_size(self.size, 3),
                    "Tag": tag,
                    "UniqueSize": "N/A",
                    "VirtualSize": human_size(self.size),
                },
                self.labels,
            )
            for repo, tag, digest in self.references()
        ]

    def shown_id(self, no_trunc: bool) -> str:
        return self.id if no_trunc else self.id.removeprefix("sha256:")[:12]

    def references(self) -> list[tuple[str, str, str]]:
        """(repository, tag, digest) rows the way `docker images` expands an image."""
        digests = {d.split("@", 1)[0]: d.split("@", 1)[1] for d in self.repo_digests if "@" in d}
        rows = []
        for ref in self.repo_tags:
            if ref == "<none>:<none>":
                continue
            repo, _, tag = ref.rpartition(":")
            rows.append((repo, tag, digests.pop(repo, "<none>")))
        rows.extend((repo, "<none>", digest) for repo, digest in digests.items())
        return rows or [("<none>", "<none>", "<none>")]


class ImageList(Result):
    images: list[ImageSummary]
    quiet: bool = False
    digests: bool = False
    no_trunc: bool = False

    def summary(self) -> str:
        total = sum(i.size for i in self.images)
        count = len(self.images)
        return f"{count} image{'s' if count != 1 else ''}, {human_size(total, 3)}"

    def table(self) -> Table:
        now = datetime.now(UTC).timestamp()
        if self.quiet:
            # One line per name, as docker 28 prints them: an image tagged twice is listed
            # twice.
            rows = [[i.shown_id(self.no_trunc)] for i in self.images for _ in i.references()]
            return Table(columns=["IMAGE ID"], rows=rows)
        # The CLI's default table: these fields, and DIGEST after TAG with --digests.
        shown = ["Repository", "Tag", *(["Digest"] if self.digests else [])]
        shown += ["ID", "CreatedSince", "Size"]
        rows = [
            [fields[name] for name in shown]
            for image in self.images
            for fields in image.cli_rows(self.no_trunc, now)
        ]
        return Table(columns=[IMAGES_HEADERS[name] for name in shown], rows=rows)


class EngineVersion(Result):
    host: str
    version: str
    api_version: str
    min_api_version: str = ""
    os: str = ""
    arch: str = ""
    kernel_version: str = ""
    git_commit: str = ""
    go_version: str = ""
    components: dict[str, str] = Field(default_factory=dict)
    #: GET /version as the engine answered it (Platform, Components with their Details)
    server: dict[str, Any] = Field(default_factory=dict)
    #: the client side, as `docker version` shows its own: here Dockhand and docker-py
    client: dict[str, str] = Field(default_factory=dict)

    def summary(self) -> str:
        return f"Docker Engine {self.version} on {self.host}"

    def facts(self) -> list[tuple[str, str]]:
        facts = [
            ("Version", self.version),
            ("API version", f"{self.api_version} (minimum version {self.min_api_version})"),
            ("Go version", self.go_version),
            ("Git commit", self.git_commit),
            ("OS/Arch", f"{self.os}/{self.arch}"),
            ("Kernel", self.kernel_version),
        ]
        return facts + [(name, version) for name, version in self.components.items()]


class EngineInfo(Result):
    host: str
    name: str
    server_version: str
    containers: int
    running: int
    paused: int
    stopped: int
    images: int
    storage_driver: str = ""
    cgroup_driver: str = ""
    cgroup_version: str = ""
    kernel_version: str = ""
    operating_system: str = ""
    architecture: str = ""
    cpus: int = 0
    memory: int = 0
    docker_root_dir: str = ""
    warnings: list[str] = Field(default_factory=list)
    #: GET /info as the engine answered it
    server: dict[str, Any] = Field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.name} ({self.host}): {self.running} running, {self.paused} paused, "
            f"{self.stopped} stopped, {self.images} images"
        )

    def facts(self) -> list[tuple[str, str]]:
        return [
            ("Containers", str(self.containers)),
            (" Running", str(self.running)),
            (" Paused", str(self.paused)),
            (" Stopped", str(self.stopped)),
            ("Images", str(self.images)),
            ("Server Version", self.server_version),
            ("Storage Driver", self.storage_driver),
            ("Cgroup Driver", self.cgroup_driver),
            ("Cgroup Version", self.cgroup_version),
            ("Kernel Version", self.kernel_version),
            ("Operating System", self.operating_system),
            ("Architecture", self.architecture),
            ("CPUs", str(self.cpus)),
            ("Total Memory", binary_size(self.memory)),
            ("Name", self.name),
            ("Docker Root Dir", self.docker_root_dir),
            *[("WARNING", w) for w in self.warnings],
        ]


def _quote_command(command: str, width: int) -> str:
    """The CLI's COMMAND cell: cut to `width` with an ellipsis, then quoted like Go's %q."""
    if width and len(command) > width:
        command = command[: width - 1] + "…"
    escaped = command.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class FormattedResult(Result):
    """A listing written with the user's `--format`: their lines, nothing else."""

    title: str
    lines: list[str]

    def summary(self) -> str:
        return self.title

    def body(self) -> str:
        return "\n".join(self.lines)

    def verbatim(self) -> bool:
        return True


DF_HEADERS = {
    "Active": "ACTIVE",
    "Reclaimable": "RECLAIMABLE",
    "Size": "SIZE",
    "TotalCount": "TOTAL",
    "Type": "TYPE",
}
HISTORY_HEADERS = {
    "Comment": "COMMENT",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "CreatedSince": "CREATED",
    "ID": "IMAGE",
    "Size": "SIZE",
}
NETWORK_HEADERS = {
    "CreatedAt": "CREATED AT",
    "Driver": "DRIVER",
    "ID": "NETWORK ID",
    "IPv4": "IPV4",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "Name": "NAME",
    "Scope": "SCOPE",
}
VOLUME_HEADERS = {
    "Availability": "AVAILABILITY",
    "Driver": "DRIVER",
    "Group": "GROUP",
    "Labels": "LABELS",
    "Links": "LINKS",
    "Mountpoint": "MOUNTPOINT",
    "Name": "VOLUME NAME",
    "Scope": "SCOPE",
    "Size": "SIZE",
    "Status": "STATUS",
}


def labels_text(labels: dict[str, str] | None) -> str:
    """A Labels field as the CLI's listings write it (sorted here; the CLI's order is a Go
    map's, which changes from run to run)."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def listing(
    title: str,
    rows: list[Row],
    headers: dict[str, str],
    shown: list[str],
    *,
    format: str | None,
    quiet: str | None,
) -> TableResult | FormattedResult:
    """A listing as the CLI prints it: its default columns (`shown`), the one column -q
    asks for (`quiet`), or the user's --format."""
    template = listing_template(format, quiet is not None)
    if template is not None:
        return FormattedResult(title=title, lines=render_listing(template, rows, headers))
    columns = [quiet] if quiet is not None else shown
    grid = Table(
        columns=[headers[c] for c in columns], rows=[[row[c] for c in columns] for row in rows]
    )
    return TableResult(title=title, grid=grid)


class TableResult(Result):
    """Rows with a title: top, history, network ls, volume ls, df."""

    title: str
    grid: Table

    def summary(self) -> str:
        return self.title

    def table(self) -> Table:
        return self.grid


class BatchResult(Result):
    """One verb over several objects: what was done, what failed and why."""

    verb: str
    done: list[str] = Field(default_factory=list)
    errors: list[tuple[str, str]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        # The models are above the results: read their facts when a summary is made.
        from handlers.verbs import past_tense

        parts = []
        if self.done:
            parts.append(f"{past_tense(self.verb)}: {', '.join(self.done)}")
        if self.errors:
            parts.append(f"failed: {', '.join(name for name, _ in self.errors)}")
        return "; ".join(parts) or "nothing to do"

    def body(self) -> str:
        lines = [f"Error response from daemon: {why}" for _, why in self.errors]
        return "\n".join(lines + [f"WARNING: {w}" for w in self.warnings])

    def failed(self) -> bool:
        return bool(self.errors)


class ContainerRun(Result):
    """create and run: the full ID always (chat has no --cidfile), and for an attached run
    the output and exit code, or that it is still running."""

    verb: str
    id: str
    name: str
    image: str
    warnings: list[str] = Field(default_factory=list)
    pulled: bool = False
    started: bool = False
    exit_code: int | None = None
    still_running: bool = False
    #: still running when Dockhand shut down: it stopped waiting and left it running
    detached: bool = False
    output: str = ""
    seconds: float | None = None

    def summary(self) -> str:
        if self.verb == "container:create":
            return f"created {self.name} ({self.id})"
        # `seconds` is set by the attached run that knows the rest; a result made without
        # it still renders (the summary leaves the time out rather than fail).
        after = "" if self.seconds is None else f" after {self.seconds:g} s"
        if self.still_running:  # the bot adds where to follow it (bot/messages.py)
            return f"{self.name} is still running{after}"
        if self.exit_code is not None:
            return f"{self.name} exited with code {self.exit_code}{after}"
        return f"started {self.name} ({self.id})"

    def facts(self) -> list[tuple[str, str]]:
        facts = [("ID", self.id), ("Image", self.image + (" (pulled)" if self.pulled else ""))]
        return facts + [("WARNING", w) for w in self.warnings]

    def body(self) -> str:
        return self.output

    def failed(self) -> bool:
        return bool(self.exit_code)

    @property
    def mark(self) -> str:
        if self.still_running or (self.started and self.exit_code is None):
            return "running"
        if self.exit_code is None:
            return "created"
        return "exited-ok" if self.exit_code == 0 else "exited"


class ContainerLogsResult(Result):
    container: str
    text: str

    def summary(self) -> str:
        lines = self.text.count("\n") + (1 if self.text and not self.text.endswith("\n") else 0)
        return f"logs of {self.container}: {lines} line{'s' if lines != 1 else ''}"

    def body(self) -> str:
        return self.text


class InspectResult(Result):
    objects: list[dict[str, Any]]
    formatted: list[str] | None = None

    def summary(self) -> str:
        return f"{len(self.objects)} object{'s' if len(self.objects) != 1 else ''}"

    def body(self) -> str:
        if self.formatted is not None:
            return "\n".join(self.formatted)
        return json.dumps(self.objects, indent=4)

    def verbatim(self) -> bool:
        return self.formatted is not None


STATS_HEADERS = {
    "Container": "CONTAINER",
    "Name": "NAME",
    "ID": "CONTAINER ID",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


class StatsRow(BaseModel):
    id: str
    #: the container as it was named (`.Container`), or its ID when all are listed
    container: str = ""
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int


class StatsResult(Result):
    rows: list[StatsRow]
    no_trunc: bool = False

    def summary(self) -> str:
        return f"stats of {len(self.rows)} container{'s' if len(self.rows) != 1 else ''}"

    def fields(self) -> list[Row]:
        """Each row as the CLI's stats formatter has it, for --format."""
        rows = []
        for r in self.rows:
            percent = r.memory_usage / r.memory_limit * 100 if r.memory_limit else 0.0
            cells = {
                "Container": r.container or r.id,
                "Name": r.name or "--",
                "ID": r.id if self.no_trunc else r.id[:12],
                "CPUPerc": f"{r.cpu_percent:.2f}%",
                "MemUsage": f"{binary_size(r.memory_usage)} / {binary_size(r.memory_limit)}",
                "MemPerc": f"{percent:.2f}%",
                "NetIO": f"{human_size(r.net_rx, 3)} / {human_size(r.net_tx, 3)}",
                "BlockIO": f"{human_size(r.block_read, 3)} / {human_size(r.block_write, 3)}",
                "PIDs": str(r.pids),
            }
            rows.append(Row(cells))
        return rows

    def table(self) -> Table:
        shown = ["ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"]
        return Table(
            columns=[STATS_HEADERS[c] for c in shown],
            rows=[[row[c] for c in shown] for row in self.fields()],
        )


class PullResult(Result):
    reference: str
    digest: str = ""
    status: str = ""
    layers: int = 0

    def summary(self) -> str:
        return self.status or f"pulled {self.reference}"

    def facts(self) -> list[tuple[str, str]]:
        return [("Image", self.reference), ("Digest", self.digest), ("Layers", str(self.layers))]


class PushResult(Result):
    reference: str
    digest: str = ""
    size: int = 0

    def summary(self) -> str:
        return f"pushed {self.reference}"

    def facts(self) -> list[tuple[str, str]]:
        return [("Image", self.reference), ("Digest", self.digest), ("Size", str(self.size))]


class TagResult(Result):
    source: str
    target: str
    image_id: str

    def summary(self) -> str:
        return f"tagged {self.source} as {self.target}: same image ID {self.image_id[:19]}"

    def facts(self) -> list[tuple[str, str]]:
        return [("Source", self.source), ("Target", self.target), ("Image ID", self.image_id)]


class PruneResult(Result):
    kind: str
    deleted: list[str] = Field(default_factory=list)
    space_reclaimed: int = 0

    def summary(self) -> str:
        if not self.deleted and not self.space_reclaimed:
            return f"{self.kind} prune: nothing to remove"
        return (
            f"{self.kind} prune: {len(self.deleted)} removed, "
            f"{human_size(self.space_reclaimed, 3)} reclaimed"
        )

    def body(self) -> str:
        return "\n".join(self.deleted)


class SearchHit(BaseModel):
    name: str
    description: str = ""
    stars: int = 0
    official: bool = False
    tags: list[str] = Field(default_factory=list)


class SearchResult(Result):
    term: str
    source: str
    hits: list[SearchHit]
    no_trunc: bool = False

    def summary(self) -> str:
        plural = "s" if len(self.hits) != 1 else ""
        return f"{len(self.hits)} result{plural} for {self.term!r} on {self.source}"

    def table(self) -> Table:
        if self.source == "Docker Hub":
            rows = [
                [
                    h.name,
                    h.description
                    if self.no_trunc or len(h.description) <= 45
                    else h.description[:44] + "…",
                    str(h.stars),
                    "[OK]" if h.official else "",
                ]
                for h in self.hits
            ]
            return Table(columns=["NAME", "DESCRIPTION", "STARS", "OFFICIAL"], rows=rows)
        return Table(
            columns=["NAME", "TAGS"], rows=[[h.name, ", ".join(h.tags)] for h in self.hits]
        )


def binary_size(size: float) -> str:
    """go-units BytesSize: binary units, as `docker stats` and `docker info` print memory."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.4g}{unit}"
        value /= 1024
    return f"{value:.4g}PiB"
