"""Dockhand's YAML files (the policy, the hosts): read whole, with the node tree kept for
line numbers, or one ConfigError line naming the setting, the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from config.settings import ConfigError


def read_yaml(setting: str, path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data (an empty file is `{}`) and its node tree."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text) or {}, yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{setting}: {path}{where}: {problem}") from None
