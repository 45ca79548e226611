"""The engine objects a request refers to, looked up for the safety check: the container
behind `container:X`, a named volume, a network. One lookup per name per check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import docker.errors


class EngineReferences:
    """bot.safety.References on one engine. Any error but "no such object" propagates, so
    an engine that cannot answer refuses the request rather than waving it through."""

    def __init__(self, api: docker.APIClient) -> None:
        self.api = api
        self._seen: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._data_root: str | None = None

    def container(self, name: str) -> dict[str, Any] | None:
        return self._lookup("container", name, self.api.inspect_container)

    def volume(self, name: str) -> dict[str, Any] | None:
        return self._lookup("volume", name, self.api.inspect_volume)

    def network(self, name: str) -> dict[str, Any] | None:
        return self._lookup("network", name, self.api.inspect_network)

    def data_root(self) -> str:
        if self._data_root is None:
            self._data_root = str(self.api.info().get("DockerRootDir") or "")
        return self._data_root

    def _lookup(
        self, kind: str, name: str, inspect: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any] | None:
        key = (kind, name)
        if key not in self._seen:
            try:
                self._seen[key] = inspect(name)
            except docker.errors.NotFound:
                self._seen[key] = None
        return self._seen[key]
