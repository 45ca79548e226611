"""A result the channel will not take still reaches its requester, once (issue 12, item 3),
and a role from a user group holds when the requester confirms (item 6)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.rig import TEST_IMAGE, Engine
from tests.scenario.support import Scenario, scenario


def test_not_in_channel_gives_the_result_to_the_requester_once(
    docker_bot: Scenario, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    fake_slack.not_in.add("C9")
    sent = docker_bot.command(
        f"run -d --name lonely {TEST_IMAGE} sleep 300", user="UADMIN", channel="C9"
    )
    docker_bot.settle()
    _receipt, *answers = docker_bot.seen(sent.key)
    assert len(answers) == 1, [a.words()[:200] for a in answers]
    assert "started lonely" in answers[0].words() and "/invite @dockhand" in answers[0].words()
    assert clean_engine.cli("ps", "--format", "{{.Names}}").stdout.strip() == "lonely"


@pytest.fixture
def grouped_bot(fake_slack: FakeSlack, clean_engine: Engine, tmp_path: Path) -> Iterator[Scenario]:
    fake_slack.usergroups = [{"id": "S_OPS", "users": ["U_G"]}]
    yield from scenario(
        fake_slack,
        tmp_path,
        docker_host=clean_engine.url,
        policy="bindings:\n  - {role: operator, groups: [S_OPS]}\n",
    )


def test_a_group_role_holds_at_confirmation(grouped_bot: Scenario, clean_engine: Engine) -> None:
    clean_engine.cli("run", "-d", "--name", "victim", TEST_IMAGE, "sleep", "300")
    sent = grouped_bot.command("rm -f victim", user="U_G")
    grouped_bot.settle()
    *_, preview = grouped_bot.seen(sent.key)
    assert "would remove 1 container" in preview.words()
    assert grouped_bot.click(preview, "dockhand.confirm", user="U_G") == 200
    grouped_bot.settle()
    deadline = time.monotonic() + 10
    while "victim" in clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout:
        assert time.monotonic() < deadline, [s.words()[:200] for s in grouped_bot.seen()]
        time.sleep(0.1)
