"""The README's Layout section names every module of the four rooms, so a newcomer's map
matches the tree: a module added without a line there fails here, by name."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("bot", "handlers", "jobs", "config")


def _layout() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Layout\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def test_the_layout_names_every_module() -> None:
    layout = _layout()
    missing = [
        str(path.relative_to(ROOT))
        for room in ROOMS
        for path in sorted((ROOT / room).glob("*.py"))
        if path.name != "__init__.py" and f"`{path.name}`" not in layout
    ]
    assert not missing, f"README.md's Layout does not name {missing}"


def test_the_layout_names_no_module_that_is_gone() -> None:
    layout = _layout()
    present = {path.name for room in ROOMS for path in (ROOT / room).glob("*.py")}
    named = {word.strip("`") for word in layout.split() if word.strip("`,.():").endswith(".py")}
    named = {name.strip("`,.():") for name in named}
    # Paths such as `jobs/host.py` or `tests/rig.py` name a file elsewhere: only bare names.
    gone = sorted(n for n in named if "/" not in n and n not in present)
    assert not gone, f"README.md's Layout names modules that do not exist: {gone}"
