"""What every bench script shares: printing its figures and writing them to docs/."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def publish(name: str, text: str) -> None:
    print(text)
    (DOCS / name).write_text(text)


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(median, best) wall time of `rounds` calls, in ms."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)
