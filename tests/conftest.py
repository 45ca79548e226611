"""Session rig: started only when a test asks for it, stopped by pid at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.rig import TEST_IMAGE, Engine, RedisServer, Registry, Rig

# Anything that falls back to the environment must not find a real engine.
os.environ["DOCKER_HOST"] = "unix:///nonexistent/dockhand-tests-use-the-rig.sock"
for name in (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "REDIS_URL",
    "DOCKHAND_POLICY",
    "DOCKHAND_HOSTS",
):
    os.environ.pop(name, None)


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.stop()


@pytest.fixture(scope="session")
def engine(rig: Rig) -> Engine:
    started = rig.engine()
    started.import_busybox(TEST_IMAGE)
    return started


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    """The rig's engine, emptied of containers after the test (it is ours to empty)."""
    engine.guard()
    yield engine
    engine.remove_all_containers()


@pytest.fixture(scope="session")
def registry(rig: Rig) -> Registry:
    return rig.registry()


@pytest.fixture(scope="session")
def redis_server(rig: Rig) -> RedisServer:
    return rig.redis()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def log_dir(rig: Rig) -> Path:
    path = rig.root / "logs"
    path.mkdir(exist_ok=True)
    return path
