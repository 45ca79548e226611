"""The policy file (YAML, named by DOCKHAND_POLICY): roles and who holds them where, the
guards on what containers may be created, protected containers and confirmations.

The whole file is checked before anything uses it; an error names its line and stops the
start, so a policy is never half-applied.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.settings import ConfigError
from config.units import ram_in_bytes
from config.yaml_file import read_yaml


@dataclass(frozen=True)
class Requester:
    """Who asked, and where: what the policy's bindings are matched against. `source` is
    slack, cli, console or job. It lives with the policy file, below every room that judges
    people (the bot's policy, the jobs' owners), so none of them reaches up for it."""

    user: str
    channel: str
    source: str = "slack"
    groups: tuple[str, ...] = ()

    @property
    def mention(self) -> str:
        return f"<@{self.user}>" if self.source == "slack" else self.user


# Verb globs each built-in role allows. Verbs are `family:action` (container:stop).
BUILTIN_ROLES: dict[str, list[str]] = {
    "viewer": [
        "help",
        "system:version",
        "system:info",
        "system:df",
        "*:ls",
        "*:inspect",
        "inspect",
        "*:logs",
        "*:history",
        "*:top",
        "*:stats",
        "container:port",
        "container:diff",
        "container:wait",
        "system:events",
        "search",
        "service:ps",
    ],
    "operator": [
        "help",
        "inspect",
        "search",
        "system:*",
        "container:*",
        # A shell in a running container is more than an operator's stop or restart: it
        # reads the container's secrets and files. Admins only, unless a policy says so.
        "!container:exec",
        "image:*",
        "network:*",
        "volume:*",
        "registry:*",
        "schedule:*",
        "alert:mute",
        # Swarm: services as containers are; nodes are read here, changed by admins only.
        "service:*",
        "node:ls",
        "node:inspect",
        "host:ls",
        "host:use",
    ],
    "admin": ["*"],
}
#: verbs no built-in role below admin is given, on purpose. Every verb is in a role's globs
#: above or here: tests/unit/test_every_verb_is_wired.py fails on a verb in neither.
ADMIN_ONLY = frozenset({"audit", "container:exec", "node:update"})
# Destructive verbs that show a preview with Confirm / Cancel first.
DEFAULT_CONFIRM = [
    "container:rm",
    "container:stop",
    "container:kill",
    "container:prune",
    "image:prune",
    "network:prune",
    "volume:prune",
    "system:prune",
    "network:rm",
    "volume:rm",
    # recreates the container on a newer image: the preview shows what changes
    "container:update-image",
    "service:rm",
    "service:scale",
]


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    #: host-name globs the binding holds on (`[staging*]`); empty: every host
    hosts: list[str] = Field(default_factory=list)


def _bytes(value: object) -> object:
    if isinstance(value, str):
        return ram_in_bytes(value)
    return value


class Allowances(BaseModel):
    """What an admin may open beyond the safety check's defaults, field by field. Each
    entry widens every role's reach (exempt_roles waive the whole check instead)."""

    model_config = ConfigDict(extra="forbid")

    #: --cap-add values (NET_ADMIN or CAP_NET_ADMIN)
    capabilities: list[str] = Field(default_factory=list)
    #: host devices --device may name (PathOnHost)
    devices: list[str] = Field(default_factory=list)
    #: log drivers beyond json-file, local, journald and none (any options, no control chars)
    log_drivers: list[str] = Field(default_factory=list)
    #: network drivers beyond bridge and overlay (macvlan, ipvlan: the host's segment)
    network_drivers: list[str] = Field(default_factory=list)
    #: volume drivers beyond local
    volume_drivers: list[str] = Field(default_factory=list)
    #: --security-opt values beyond no-new-privileges and apparmor=docker-default, exactly
    security_opt: list[str] = Field(default_factory=list)
    #: address pools `network create --subnet/--ip-range/--gateway` may use (none: the
    #: engine picks from its own default pools)
    subnets: list[str] = Field(default_factory=list)
    #: --runtime values beyond runc
    runtimes: list[str] = Field(default_factory=list)
    #: `--pid/--ipc/--network container:X`: X's processes, environment, files and loopback
    #: (X is still judged as a whole, recursively)
    namespace_sharing: bool = False
    #: named volumes in services on a swarm of more than one node: each node may hold a
    #: volume of that name that only it can see (the manager cannot judge it)
    service_volumes: bool = False

    @field_validator("subnets")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"subnet {value!r} is not an address range") from None
        return values

    @field_validator("devices")
    @classmethod
    def _device_paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/dev/"):
                raise ValueError(f"device {path!r} must be a path under /dev/")
        return paths


class Guards(BaseModel):
    """What `run`, `create` and `update` may ask of a host."""

    model_config = ConfigDict(extra="forbid")

    #: host paths (and what is below them) that bind mounts may use; none by default
    bind_paths: list[str] = Field(default_factory=list)
    #: registries images may come from; empty means any
    registries: list[str] = Field(default_factory=list)
    max_memory: int | None = None
    max_cpus: float | None = None
    max_pids: int | None = None
    default_memory: int | None = None
    default_cpus: float | None = None
    default_pids: int | None = None
    #: roles the guards do not bind (each use is said in the reply and audited)
    exempt_roles: list[str] = Field(default_factory=list)
    #: what the safety check refuses by default but this policy allows
    allow: Allowances = Field(default_factory=Allowances)

    _sizes = field_validator("max_memory", "default_memory", mode="before")(_bytes)

    @field_validator("bind_paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/"):
                raise ValueError(f"bind path {path!r} must be absolute")
        return paths


class Confirmations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verbs: list[str] = Field(default_factory=lambda: list(DEFAULT_CONFIRM))
    #: verbs whose -f/--force skips the prompt (none unless the policy says so)
    force_skips: list[str] = Field(default_factory=list)
    #: verbs that need a second person with the role to approve
    two_person: list[str] = Field(default_factory=list)
    expires_seconds: int = Field(default=300, ge=10, le=86400)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_role: str | None = None
    roles: dict[str, list[str]] = Field(default_factory=dict)
    bindings: list[Binding] = Field(default_factory=list)
    guards: Guards = Field(default_factory=Guards)
    protected_label: str = "dockhand.protected"
    confirm: Confirmations = Field(default_factory=Confirmations)
    #: channel the audit is mirrored to, if any
    audit_channel: str | None = None

    def all_roles(self) -> dict[str, list[str]]:
        return {**BUILTIN_ROLES, **self.roles}


def load_policy(path: Path | None) -> PolicyDocument | None:
    """Read and check the whole file; any error fails the start, nothing is half-applied."""
    if path is None:
        return None
    raw, tree = read_yaml("DOCKHAND_POLICY", path)
    try:
        doc = PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = _line_of(tree, first["loc"])
        at = f" line {line}" if line else ""
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"DOCKHAND_POLICY: {path}{at}: {where}: {message}") from None
    roles = doc.all_roles()
    for n, binding in enumerate(doc.bindings):
        if binding.role not in roles:
            line = _line_of(tree, ("bindings", n, "role"))
            raise ConfigError(f"DOCKHAND_POLICY: {path} line {line}: unknown role `{binding.role}`")
    if doc.default_role and doc.default_role not in roles:
        line = _line_of(tree, ("default_role",))
        raise ConfigError(f"DOCKHAND_POLICY: {path} line {line}: unknown role `{doc.default_role}`")
    return doc


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the YAML node at a pydantic error location (the nearest one found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                key = next((k for k, _ in node.value if k.value == str(part)), None)
                return key.start_mark.line + 1 if key else line
            node = match
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line
