"""What every bench script shares: printing its figures and writing them to docs/."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def publish(name: str, text: str) -> None:
    print(text)
    (DOCS / name).write_text(text)
