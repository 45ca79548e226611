"""The engine going away mid-command: a clear answer naming what is known, never the
generic apology. The connection is cut by a relay between Dockhand and the rig's engine (a
crash looks the same from our side), so the engine and its containers stay the rig's to
stop."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from tests.rig import TEST_IMAGE, Engine

TERMINAL = Requester("cli", "cli", "cli")


class Relay:
    """A unix socket that forwards to the engine's, until `cut()` closes every connection
    and stops listening: what a dockerd crash looks like to a client."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = path, target
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(str(self.target))
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)

    def cut(self) -> None:
        self.listener.close()
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@pytest.fixture
def relay(clean_engine: Engine, tmp_path: Path) -> Iterator[Relay]:
    made = Relay(Path("/tmp") / f"dh-relay-{tmp_path.name[:20]}.sock", clean_engine.socket)
    yield made
    made.cut()
    made.path.unlink(missing_ok=True)


def test_connection_lost_during_an_attached_run(clean_engine: Engine, relay: Relay) -> None:
    pipeline = Pipeline(
        Engines({"local": f"unix://{relay.path}"}, timeout=30), Policy(None), run_wait=25
    )

    def cut_when_running() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if clean_engine.client().api.containers(filters={"name": ["lost"]}):
                time.sleep(0.5)
                relay.cut()
                return
            time.sleep(0.2)

    cutter = threading.Thread(target=cut_when_running)
    cutter.start()
    reply = pipeline.run(f"run --name lost {TEST_IMAGE} sleep 60", TERMINAL)
    cutter.join()
    assert not reply.ok and reply.reference is None, reply.text  # no apology
    assert "lost the connection to Docker at local" in reply.text, reply.text
    running = clean_engine.client().api.inspect_container("lost")
    assert f"the container ID is {running['Id'][:12]}" in reply.text and "ps -a" in reply.text
    pipeline.engines.close()
