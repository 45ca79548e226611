"""One leader among replicas: a Redis lease (SET NX PX), renewed well inside its TTL.
Only the leader runs jobs; a standby takes over within the TTL when the leader dies."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger("dockhand.leader")
KEY = "dockhand:scheduler:leader"


class Spawn(Protocol):
    """Runs a long-lived loop in a thread of its own (the bot's supervisor restarts it when it
    dies) until `stopped()`; returns the thread."""

    def __call__(
        self, name: str, body: Callable[[], None], stopped: Callable[[], bool]
    ) -> threading.Thread: ...


def thread_spawn(
    name: str, body: Callable[[], None], stopped: Callable[[], bool]
) -> threading.Thread:
    """A plain daemon thread, unsupervised."""
    del stopped
    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


class LeaderLease:
    def __init__(
        self,
        store: redis.Redis,
        *,
        ttl: float = 10.0,
        on_elected: Callable[[], None],
        on_demoted: Callable[[], None],
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self.on_elected = on_elected
        self.on_demoted = on_demoted
        self.is_leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, spawn: Spawn = thread_spawn) -> None:
        self._thread = spawn("lease", self._loop, self._stop.is_set)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except redis.RedisError as exc:
                log.warning("lease check failed: %s", exc)
                if self.is_leader:
                    # Without the store we cannot know whether we still lead: step down.
                    self._demote()
            self._stop.wait(self.ttl / 3)

    def _if_ours(self, act: Callable[[redis.client.Pipeline], object]) -> bool:
        """Act on the lease only while we still hold it: compare the token, then act, in one
        optimistic transaction (WATCH/MULTI, not a Lua script: the built-in store of `serve`
        without REDIS_URL has no script engine, and the lease flapped on it)."""
        with self.store.pipeline() as pipe:
            try:
                pipe.watch(KEY)  # type: ignore[no-untyped-call]
                held = pipe.get(KEY)
                if (held.decode() if isinstance(held, bytes) else held) != self.token:
                    return False
                pipe.multi()
                act(pipe)
                pipe.execute()
                return True
            except redis.WatchError:  # changed between the compare and the act: not ours
                return False

    def _step(self) -> None:
        ms = int(self.ttl * 1000)
        if self.is_leader:
            if not self._if_ours(lambda pipe: pipe.pexpire(KEY, ms)):
                log.warning("lost the scheduler lease")
                self._demote()
        elif self.store.set(KEY, self.token, nx=True, px=ms):
            log.info("elected scheduler leader")
            self.is_leader = True
            self.on_elected()

    def _demote(self) -> None:
        self.is_leader = False
        self.on_demoted()

    def stop(self) -> None:
        """Stop renewing and hand the lease back at once, so a standby takes over now."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=self.ttl)
        if self.is_leader:
            try:
                self._if_ours(lambda pipe: pipe.delete(KEY))
            except redis.RedisError as exc:
                log.warning("could not release the lease: %s", exc)
            self.is_leader = False
