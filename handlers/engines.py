"""Docker clients by host name, and the translation of docker-py's failures into ours."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import docker
import docker.errors
import requests.exceptions

from handlers.errors import (
    EngineError,
    EngineLost,
    EngineTimeout,
    EngineUnreachable,
    NoSuchObject,
    UsageError,
)


class Engines:
    """One cached DockerClient per configured host; every request has a timeout."""

    def __init__(self, hosts: Mapping[str, str], *, timeout: float, api_version: str = "auto"):
        self._hosts = dict(hosts)
        self._timeout = timeout
        self._api_version = api_version
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._hosts)

    @property
    def timeout(self) -> float:
        return self._timeout

    def url(self, host: str) -> str:
        try:
            return self._hosts[host]
        except KeyError:
            known = ", ".join(f"`{name}`" for name in self._hosts)
            raise UsageError(f"unknown host `{host}`; configured: {known}", token=host) from None

    def client(self, host: str) -> docker.DockerClient:
        """The client for `host`, created on first use (which may ask the engine its version)."""
        url = self.url(host)
        with self._lock:
            found = self._clients.get(host)
        if found is not None:
            return found
        with translate_engine_errors(host, url, self._timeout):
            made = docker.DockerClient(
                base_url=url, version=self._api_version, timeout=self._timeout
            )
        with self._lock:
            return self._clients.setdefault(host, made)

    def close(self) -> None:
        with self._lock:
            for made in self._clients.values():
                made.close()
            self._clients.clear()


@contextmanager
def translate_engine_errors(
    host: str, url: str, timeout: float, *, changing: bool = False
) -> Iterator[None]:
    """Turn docker-py and requests exceptions into the error tree (timeouts escape docker's).
    A connection cut mid-request is "lost" for a command that changes state (part of it may
    be done) or whose container is known; for a read it is plain "cannot reach": a stale
    pooled connection to an engine that was stopped looks the same."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise NoSuchObject(explain(exc)) from exc
    except docker.errors.APIError as exc:
        raise EngineError(explain(exc)) from exc
    except (requests.exceptions.Timeout, TimeoutError) as exc:
        raise EngineTimeout(host, timeout) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        # Refused or missing socket: never reached. Aborted or cut short: it went away while
        # the command ran, and part of it may be done.
        container = getattr(exc, "container_id", "")
        if _lost(exc) and (changing or container):
            raise EngineLost(host, url, container) from exc
        raise EngineUnreachable(host, url) from exc
    except ConnectionError as exc:  # a reset or broken pipe mid-stream, below requests
        container = getattr(exc, "container_id", "")
        if changing or container:
            raise EngineLost(host, url, container) from exc
        raise EngineUnreachable(host, url) from exc
    except docker.errors.DockerException as exc:
        # from_env/version negotiation wraps the connection failure in a plain DockerException.
        if "Error while fetching server API version" in str(exc):
            raise EngineUnreachable(host, url) from exc
        raise EngineError(str(exc)) from exc


def _lost(exc: Exception) -> bool:
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return True
    text = str(exc)
    return "Connection aborted" in text or "Connection broken" in text or "reset" in text


def explain(exc: docker.errors.APIError) -> str:
    """The engine's own words for a failed call (docker-py keeps them as bytes or str)."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)
