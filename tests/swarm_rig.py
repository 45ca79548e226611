"""A two-node Swarm on loopback from two of the rig's private engines: the manager inits,
the worker joins, both leave (worker first, manager with --force) before the engines stop.

Every port is a free loopback port picked at start (the control plane's and the data
path's), so another rig's swarm on this machine cannot collide with this one.
"""

from __future__ import annotations

import contextlib
import random
import socket
from dataclasses import dataclass

from tests.rig import TEST_IMAGE, Engine, Rig, free_port, wait_for


@dataclass
class Swarm:
    manager: Engine
    worker: Engine

    def node_ids(self) -> dict[str, str]:
        """Node ID by engine role ('manager', 'worker')."""
        return {
            "manager": self.manager.client().info()["Swarm"]["NodeID"],
            "worker": self.worker.client().info()["Swarm"]["NodeID"],
        }

    def remove_services(self) -> None:
        api = self.manager.client().api
        for service in api.services():
            api.remove_service(service["ID"])

    def leave(self) -> None:
        for engine, force in ((self.worker, False), (self.manager, True)):
            # Already gone is fine: the engines stop next anyway.
            with contextlib.suppress(Exception):
                engine.client().api.leave_swarm(force=force)


def _free_udp_port() -> int:
    """A free UDP port in the range swarm takes for its data path (1024-49151)."""
    for _ in range(100):
        port = random.randint(20000, 40000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free UDP port for the swarm data path")


def start_swarm(rig: Rig) -> Swarm:
    manager = rig.engine("swarm-manager")
    worker = rig.engine("swarm-worker")
    port, data_port, worker_port = free_port(), _free_udp_port(), free_port()
    manager.cli(
        "swarm",
        "init",
        "--advertise-addr",
        f"127.0.0.1:{port}",
        "--listen-addr",
        f"127.0.0.1:{port}",
        "--data-path-port",
        str(data_port),
    )
    token = manager.cli("swarm", "join-token", "-q", "worker").stdout.strip()
    worker.cli(
        "swarm",
        "join",
        "--token",
        token,
        "--listen-addr",
        f"127.0.0.1:{worker_port}",
        "--advertise-addr",
        f"127.0.0.1:{worker_port}",
        f"127.0.0.1:{port}",
    )
    swarm = Swarm(manager, worker)
    wait_for(
        lambda: [n["Status"]["State"] for n in manager.client().api.nodes()] == ["ready"] * 2,
        60,
        "both swarm nodes ready",
    )
    # The test image on both nodes: a task may land on either, and there is no registry.
    manager.import_busybox(TEST_IMAGE)
    worker.import_busybox(TEST_IMAGE)
    return swarm
