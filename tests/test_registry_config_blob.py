"""The new image's age and defaults come from its config blob, read from the registry directly.
Docker Hub and most registries hand out bearer tokens (the rig's registry asks for basic auth):
a registry on loopback that answers as they do, a multi-platform index included."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from pydantic import SecretStr

from handlers.context import Context, RegistryAuth
from handlers.updates import image_created, remote_image

INDEX = "sha256:" + "1" * 64
ARM = "sha256:" + "2" * 64
AMD = "sha256:" + "3" * 64
CONFIG = "sha256:" + "4" * 64
BLOB = {"created": "2026-11-28T06:00:00.5Z", "config": {"Cmd": ["serve"]}}


class TokenRegistry(BaseHTTPRequestHandler):
    """Bearer-token auth as distribution's token spec has it; records what it was asked."""

    asked: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self.asked.append(self.path)
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            expected = base64.b64encode(b"ops:secret").decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._send(401, {})
                return
            assert "scope=repository%3Ateam%2Fapp%3Apull" in self.path
            self._send(200, {"token": "T0KEN"})
            return
        if self.headers.get("Authorization") != "Bearer T0KEN":
            challenge = (
                f'Bearer realm="http://127.0.0.1:{port}/token",service="registry",'
                'scope="repository:team/app:pull"'
            )
            self._send(401, {}, {"WWW-Authenticate": challenge})
            return
        manifests = {
            f"/v2/team/app/manifests/{INDEX}": {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {"digest": ARM, "platform": {"os": "linux", "architecture": "arm64"}},
                    {"digest": AMD, "platform": {"os": "linux", "architecture": "amd64"}},
                ],
            },
            f"/v2/team/app/manifests/{AMD}": {"config": {"digest": CONFIG}},
            f"/v2/team/app/blobs/{CONFIG}": BLOB,
        }
        if self.path in manifests:
            self._send(200, manifests[self.path])
        else:
            self._send(404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})


@pytest.fixture
def registry() -> Iterator[str]:
    TokenRegistry.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _context(password: str) -> Context:
    return Context(
        credentials=lambda server: RegistryAuth(
            server=server, username="ops", password=SecretStr(password)
        ),
        host_credentials=False,
    )


def test_a_bearer_token_registry_and_a_multi_platform_index(registry: str) -> None:
    blob = remote_image(f"{registry}/team/app:1", INDEX, _context("secret"), timeout=5)
    assert blob == BLOB
    assert image_created(blob) is not None
    assert f"/v2/team/app/manifests/{ARM}" not in TokenRegistry.asked  # only this platform's


def test_a_registry_that_says_no_leaves_the_age_unknown(registry: str) -> None:
    assert remote_image(f"{registry}/team/app:1", INDEX, _context("wrong"), timeout=5) is None
    assert remote_image(f"{registry}/team/app:1", ARM, _context("secret"), timeout=5) is None
