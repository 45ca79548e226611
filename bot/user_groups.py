"""Which Slack user groups a user is in, for policy bindings to groups: one usergroups.list
(scope usergroups:read) for everyone, cached for GROUPS_TTL seconds, asked only when the
policy binds a role to a group at all."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.delivery import SlackCalls
from config.policy import PolicyDocument

log = logging.getLogger("dockhand.groups")
GROUPS_TTL = 300.0  # seconds user-group membership is cached


class UserGroups:
    def __init__(self, calls: SlackCalls, document: Callable[[], PolicyDocument | None]) -> None:
        self.calls = calls
        self.document = document
        self._groups: dict[str, tuple[str, ...]] = {}
        self._at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, user: str) -> tuple[str, ...]:
        document = self.document()
        if document is None or not any(b.groups for b in document.bindings):
            return ()  # no policy binds groups: spare the API call
        with self._lock:
            if time.monotonic() - self._at > GROUPS_TTL:
                answer = self.calls.call("usergroups.list", include_users=True)
                if answer.ok:
                    members: dict[str, list[str]] = {}
                    for group in (answer.data or {}).get("usergroups") or []:
                        for member in group.get("users") or []:
                            members.setdefault(member, []).append(group["id"])
                    self._groups = {u: tuple(g) for u, g in members.items()}
                    self._at = time.monotonic()
                else:  # the last answer stays in use (none yet: no groups)
                    log.warning("user groups unavailable: %s", answer.error)
            return self._groups.get(user, ())
