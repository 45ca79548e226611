"""The running Dockhand, for job functions: APScheduler calls them by their text reference
with primitive arguments, so they find the pipeline and the notifier here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Dockhand runtime in this process: jobs run under `dockhand serve`")
    return _current
