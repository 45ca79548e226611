"""Fixtures of the scenario layer: Dockhand in process (tests/scenario/support.py), with or
without the rig's engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.rig import Engine
from tests.scenario.support import Scenario, scenario


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Scenario]:
    """Dockhand without an engine: help, pages, whatever needs no Docker."""
    yield from scenario(fake_slack, tmp_path)


@pytest.fixture
def docker_bot(fake_slack: FakeSlack, clean_engine: Engine, tmp_path: Path) -> Iterator[Scenario]:
    """Dockhand on the rig's engine; UADMIN is admin, everyone else a viewer."""
    yield from scenario(fake_slack, tmp_path, docker_host=clean_engine.url)
