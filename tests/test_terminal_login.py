"""`dockhand do login --password-stdin` against the rig's registry: the password comes from
stdin as the CLI reads it, is checked by the registry, kept encrypted in Redis for the next
command, and a wrong one stores nothing."""

from __future__ import annotations

import subprocess
import sys

import redis
from cryptography.fernet import Fernet

from tests.helpers import clean_env
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, Engine, RedisServer, Registry


def dockhand(text: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "do", text],
        env=clean_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_login_from_stdin_then_pull_a_private_image(
    clean_engine: Engine, registry: Registry, redis_server: RedisServer
) -> None:
    reference = f"{registry.address}/logins/private:1"
    clean_engine.import_busybox(reference)
    clean_engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
    clean_engine.cli("push", reference)
    clean_engine.cli("logout", registry.address)
    clean_engine.cli("rmi", reference)
    store = redis.Redis.from_url(redis_server.url)
    store.flushdb()
    env = {
        "DOCKER_HOST": clean_engine.url,
        "REDIS_URL": redis_server.url,
        "DOCKHAND_SECRET_KEY": Fernet.generate_key().decode(),
        "HOME": "/nonexistent",  # no docker config of the person running the tests
    }

    wrong = dockhand(
        f"login -u {REGISTRY_USER} --password-stdin {registry.address}", "nope\n", **env
    )
    assert wrong.returncode != 0 and wrong.stderr, wrong
    assert not list(store.scan_iter("dockhand:logins:*"))  # nothing kept

    refused = dockhand(f"login -u {REGISTRY_USER} -p {REGISTRY_PASSWORD} {registry.address}", **env)
    assert refused.returncode != 0 and "--password-stdin" in refused.stderr
    assert REGISTRY_PASSWORD not in refused.stdout + refused.stderr

    anonymous = dockhand(f"pull {reference}", **env)
    assert anonymous.returncode != 0, anonymous.stdout

    done = dockhand(
        f"login -u {REGISTRY_USER} --password-stdin {registry.address}",
        f"{REGISTRY_PASSWORD}\n",
        **env,
    )
    assert done.returncode == 0, done.stderr
    kept = b"".join(v for k in store.scan_iter("dockhand:logins:*") for v in store.hvals(k))
    assert kept and REGISTRY_PASSWORD.encode() not in kept  # encrypted at rest

    pulled = dockhand(f"pull {reference}", **env)
    assert pulled.returncode == 0, pulled.stderr
    assert reference in clean_engine.cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    clean_engine.cli("rmi", reference)
