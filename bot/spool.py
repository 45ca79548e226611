"""A bounded local spool: what must reach Slack (or the audit) while Redis is down waits here.

In a directory (DOCKHAND_SPOOL_DIR: one JSON file per item, written whole and renamed into
place, so a crash leaves either the item or nothing, and the items outlive a restart) or,
without one, in memory. Either way at most `capacity` items: a full spool refuses the next
one and the caller says so in the log, rather than grow until the process dies.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("dockhand.spool")


class Spool:
    def __init__(self, directory: Path | None, capacity: int, name: str) -> None:
        self.capacity = capacity
        self.name = name
        self.directory = directory / name if directory is not None else None
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def put(self, item: dict[str, Any]) -> str | None:
        """Keep `item`; its handle, or None when the spool is full."""
        with self._lock:
            if len(self) >= self.capacity:
                return None
            # Time first: handles sort in the order items were spooled, across restarts too.
            handle = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):06d}"
            if self.directory is None:
                self._memory[handle] = item
                return handle
            path = self.directory / f"{handle}.json"
            part = path.with_suffix(".part")
            part.write_text(json.dumps(item))
            os.replace(part, path)
            return handle

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Everything spooled, oldest first."""
        with self._lock:
            if self.directory is None:
                return sorted(self._memory.items())
            found = []
            for path in sorted(self.directory.glob("*.json")):
                try:
                    found.append((path.stem, json.loads(path.read_text())))
                except (OSError, ValueError) as exc:  # half-written by a crash: not an item
                    log.warning("unreadable spool file %s skipped: %s", path.name, exc)
            return found

    def remove(self, handle: str) -> None:
        with self._lock:
            if self.directory is None:
                self._memory.pop(handle, None)
            else:
                (self.directory / f"{handle}.json").unlink(missing_ok=True)

    def __len__(self) -> int:
        if self.directory is None:
            return len(self._memory)
        return sum(1 for _ in self.directory.glob("*.json"))
