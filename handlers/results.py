"""Result models: what a handler found, plus a neutral table view every renderer shares."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from handlers.units import human_duration, human_size


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


class TextResult(Result):
    """A result that is words only (help, confirmations)."""

    title: str = ""
    text: str

    def summary(self) -> str:
        return self.title


class PortMapping(BaseModel):
    private_port: int
    type: str = "tcp"
    public_port: int | None = None
    ip: str | None = None

    def __str__(self) -> str:
        if self.public_port is None:
            return f"{self.private_port}/{self.type}"
        ip = f"[{self.ip}]" if self.ip and ":" in self.ip else (self.ip or "0.0.0.0")
        return f"{ip}:{self.public_port}->{self.private_port}/{self.type}"


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


class ContainerList(Result):
    containers: list[ContainerSummary]
    quiet: bool = False
    no_trunc: bool = False

    def summary(self) -> str:
        count = len(self.containers)
        running = sum(1 for c in self.containers if c.state == "running")
        return f"{count} container{'s' if count != 1 else ''}, {running} running"

    def table(self) -> Table:
        now = datetime.now(UTC).timestamp()
        if self.quiet:
            return Table(columns=["CONTAINER ID"], rows=[[self._id(c)] for c in self.containers])
        rows = [
            [
                self._id(c),
                c.image,
                _quote_command(c.command, 0 if self.no_trunc else 20),
                f"{human_duration(now - c.created)} ago",
                c.status,
                ", ".join(str(p) for p in c.ports),
                ",".join(c.names) if self.no_trunc else c.name,
            ]
            for c in self.containers
        ]
        return Table(
            columns=["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
            rows=rows,
            marks=[c.mark for c in self.containers],
        )

    def _id(self, container: ContainerSummary) -> str:
        return container.id if self.no_trunc else container.id[:12]


class ImageSummary(BaseModel):
    id: str
    repo_tags: list[str] = Field(default_factory=list)
    repo_digests: list[str] = Field(default_factory=list)
    created: int
    size: int
    labels: dict[str, str] = Field(default_factory=dict)

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
            ids = dict.fromkeys(self._id(i) for i in self.images)
            return Table(columns=["IMAGE ID"], rows=[[i] for i in ids])
        columns = ["REPOSITORY", "TAG", *(["DIGEST"] if self.digests else [])]
        columns += ["IMAGE ID", "CREATED", "SIZE"]
        rows = []
        for image in self.images:
            for repo, tag, digest in image.references():
                rows.append(
                    [
                        repo,
                        tag,
                        *([digest] if self.digests else []),
                        self._id(image),
                        f"{human_duration(now - image.created)} ago",
                        human_size(image.size, 3),
                    ]
                )
        return Table(columns=columns, rows=rows)

    def _id(self, image: ImageSummary) -> str:
        return image.id if self.no_trunc else image.id.removeprefix("sha256:")[:12]


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
            ("Total Memory", _binary_size(self.memory)),
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


def _binary_size(size: int) -> str:
    # `docker info` prints memory in binary units (go-units BytesSize).
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.4g}{unit}"
        value /= 1024
    return f"{value:.4g}PiB"
