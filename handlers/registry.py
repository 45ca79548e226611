"""Image references and registries: which registry an image lives in, and searching a
private registry's catalog (v2 registries have no search endpoint)."""

from __future__ import annotations

import ipaddress
from typing import Any

import requests

from handlers.context import RegistryAuth
from handlers.errors import EngineError, Hint, NoSuchObject

DOCKER_HUB = "docker.io"


def split_reference(reference: str) -> tuple[str, str | None]:
    """(repository, tag or digest) as docker splits them; the port of a registry is no tag."""
    if "@" in reference:
        repository, _, digest = reference.partition("@")
        return repository, digest
    repository, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        return reference, None
    return repository, tag


def registry_of(reference: str) -> str:
    """The registry host of an image reference (docker.io when none is named)."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def catalog_search(
    registry: str, term: str, auth: RegistryAuth | None, *, limit: int, timeout: float
) -> list[tuple[str, list[str]]]:
    """Repositories in `registry` whose name contains `term`, with their tags."""
    # The engine trusts loopback registries over plain HTTP; so do we, and only those.
    base = f"{'http' if is_loopback(registry) else 'https'}://{registry}/v2"
    credentials = (auth.username, auth.password.get_secret_value()) if auth else None
    _is_registry(base, credentials, timeout, registry)
    catalog = _get(f"{base}/_catalog?n=1000", credentials, timeout, registry)
    names = [n for n in catalog.get("repositories") or [] if term.lower() in n.lower()][:limit]
    found = []
    for name in names:
        tags = _get(f"{base}/{name}/tags/list", credentials, timeout, registry)
        found.append((name, sorted(tags.get("tags") or [])))
    return found


def _is_registry(
    base: str, credentials: tuple[str, str] | None, timeout: float, registry: str
) -> None:
    """Whatever answers must say it speaks the registry API (a v2 registry sends this
    header on every answer, 401 included) before the bot asks it anything else, so a
    search cannot make the bot read other services on the host:port it is given."""
    response = _request(f"{base}/", credentials, timeout, registry)
    if response.headers.get("Docker-Distribution-API-Version", "") != "registry/2.0":
        raise EngineError(f"{registry} is not a registry (it does not speak the v2 API)")


def _request(
    url: str, credentials: tuple[str, str] | None, timeout: float, registry: str
) -> requests.Response:
    try:
        # No redirects: the registry named is the only place the bot goes.
        return requests.get(url, auth=credentials, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise EngineError(f"cannot reach registry {registry}: {type(exc).__name__}") from exc


def _get(
    url: str, credentials: tuple[str, str] | None, timeout: float, registry: str
) -> dict[str, Any]:
    response = _request(url, credentials, timeout, registry)
    if response.status_code == 401:
        raise EngineError(f"registry {registry} wants credentials", hint=Hint("login", registry))
    if response.status_code == 404:
        raise NoSuchObject(f"registry {registry}: not found")
    if response.status_code >= 400:
        raise EngineError(f"registry {registry} answered {response.status_code}")
    answer: dict[str, Any] = response.json()
    return answer
