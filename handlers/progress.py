"""Progress of pulls, pushes and prunes: the Engine's per-layer events summed into one report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.errors import EngineError


@dataclass(frozen=True)
class ProgressReport:
    action: str
    current: int = 0
    total: int = 0
    layers_done: int = 0
    layers: int = 0
    message: str = ""

    @property
    def fraction(self) -> float | None:
        return self.current / self.total if self.total else None


Progress = Callable[[ProgressReport], None]

_DONE = {"Pull complete", "Already exists", "Pushed", "Layer already exists", "Mounted from"}


@dataclass
class LayerTracker:
    """Folds the Engine's JSON progress stream; an `error` event is raised, never swallowed."""

    action: str
    progress: Progress | None = None
    current: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    statuses: list[str] = field(default_factory=list)

    def feed(self, event: dict[str, Any]) -> None:
        if event.get("error") or event.get("errorDetail"):
            detail = event.get("errorDetail") or {}
            raise EngineError(str(event.get("error") or detail.get("message") or "unknown error"))
        status = str(event.get("status", ""))
        layer = event.get("id")
        detail = event.get("progressDetail") or {}
        if layer and detail.get("total"):
            self.total[layer] = int(detail["total"])
            self.current[layer] = int(detail.get("current", 0))
        if layer and any(status.startswith(d) for d in _DONE):
            self.done.add(layer)
            if layer in self.total:
                self.current[layer] = self.total[layer]
        if not layer and status:
            self.statuses.append(status)
        if self.progress is not None:
            self.progress(self.report(status))

    def report(self, message: str = "") -> ProgressReport:
        layers = set(self.total) | self.done
        return ProgressReport(
            action=self.action,
            current=sum(self.current.values()),
            total=sum(self.total.values()),
            layers_done=len(self.done),
            layers=len(layers),
            message=message,
        )

    def find_status(self, prefix: str) -> str | None:
        return next((s for s in reversed(self.statuses) if s.startswith(prefix)), None)
