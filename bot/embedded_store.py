"""`dockhand serve` without REDIS_URL: the in-process store (fakeredis, as `do` and the console
use) in a small process of its own, served on loopback, so the front (its acks read the store:
a channel's default host, the audit of a refusal) and the worker see the same data and neither
waits for the other's interpreter lock. It lives as long as the front: it stops when told or
when the front's end of its pipe closes."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection

log = logging.getLogger("dockhand.store")
START_TIMEOUT = 60.0


class StoreProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._theirs, self._ours = context.Pipe(duplex=True)
        self.process = context.Process(
            target=serve_store, args=(self._theirs,), name="dockhand-store"
        )

    def start(self) -> str:
        """Start it; the redis:// URL it serves on. Raises RuntimeError when it cannot."""
        self.process.start()
        self._theirs.close()
        if not self._ours.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the store process did not start within {START_TIMEOUT:g} s")
        try:
            url = str(self._ours.recv())
        except EOFError:
            raise RuntimeError("the store process could not start") from None
        log.info("store process %s serves the in-process store on %s", self.process.pid, url)
        return url

    def stop(self) -> None:
        """After the worker is done with it (its drain writes audit entries)."""
        self._ours.close()  # end of file: it exits
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def serve_store(front: Connection) -> None:
    """The store process's main (multiprocessing's spawn target)."""
    from bot.store import fakeredis

    # A Ctrl-C reaches the whole process group; the worker still needs the store while it
    # drains, so this process stops only when the front says so (or is gone).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = fakeredis().TcpFakeServer(("127.0.0.1", 0))
    # The clients' connections stay open to the end: their threads must not hold the exit.
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, name="dockhand-store", daemon=True).start()
    front.send(f"redis://127.0.0.1:{server.server_address[1]}/0")
    with contextlib.suppress(EOFError, OSError):
        front.recv()  # nothing is ever sent: this returns at end of file
    server.shutdown()
