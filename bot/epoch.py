"""Notice a Redis that came back empty (restarted without persistence), and say which
schedules it took with it, in each schedule's channel.

An epoch marker (`dockhand:epoch`, a random id) is set in Redis once; it vanishes only with
everything else. The process keeps the epoch it saw and a copy of the schedule list, in
memory and, with DOCKHAND_SPOOL_DIR, on disk (so a bot restarted against an emptied Redis
knows too). When the marker is gone, every schedule in the copy that the store no longer
holds is reported once; one replica reports (the one whose SET NX makes the new epoch).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

from bot import messages
from bot.reply import Reply
from bot.text import safe, trusted
from jobs.schedules import ScheduleRecord, Schedules

log = logging.getLogger("dockhand.epoch")
MARKER = "dockhand:epoch"
#: seconds between two looks at the marker
EVERY = 2.0


class StoreEpoch:
    def __init__(
        self,
        store: redis.Redis,
        schedules: Schedules,
        notify: Callable[..., object],
        directory: Path | None = None,
    ) -> None:
        self.store = store
        self.schedules = schedules
        self.notify = notify
        self.path = directory / "schedules.json" if directory is not None else None
        self.epoch: str | None = None
        self.copy: dict[str, ScheduleRecord] = {}
        self._last = float("-inf")
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            saved = json.loads(self.path.read_text())
            self.epoch = saved.get("epoch")
            self.copy = {
                r["id"]: ScheduleRecord.model_validate(r) for r in saved.get("schedules", [])
            }
        except (OSError, ValueError) as exc:
            log.warning("schedule copy %s unreadable: %s", self.path, exc)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_suffix(".part")
        records = [r.model_dump(mode="json") for r in self.copy.values()]
        part.write_text(json.dumps({"epoch": self.epoch, "schedules": records}))
        part.replace(self.path)

    def chore(self) -> None:
        """For the outbox's sender: look every EVERY seconds."""
        if time.monotonic() - self._last >= EVERY:
            self._last = time.monotonic()
            self.check()

    def check(self) -> list[ScheduleRecord]:
        """Compare the marker with the epoch we knew; report schedules an emptied store lost.
        Returns them (empty while Redis is down: nothing can be told apart then)."""
        try:
            marker = _text(self.store.get(MARKER))
            erased: list[ScheduleRecord] = []
            if marker is None:
                fresh = uuid.uuid4().hex
                made = bool(self.store.set(MARKER, fresh, nx=True))
                if made and self.epoch is not None:
                    still = {r.id for r in self.schedules.records()}
                    erased = [r for i, r in self.copy.items() if i not in still and not r.lost]
                    log.error(
                        "Redis came back empty (epoch %s gone): %d schedule(s) lost",
                        self.epoch,
                        len(erased),
                    )
                marker = _text(self.store.get(MARKER)) or fresh
            self.epoch = marker
            for record in erased:
                self._report(record, marker)
            self.copy = {r.id: r for r in self.schedules.records()}
        except redis.RedisError as exc:
            log.debug("epoch check skipped: %s", exc)
            return []
        self._save()
        return erased

    def _report(self, record: ScheduleRecord, epoch: str) -> None:
        text = messages.schedule_erased(record.id, record.describe(), record.user, record.command)
        chat = trusted(
            messages.schedule_erased(
                safe(record.id), safe(record.describe()), safe(record.user), safe(record.command)
            )
        )
        reply = Reply(ok=False, text=text, ephemeral=False, chat_text=chat)
        # In the channel itself, not the runs' thread: someone has to act on it. The key
        # keeps it one post per schedule and epoch.
        self.notify(record.channel, reply, None, f"erased:{epoch}:{record.id}")


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
