"""The engine objects a request refers to, looked up for the safety check: the container
behind `container:X`, a named volume, a network. One lookup per name per check."""

from __future__ import annotations

from typing import Any

import docker
import docker.errors

from bot import host_mounts
from bot.host_mounts import HostMount
from bot.safety import INTERNAL_LABEL
from handlers.engine_api import inspect


class EngineReferences:
    """bot.safety.References on one engine. Any error but "no such object" propagates, so
    an engine that cannot answer refuses the request rather than waving it through."""

    def __init__(self, api: docker.APIClient) -> None:
        self.api = api
        self._seen: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._data_root: str | None = None
        self._mounts: list[HostMount] | None = None
        self._internal: set[str] | None = None
        self._listing: list[dict[str, Any]] | None = None
        self._nodes: int | None = None

    # Names go to the engine quoted whole, as the handlers send them (handlers.engine_api):
    # what is looked up here is what the engine will act on.
    def container(self, name: str) -> dict[str, Any] | None:
        return self._lookup("container", name)

    def volume(self, name: str) -> dict[str, Any] | None:
        return self._lookup("volume", name)

    def network(self, name: str) -> dict[str, Any] | None:
        return self._lookup("network", name)

    def image(self, name: str) -> dict[str, Any] | None:
        key = ("image", name)
        if key not in self._seen:
            try:
                self._seen[key] = dict(self.api.inspect_image(name))
            except docker.errors.NotFound:
                self._seen[key] = None  # pulled later: the create is checked again then
        return self._seen[key]

    def swarm_nodes(self) -> int:
        """How many nodes the swarm this manager leads has (a service's task may run on any)."""
        if self._nodes is None:
            self._nodes = len(self.api.nodes())
        return self._nodes

    def data_root(self) -> str:
        if self._data_root is None:
            self._data_root = str(self.api.info().get("DockerRootDir") or "")
        return self._data_root

    def mounts(self) -> list[HostMount]:
        if self._mounts is None:
            containers = self._containers()
            volumes = self.api.volumes().get("Volumes") or []
            self._mounts = host_mounts.of_listing(containers, volumes)
        return self._mounts

    def internal_volumes(self) -> set[str]:
        if self._internal is None:
            self._internal = {
                str(m.get("Name"))
                for c in self._containers()
                if INTERNAL_LABEL in (c.get("Labels") or {})
                for m in c.get("Mounts") or []
                if m.get("Type") == "volume"
            }
        return self._internal

    def _containers(self) -> list[dict[str, Any]]:
        if self._listing is None:
            self._listing = list(self.api.containers(all=True))
        return self._listing

    def _lookup(self, kind: str, name: str) -> dict[str, Any] | None:
        key = (kind, name)
        if key not in self._seen:
            try:
                self._seen[key] = inspect(self.api, kind, name)
            except docker.errors.NotFound:
                self._seen[key] = None
        return self._seen[key]
