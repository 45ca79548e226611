"""What a handler may need beyond its command and client: progress, credentials, time bounds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, SecretStr

from handlers.progress import Progress


class RegistryAuth(BaseModel):
    """Credentials for one registry. The password never prints (SecretStr)."""

    server: str
    username: str
    password: SecretStr

    def auth_config(self) -> dict[str, str]:
        return {
            "username": self.username,
            "password": self.password.get_secret_value(),
            "serveraddress": self.server,
        }


def _no_credentials(server: str) -> RegistryAuth | None:
    return None


#: (kind, body, target): called with the exact Engine API body right before a request that
#: makes the engine create, start, mount or attach something ("container.create",
#: "container.start", "container.update", "network.create", "network.connect",
#: "volume.create"). It raises to refuse. The bot's pipeline always installs its safety
#: check here; a handler called directly (a test, a script) runs unchecked.
Admit = Callable[[str, Mapping[str, Any], str], None]


def _never() -> bool:
    return False


def _unchecked(kind: str, body: Mapping[str, Any], target: str) -> None:
    return None


@dataclass(frozen=True)
class Context:
    progress: Progress | None = None
    #: credentials by registry host (docker.io for Docker Hub), from the bot's encrypted store
    credentials: Callable[[str], RegistryAuth | None] = field(default=_no_credentials)
    #: how long `run` without -d waits for the container to finish
    attach_timeout: float = 30.0
    #: without stored credentials, may docker-py fall back to the docker config of the user
    #: running Dockhand? Yes for a person at `do`/`console`; never for the shared bot.
    host_credentials: bool = True
    #: the safety check on each engine request (see Admit)
    admit: Admit = field(default=_unchecked)
    #: true once a shutdown's grace is over: an attached `run` stops waiting and leaves its
    #: container running (the requester is told how to follow it)
    detach: Callable[[], bool] = field(default=_never)

    def auth_config(self, registry: str) -> dict[str, str] | None:
        """What to send as X-Registry-Auth: stored credentials, or an explicit anonymous {}
        so docker-py does not read ~/.docker/config.json, or None to let it."""
        auth = self.credentials(registry)
        if auth is not None:
            return auth.auth_config()
        return None if self.host_credentials else {}
