"""Long-lived background work (event watchers, alert senders, the scheduler, the leader lease)
runs here: each component's loop is restarted with capped backoff when it dies, and its state
(up, or down and why) is what /healthz and dockhand_component_up report.

A component is a loop that returns only when its own stop condition holds. Returning early or
raising is a death: logged with the traceback, reported down, restarted after a backoff that
doubles up to a cap and starts over once the component has stayed up a while. A component may
also say it is down while alive (a watcher waiting for Redis) and up again when it recovers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Gauge

log = logging.getLogger("dockhand.supervisor")
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 30.0
#: a component that ran this long before dying starts its backoff over
STEADY_SECONDS = 60.0


@dataclass
class State:
    up: bool = True
    detail: str = "ok"
    restarts: int = 0


class Supervisor:
    def __init__(
        self,
        gauge: Gauge | None = None,
        *,
        backoff_first: float = BACKOFF_FIRST,
        backoff_cap: float = BACKOFF_CAP,
    ) -> None:
        self.gauge = gauge
        self.backoff_first = backoff_first
        self.backoff_cap = backoff_cap
        self._states: dict[str, State] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def spawn(
        self, name: str, body: Callable[[], None], stopped: Callable[[], bool]
    ) -> threading.Thread:
        """Run `body` in a daemon thread, again after each death, until `stopped()` or the
        supervisor stops. Returns the thread (join it to wait for the component's end)."""
        self.report(name, True, "ok")
        thread = threading.Thread(
            target=self._keep, args=(name, body, stopped), name=name, daemon=True
        )
        thread.start()
        return thread

    def _keep(self, name: str, body: Callable[[], None], stopped: Callable[[], bool]) -> None:
        backoff = self.backoff_first
        while True:
            began = time.monotonic()
            try:
                body()
                cause = "exited"
            except Exception as exc:
                log.exception("component %s died", name)
                cause = f"died: {type(exc).__name__}"
            if stopped() or self._stopping.is_set():
                self.report(name, True, "stopped")
                return
            if time.monotonic() - began >= STEADY_SECONDS:
                backoff = self.backoff_first
            with self._lock:
                state = self._states.setdefault(name, State())
                state.restarts += 1
            self.report(name, False, f"{cause}; restarting in {backoff:g} s")
            log.warning("component %s %s; restarting in %.1f s", name, cause, backoff)
            if self._stopping.wait(backoff) or stopped():
                return
            backoff = min(backoff * 2, self.backoff_cap)
            self.report(name, True, "ok")

    def report(self, name: str, up: bool, detail: str = "ok") -> None:
        """A component's own word on its state (also used by the restart loop)."""
        with self._lock:
            state = self._states.setdefault(name, State())
            changed = state.up != up
            state.up, state.detail = up, detail
        if changed:
            log.log(logging.INFO if up else logging.WARNING, "component %s: %s", name, detail)
        if self.gauge is not None:
            self.gauge.labels(name=name).set(1 if up else 0)

    def states(self) -> dict[str, State]:
        with self._lock:
            return {name: State(s.up, s.detail, s.restarts) for name, s in self._states.items()}

    def health(self) -> tuple[bool, dict[str, str]]:
        """All up, and each component's state: "ok" or what is wrong."""
        states = self.states()
        return all(s.up for s in states.values()), {n: s.detail for n, s in states.items()}

    def stop(self) -> None:
        """No more restarts; components stop by their own conditions."""
        self._stopping.set()
