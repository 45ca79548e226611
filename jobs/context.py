"""The running Dockhand, for job functions: APScheduler calls them by their text reference
with primitive arguments, so they find the pipeline, the notifier and the owner's groups here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

_current: Runtime | None = None


def _no_groups(user: str) -> tuple[str, ...]:
    return ()


#: a user's user groups now, for policies that bind roles to groups. The Slack side knows
#: them; until it installs its lookup, an owner holds only what is bound to them by name
#: or channel (a job then fails closed rather than run on groups it cannot see).
_groups: Callable[[str], tuple[str, ...]] = _no_groups


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Dockhand runtime in this process: jobs run under `dockhand serve`")
    return _current


def install_groups(lookup: Callable[[str], tuple[str, ...]] | None) -> None:
    """Where jobs learn a schedule owner's user groups at each run (None: nowhere)."""
    global _groups
    _groups = lookup or _no_groups


def groups_of(user: str) -> tuple[str, ...]:
    return _groups(user)
