"""The policy file (YAML, named by DOCKHAND_POLICY): roles, who holds them, and where."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.settings import ConfigError

# Verb globs each built-in role allows. Verbs are `family:action` (container:stop).
BUILTIN_ROLES: dict[str, list[str]] = {
    "viewer": [
        "help",
        "system:version",
        "system:info",
        "*:ls",
        "*:inspect",
        "*:logs",
        "*:history",
        "*:top",
        "*:stats",
        "system:df",
        "search",
    ],
    "operator": [
        "help",
        "system:*",
        "container:*",
        "image:*",
        "network:*",
        "volume:*",
        "search",
        "!*:prune",
        "!system:prune",
    ],
    "admin": ["*"],
}


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_role: str | None = None
    roles: dict[str, list[str]] = Field(default_factory=dict)
    bindings: list[Binding] = Field(default_factory=list)

    def all_roles(self) -> dict[str, list[str]]:
        return {**BUILTIN_ROLES, **self.roles}


def load_policy(path: Path | None) -> PolicyDocument | None:
    """Read and check the whole file; any error fails the start, nothing is half-applied."""
    if path is None:
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"DOCKHAND_POLICY: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"DOCKHAND_POLICY: {path}{where}: {exc}") from None
    try:
        doc = PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"DOCKHAND_POLICY: {path}: {where}: {first['msg']}") from None
    roles = doc.all_roles()
    for name in [b.role for b in doc.bindings] + ([doc.default_role] if doc.default_role else []):
        if name not in roles:
            raise ConfigError(f"DOCKHAND_POLICY: {path}: unknown role `{name}`")
    return doc
