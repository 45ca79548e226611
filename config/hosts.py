"""The engines Dockhand drives, by name: DOCKER_HOST (`local`), DOCKHAND_HOSTS (JSON, URLs
only) and the hosts file (YAML, DOCKHAND_HOSTS_FILE) with TLS material and SSH.

    hosts:
      prod:
        url: tcp://10.0.0.5:2376
        tls: {ca: /etc/dockhand/prod/ca.pem, cert: /etc/dockhand/prod/cert.pem,
              key: /etc/dockhand/prod/key.pem}        # verify: true unless said otherwise
      staging: {url: "ssh://deploy@10.0.0.7"}
      build: {url: "unix:///run/build/docker.sock", timeout: 60}

The whole file is checked at start, files included; an error names the entry (and its
line) and stops the start, so a host is never half-configured.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.settings import LOCAL, ConfigError
from config.yaml_file import read_yaml

if TYPE_CHECKING:
    from config.settings import Settings

#: what a host name may be: it is typed after -H and shown in a HOST column. Glob
#: characters and `all` are the fan-out selectors, never names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
FLEET = "all"
SCHEMES = ("unix://", "tcp://", "ssh://", "http://", "https://")


class TLS(BaseModel):
    """TLS material for a tcp:// engine, as `docker --tlsverify --tlscacert --tlscert
    --tlskey` takes it. Verification is on unless the entry says `verify: false`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    verify: bool = True

    @model_validator(mode="after")
    def _material(self) -> TLS:
        if (self.cert is None) != (self.key is None):
            raise ValueError("needs both cert and key (the client's certificate)")
        for label, path in (("ca", self.ca), ("cert", self.cert), ("key", self.key)):
            if path is not None and not path.is_file():
                raise ValueError(f"{label} {str(path)!r} is not a readable file")
        return self


class HostConfig(BaseModel):
    """One engine: where it is and how to reach it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    tls: TLS | None = None
    #: ssh:// through paramiko (in-process, the default) or the system's `ssh` binary
    #: (its ~/.ssh/config, agents and jump hosts)
    ssh_client: Literal["paramiko", "openssh"] = "paramiko"
    #: seconds for each request to this engine; unset: DOCKHAND_DOCKER_TIMEOUT
    timeout: float | None = Field(default=None, gt=0, le=600)
    #: a word for `/docker hosts` (region, role)
    description: str = ""
    #: whether /healthz fails while this host is down (false: reported, not failed; a
    #: restart of Dockhand would not bring a remote host back)
    required: bool = True

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(SCHEMES):
            raise ValueError(f"url {value!r} must start with {', '.join(SCHEMES)}")
        return value

    @model_validator(mode="after")
    def _transport(self) -> HostConfig:
        if self.tls is not None and not self.url.startswith(("tcp://", "https://")):
            raise ValueError("tls is for tcp:// hosts")
        if self.url.startswith("ssh://"):
            if "@" not in self.url:
                raise ValueError(f"url {self.url!r}: give the user, ssh://user@host")
            if self.ssh_client == "paramiko" and importlib.util.find_spec("paramiko") is None:
                raise ValueError(
                    "ssh:// needs paramiko (pip install 'docker[ssh]'), or ssh_client: openssh"
                )
        return self

    @property
    def scheme(self) -> str:
        scheme = self.url.partition("://")[0]
        return "tcp+tls" if self.tls is not None else scheme


class HostsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: dict[str, HostConfig] = Field(default_factory=dict)


def check_name(name: str) -> str:
    if name == FLEET or not _NAME.match(name):
        raise ValueError(
            f"host name {name!r} must be letters, digits, '.', '_' or '-' (and not `{FLEET}`)"
        )
    return name


def load_hosts_file(path: Path) -> dict[str, HostConfig]:
    """Read and check the whole file; an error names the entry and its line."""
    where = f"DOCKHAND_HOSTS_FILE: {path}"
    raw, tree = read_yaml("DOCKHAND_HOSTS_FILE", path)
    try:
        document = HostsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = _line_of(tree, loc)
        at = f" line {line}" if line else ""
        entry = f"host `{loc[1]}`" if len(loc) > 1 and loc[0] == "hosts" else "hosts"
        field = ".".join(str(p) for p in loc[2:])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"{where}{at}: {entry}{': ' + field if field else ''}: {message}"
        ) from None
    for name in document.hosts:
        try:
            check_name(name)
        except ValueError as exc:
            line = _line_of(tree, ("hosts", name))
            raise ConfigError(f"{where} line {line}: {exc}") from None
    return document.hosts


def configured_hosts(settings: Settings) -> dict[str, HostConfig]:
    """Every engine by name: `local` (DOCKER_HOST), DOCKHAND_HOSTS, then the hosts file. A
    name given twice stops the start (which one was meant?); the file may redefine `local`."""
    hosts: dict[str, HostConfig] = {LOCAL: HostConfig(url=settings.docker_host)}
    for name, url in settings.extra_hosts.items():
        try:
            hosts[check_name(name)] = HostConfig(url=url)
        except (ValueError, ValidationError) as exc:
            reason = _reason(exc)
            raise ConfigError(f"DOCKHAND_HOSTS: host `{name}`: {reason}") from None
    if settings.hosts_file is not None:
        for name, config in load_hosts_file(settings.hosts_file).items():
            if name in settings.extra_hosts:
                raise ConfigError(
                    f"DOCKHAND_HOSTS_FILE: host `{name}` is also in DOCKHAND_HOSTS; keep one"
                )
            hosts[name] = config
    return hosts


def as_configs(hosts: Mapping[str, str | HostConfig]) -> dict[str, HostConfig]:
    """URLs (the older form) or configs, as configs."""
    return {
        name: value if isinstance(value, HostConfig) else HostConfig(url=value)
        for name, value in hosts.items()
    }


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return str(exc)


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the YAML node at a pydantic error location (the nearest one found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
        if match is None:
            break
        line = match[0].start_mark.line + 1
        node = match[1]
    return line
