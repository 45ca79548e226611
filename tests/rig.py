"""The real test rig: a private dockerd, a registry with auth, redis-server. Started and
stopped by pid; nothing here ever talks to /var/run/docker.sock or leaves loopback.

Also used by bench/ scripts, so it depends on nothing from pytest.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import requests

SYSTEM_SOCKET = "/var/run/docker.sock"
BUSYBOX_APPLETS = (
    "sh",
    "ls",
    "echo",
    "sleep",
    "cat",
    "true",
    "false",
    "env",
    "id",
    "hostname",
    "yes",
    "head",
    "seq",
    "dd",
    "wc",
)
TEST_IMAGE = "test/busybox:1.0"
REGISTRY_USER, REGISTRY_PASSWORD = "ops", "secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout} s")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, grace: float = 15.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


@dataclass
class Engine:
    """A private dockerd. `url` is what DOCKER_HOST would be; `cli()` is the real docker CLI."""

    root: Path
    process: Process | None = None
    _client: docker.DockerClient | None = None
    #: more dockerd flags (a TLS listener on a loopback port)
    extra_args: tuple[str, ...] = ()

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "dockerd.log"
        popen = subprocess.Popen(
            [
                "dockerd",
                "--host",
                self.url,
                "--data-root",
                str(self.data_root),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "dockerd.pid"),
                "--bridge=none",
                # Each user network is a bridge on the host, and a new one must not overlap any
                # route there: the default pools (31 of them, shared with every engine on the
                # machine) run out when engines are killed and leave their bridges behind.
                "--default-address-pool",
                "base=10.200.0.0/13,size=24",
                "--iptables=false",
                "--ip-masq=false",
                "--insecure-registry",
                "127.0.0.0/8",
                *self.extra_args,
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._offline_env(),
        )
        self.process = Process("dockerd", popen, log)

        wait_for(lambda: self.client().ping(), 60, f"dockerd at {self.url}")
        self.guard()

    @staticmethod
    def _offline_env() -> dict[str, str]:
        """dockerd with a proxy that is a closed loopback port: anything it would fetch from
        outside (Docker Hub search, a pull by a bare name) fails at once, on 127.0.0.1,
        without a byte leaving the machine; the rig's own registry stays reachable."""
        dead = "http://127.0.0.1:9"
        env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
        env.update(
            HTTP_PROXY=dead,
            HTTPS_PROXY=dead,
            http_proxy=dead,
            https_proxy=dead,
            NO_PROXY="127.0.0.0/8,localhost",
            no_proxy="127.0.0.0/8,localhost",
        )
        return env

    def client(self) -> docker.DockerClient:

        if self._client is None:
            self._client = docker.DockerClient(base_url=self.url, version="1.41", timeout=60)
        return self._client

    def guard(self) -> None:
        """Refuse any engine but this rig's own: a prune must not eat a person's images."""
        if SYSTEM_SOCKET in self.url:
            raise RuntimeError("tests must never use the system Docker socket")
        root = self.client().info()["DockerRootDir"]
        if Path(root).resolve() != self.data_root.resolve():
            raise RuntimeError(f"engine at {self.url} is not the rig's (root {root})")

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120, binary: str = "docker"
    ) -> subprocess.CompletedProcess[str]:
        """The real docker CLI, pointed at this engine only, with a private config dir."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DOCKER_HOST": self.url,
            "DOCKER_CONFIG": str(self.root / "cli-config"),
            "HOME": str(self.root),
        }
        return subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, check=check, timeout=timeout
        )

    def import_busybox(
        self, reference: str = TEST_IMAGE, extra: bytes = b"", changes: list[str] | None = None
    ) -> str:
        """Build the busybox test image offline (docker import of a tarball). `extra` goes
        into /extra, which makes a layer no other image shares; `changes` are Dockerfile
        instructions as `docker import --change` takes them (default: CMD ["/bin/sh"])."""
        busybox = shutil.which("busybox") or "/bin/busybox"
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(busybox, arcname="bin/busybox")
            for applet in BUSYBOX_APPLETS:
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
            if extra:
                blob = tarfile.TarInfo("extra")
                blob.size = len(extra)
                tar.addfile(blob, io.BytesIO(extra))
        repository, _, tag = reference.rpartition(":")
        answer = self.client().api.import_image_from_data(
            buffer.getvalue(),
            repository=repository,
            tag=tag,
            changes=changes if changes is not None else ['CMD ["/bin/sh"]'],
        )
        return str(answer)

    def create_containers(self, count: int, prefix: str = "c") -> None:
        """`count` stopped containers of the test image, named prefix0, prefix1...; a few at
        a time, as a host with many containers is what listings and health passes face."""
        api = self.client().api
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: api.create_container(TEST_IMAGE, "true", name=f"{prefix}{n}"),
                    range(count),
                )
            )

    def remove_all_containers(self) -> None:
        api = self.client().api
        for container in api.containers(all=True):
            api.remove_container(container["Id"], force=True, v=True)

    def stop(self) -> None:
        bridges = self._bridges()
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is not None:
            self.process.stop(grace=30)
            self.process = None
        _delete_links(bridges)

    def _bridges(self) -> list[str]:
        """The host interfaces of this engine's bridge networks: dockerd leaves them behind
        when it stops, and their routes would keep those subnets from every later engine."""
        if self.process is None:
            return []
        try:
            networks = self.client().api.networks(filters={"driver": "bridge"})
        except Exception:
            return []
        return [
            (n.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{n['Id'][:12]}"
            for n in networks
        ]

    def kill(self) -> None:
        """SIGKILL dockerd, as a crash: its containerd goes with it, the containers' shims
        live on, and no die event is ever sent for what exits before `start()` again."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is not None:
            self.process.popen.kill()
            self.process.popen.wait(30)
            self.process = None


@dataclass
class Registry:
    root: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", REGISTRY_USER, REGISTRY_PASSWORD],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (self.root / "htpasswd").write_text(htpasswd)
        config = self.root / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            f"storage:\n  filesystem: {{rootdirectory: {self.root / 'data'}}}\n"
            "  delete: {enabled: true}\n"
            f"http: {{addr: '{self.address}'}}\n"
            f"auth:\n  htpasswd: {{realm: test, path: {self.root / 'htpasswd'}}}\n"
        )
        log = self.root / "registry.log"
        popen = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process = Process("registry", popen, log)
        wait_for(
            lambda: requests.get(f"http://{self.address}/v2/", timeout=1).status_code == 401,
            30,
            f"registry at {self.address}",
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@dataclass
class RedisServer:
    root: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None
    #: keep an append-only file (as docker-compose.yml does): a restart keeps the data
    appendonly: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "redis.log"
        popen = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.root),
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process = Process("redis", popen, log)

        def ping() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        wait_for(ping, 20, f"redis at {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


class Rig:
    """Owns a temp dir and everything started in it; `stop()` ends them all, by pid."""

    def __init__(self) -> None:
        # Short path: a unix socket path must stay under 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="dh-rig-", dir="/tmp"))
        self._started: list[Engine | Registry | RedisServer] = []

    def engine(self, name: str = "engine", extra_args: tuple[str, ...] = ()) -> Engine:
        engine = Engine(self.root / name, extra_args=extra_args)
        self._started.append(engine)
        engine.start()
        return engine

    def registry(self) -> Registry:
        registry = Registry(self.root / "registry")
        self._started.append(registry)
        registry.start()
        return registry

    def redis(self) -> RedisServer:
        server = RedisServer(self.root / "redis")
        self._started.append(server)
        server.start()
        return server

    def stop(self) -> None:
        for part in reversed(self._started):
            part.stop()
        self._started.clear()
        # A test that started a part of its own and lost it (its teardown raised first) has
        # left a process working in this rig's folder: found by its pid, and stopped.
        _stop_strays(self.root)
        _unmount_below(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _stop_strays(root: Path) -> None:
    """SIGTERM, then SIGKILL, every process whose working folder or command line is inside
    `root`: only what this rig's tests started can be there."""
    mine = str(root)
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone, or not ours to read
        if cwd == mine or cwd.startswith(mine + "/") or mine + "/" in args:
            found.append(int(entry.name))
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid in found:
        while time.monotonic() < deadline and _running(pid):
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a child of this process stays in /proc until it is reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _delete_links(names: list[str]) -> None:
    ip = shutil.which("ip")
    for name in names:
        if ip is not None and name.startswith("br-"):
            subprocess.run([ip, "link", "delete", name], capture_output=True, check=False)


def _unmount_below(root: Path) -> None:
    """dockerd unmounts on a clean exit; after a kill, leftovers must not block rmtree."""
    mounts = Path("/proc/mounts").read_text().splitlines()
    points = sorted(
        (m.split()[1] for m in mounts if m.split()[1].startswith(str(root))), reverse=True
    )
    for point in points:
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
