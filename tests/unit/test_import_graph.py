"""The rooms stay in their order: config at the bottom, handlers on it, jobs on handlers, the
bot on top. Every import counts, at module level, inside a function or under TYPE_CHECKING:
a lazy import is still a dependency, and a circle through one is still a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("bot", "handlers", "jobs", "config")

#: each room, and the rooms it must never import (each lower room names the interface it
#: needs, as jobs/host.py does, and the upper room implements it)
FORBIDDEN = {
    "jobs": {"bot"},
    "handlers": {"bot", "jobs"},
    "config": {"bot", "handlers", "jobs"},
}


def _room_of(module: str) -> str | None:
    top = module.split(".", 1)[0]
    return top if top in ROOMS else None


def _package_of(path: Path) -> str:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return package if path.name == "__init__.py" else package.rsplit(".", 1)[0]


def _imported(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, module) for every import in `path`, relative ones resolved from `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def room_imports() -> dict[str, dict[str, list[str]]]:
    """room -> room it imports -> where ("file:line")."""
    graph: dict[str, dict[str, list[str]]] = {room: {} for room in ROOMS}
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            for line, module in _imported(path, _package_of(path)):
                target = _room_of(module)
                if target is not None and target != room:
                    where = f"{path.relative_to(ROOT)}:{line}"
                    graph[room].setdefault(target, []).append(where)
    return graph


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_lower_room_imports_no_upper_one(room: str) -> None:
    graph = room_imports()
    wrong = {t: where for t, where in graph[room].items() if t in FORBIDDEN[room]}
    assert not wrong, f"{room}/ imports {wrong}"


def test_no_circle_between_rooms() -> None:
    graph = room_imports()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = [room for room in ROOMS if reaches(room, room, {room})]
    assert not circles, f"rooms on a circle: {circles}; edges: {graph}"


def test_the_walker_sees_lazy_guarded_and_relative_imports(tmp_path: Path) -> None:
    """The walker itself: imports in a function, under TYPE_CHECKING and relative ones count."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.runtime import Runtime\n"
        "def f() -> None:\n    import jobs.tasks\n    from ..bot import render\n"
    )
    modules = {m for _, m in _imported(source, "config.sub")}
    assert {"bot.runtime", "jobs.tasks", "config.bot"} <= modules


def test_jobs_and_the_console_load_no_slack() -> None:
    """The terminal and the scheduled jobs do not need Slack's SDK to load."""
    check = "import sys, jobs.tasks, bot.console; assert 'slack_sdk' not in sys.modules"
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
