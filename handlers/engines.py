"""Docker clients by host name, and the translation of docker-py's failures into ours."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import docker
import docker.constants
import docker.errors
import docker.tls
import requests
import requests.exceptions

from config.hosts import HostConfig, as_configs
from handlers.errors import (
    EngineError,
    EngineLost,
    EngineSSHRefused,
    EngineTimeout,
    EngineTLSRefused,
    EngineUnreachable,
    NoSuchObject,
    UsageError,
)

try:  # ssh:// hosts go through paramiko when it is installed (config/hosts.py checks)
    import paramiko  # type: ignore[import-untyped]

    _SSH_ERRORS: tuple[type[Exception], ...] = (paramiko.SSHException,)
    # Nothing listens at the host's SSH port (or its name does not resolve): "cannot reach".
    _SSH_UNREACHABLE: tuple[type[Exception], ...] = (
        paramiko.ssh_exception.NoValidConnectionsError,
    )
except ImportError:  # pragma: no cover - without paramiko no ssh:// host passes the config
    _SSH_ERRORS = ()
    _SSH_UNREACHABLE = ()

#: the API version a client starts with before it asks the engine for its own
_NEGOTIATE_FROM = docker.constants.MINIMUM_DOCKER_API_VERSION


class Engines:
    """One cached DockerClient per configured host; every request has a timeout. A host is a
    URL or a HostConfig (TLS material, SSH, its own timeout: config/hosts.py)."""

    def __init__(
        self,
        hosts: Mapping[str, str | HostConfig],
        *,
        timeout: float,
        api_version: str = "auto",
        fanout_timeout: float = 10.0,
    ):
        self._hosts = as_configs(hosts)
        self._timeout = timeout
        self._api_version = api_version
        #: how long each host gets to answer its part of a fan-out
        self.fanout_timeout = fanout_timeout
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._hosts)

    @property
    def timeout(self) -> float:
        return self._timeout

    def config(self, host: str) -> HostConfig:
        try:
            return self._hosts[host]
        except KeyError:
            known = ", ".join(f"`{name}`" for name in self._hosts)
            raise UsageError(f"unknown host `{host}`; configured: {known}", token=host) from None

    def url(self, host: str) -> str:
        return self.config(host).url

    def timeout_of(self, host: str) -> float:
        return self.config(host).timeout or self._timeout

    def client(self, host: str) -> docker.DockerClient:
        """The client for `host`, created on first use (which may ask the engine its version)."""
        config = self.config(host)
        with self._lock:
            found = self._clients.get(host)
        if found is not None:
            return found
        timeout = config.timeout or self._timeout
        with translate_engine_errors(host, config.url, timeout):
            made = connect(config, api_version=self._api_version, timeout=timeout)
        with self._lock:
            return self._clients.setdefault(host, made)

    def forget(self, host: str) -> None:
        """Drop a host's cached client (its pooled connections), e.g. after it failed."""
        with self._lock:
            gone = self._clients.pop(host, None)
        if gone is not None:
            gone.close()

    def close(self) -> None:
        with self._lock:
            for made in self._clients.values():
                made.close()
            self._clients.clear()


def connect(config: HostConfig, *, api_version: str, timeout: float) -> docker.DockerClient:
    """A docker-py client for one engine, TLS and SSH as its config says."""
    tls: docker.tls.TLSConfig | bool = False
    if config.tls is not None:
        material = config.tls
        cert = (str(material.cert), str(material.key)) if material.cert and material.key else None
        tls = docker.tls.TLSConfig(
            client_cert=cert,
            ca_cert=str(material.ca) if material.ca else None,
            verify=material.verify,
        )
    url = config.url
    if url.startswith("https://"):
        url = "tcp://" + url.removeprefix("https://")
        tls = tls or docker.tls.TLSConfig(verify=True)
    # A fixed version first: negotiating it is a request, and it must already go out with
    # the host's own CA (below), not the environment's.
    client = docker.DockerClient(
        base_url=url,
        version=_NEGOTIATE_FROM if api_version == "auto" else api_version,
        timeout=timeout,
        tls=tls,
        use_ssh_client=config.ssh_client == "openssh",
    )
    _keep_configured_ca(client.api)
    if api_version == "auto":
        try:
            client.api._version = client.api._retrieve_server_version()
        except BaseException:
            client.close()
            raise
    return client


def _keep_configured_ca(api: requests.Session) -> None:
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the session's `verify` (the
    host's CA) on every request; many ops hosts set them, and the handshake then fails with
    "unable to get local issuer certificate". The host's own CA wins; proxies from the
    environment still apply."""
    merge = api.merge_environment_settings

    def merged(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = merge(url, proxies, stream, verify, cert)
        if verify is None:
            settings["verify"] = api.verify
        return settings

    # An instance attribute shadows the method for this session only.
    setattr(api, "merge_environment_settings", merged)  # noqa: B010


@contextmanager
def translate_engine_errors(
    host: str, url: str, timeout: float, *, changing: bool = False, verb: str = ""
) -> Iterator[None]:
    """Turn docker-py and requests exceptions into the error tree (timeouts escape docker's).
    A connection cut mid-request is "lost" for a command that changes state (part of it may
    be done) or whose container is known (a handler sets `container_id` on the exception),
    named by its `verb`; for a read it is plain "cannot reach": a stale pooled connection
    to an engine that was stopped looks the same."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise NoSuchObject(explain(exc)) from exc
    except docker.errors.APIError as exc:
        raise EngineError(explain(exc)) from exc
    except (requests.exceptions.Timeout, TimeoutError) as exc:
        raise EngineTimeout(host, timeout) from exc
    except requests.exceptions.SSLError as exc:
        # Before ConnectionError (its parent): a wrong CA or certificate is not "down".
        raise EngineTLSRefused(host, url, _tls_reason(exc)) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        # Refused or missing socket: never reached. Aborted or cut short: it went away while
        # the command ran, and part of it may be done.
        container = getattr(exc, "container_id", "")
        if _lost(exc) and (changing or container):
            raise EngineLost(host, url, container, cli_verb(verb)) from exc
        raise EngineUnreachable(host, url) from exc
    except ConnectionError as exc:  # a reset or broken pipe mid-stream, below requests
        container = getattr(exc, "container_id", "")
        if changing or container:
            raise EngineLost(host, url, container, cli_verb(verb)) from exc
        raise EngineUnreachable(host, url) from exc
    except _SSH_UNREACHABLE as exc:
        raise EngineUnreachable(host, url) from exc
    except _SSH_ERRORS as exc:
        # paramiko's own (an unknown or changed host key, a key the far side refuses): not
        # "down", and not docker-py's to wrap.
        raise EngineSSHRefused(host, url, str(exc) or type(exc).__name__) from exc
    except docker.errors.DockerException as exc:
        # from_env/version negotiation wraps the connection failure in a plain DockerException.
        if "Error while fetching server API version" in str(exc):
            cause = _ssl_cause(exc)
            if cause is not None:
                raise EngineTLSRefused(host, url, _tls_reason(cause)) from exc
            raise EngineUnreachable(host, url) from exc
        raise EngineError(str(exc)) from exc


def cli_verb(verb: str) -> str:
    """A command model's verb ("container:run") as the docker CLI names it ("run",
    "image pull", "network create")."""
    group, _, name = verb.partition(":")
    return name if group == "container" else f"{group} {name}".strip()


def _ssl_cause(exc: BaseException) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_reason(exc: BaseException) -> str:
    """The handshake's own reason (`certificate verify failed: unable to get local issuer
    certificate`), without urllib3's wrapping."""
    text = str(exc)
    for known in ("certificate verify failed", "tlsv1 alert", "sslv3 alert", "wrong version"):
        at = text.find(known)
        if at >= 0:
            return text[at:].split("')")[0].split(" (_ssl")[0].rstrip(")'\" ")
    return "the TLS handshake failed"


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
