"""An ssh:// host where nothing listens is "cannot reach", like any engine that is down: not
an unexpected error with paramiko's traceback."""

from __future__ import annotations

import socket

import pytest

from handlers.engines import Engines
from handlers.errors import EngineUnreachable


def test_an_ssh_host_with_nothing_listening_cannot_be_reached() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engines = Engines({"far": f"ssh://deploy@127.0.0.1:{port}"}, timeout=3)
    with pytest.raises(EngineUnreachable):
        engines.client("far")
