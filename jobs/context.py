"""The host jobs run in, for job functions: APScheduler calls them by their text reference
with primitive arguments, so they find their host (jobs/host.py) and the owners' groups here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.host import Host

_current: Host | None = None


def _no_groups(user: str) -> tuple[str, ...]:
    return ()


#: a user's user groups now, for policies that bind roles to groups. The Slack side knows
#: them; until it installs its lookup, an owner holds only what is bound to them by name
#: or channel (a job then fails closed rather than run on groups it cannot see).
_groups: Callable[[str], tuple[str, ...]] = _no_groups


def install(host: Host | None) -> None:
    """Where job functions in this process find their host (None: nowhere)."""
    global _current
    _current = host


def current() -> Host:
    if _current is None:
        raise RuntimeError("no Dockhand runtime in this process: jobs run under `dockhand serve`")
    return _current


def install_groups(lookup: Callable[[str], tuple[str, ...]] | None) -> None:
    """Where jobs learn a schedule owner's user groups at each run (None: nowhere)."""
    global _groups
    _groups = lookup or _no_groups


def groups_of(user: str) -> tuple[str, ...]:
    return _groups(user)
