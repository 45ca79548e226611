"""Engine text never becomes live mrkdwn, and any result fits Slack's limits (issue 12,
items 1 and 2), through the app as Slack drives it."""

from __future__ import annotations

from tests.rig import TEST_IMAGE, Engine
from tests.scenario.support import Scenario
from tests.unit.slack_checks import check_message

HOSTILE = "<!channel> <https://evil.example|docs.docker.com> <@U0BOSS> a&b ``` done"


def test_container_output_and_names_stay_text(docker_bot: Scenario, clean_engine: Engine) -> None:
    clean_engine.cli("run", "--name", "loud", TEST_IMAGE, "echo", HOSTILE)
    for typed in ("logs loud", "ps -a", "inspect loud"):
        sent = docker_bot.command(typed)
        docker_bot.settle()
        *_, reply = docker_bot.seen(sent.key)
        assert reply.origin == sent.key, (typed, reply.words()[:300])
        check_message(reply.text, reply.blocks)  # models, limits, no live markup
    logs = docker_bot.seen(next(iter([sent.key])))[-1]
    assert "&lt;!channel&gt;" in logs.words()
    # The receipts echo what was typed, escaped as well.
    for ack in (s for s in docker_bot.seen() if s.origin.startswith("ack:")):
        check_message(ack.text, ack.blocks)


def test_a_name_over_134_characters_keeps_ps_and_its_menus(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    long_name = "n" * 200
    clean_engine.cli("create", "--name", long_name, TEST_IMAGE, "true")
    clean_engine.cli("create", "--name", "short", TEST_IMAGE, "true")
    sent = docker_bot.command("ps -a")
    docker_bot.settle()
    *_, reply = docker_bot.seen(sent.key)
    check_message(reply.text, reply.blocks)
    values = [o["value"] for e in reply.actions() for o in e.get("options", [])]
    assert "stop short" in values
    full_id = clean_engine.cli("inspect", "-f", "{{.Id}}", long_name).stdout.strip()
    assert f"stop {full_id[:12]}" in values  # the long one by its short ID
    # Its Stop option works: it runs for the clicker (a viewer may not stop: told so).
    docker_bot.click(reply, "dockhand.run:stop", choose=f"stop {full_id[:12]}")
    docker_bot.settle()
    assert any("may not run `container:stop`" in s.words() for s in docker_bot.seen())
    docker_bot.click(reply, "dockhand.run:stop", choose=f"stop {full_id[:12]}", user="UADMIN")
    docker_bot.settle()
    assert any(f"stopped: {full_id[:12]}" in str(c.body) for c in docker_bot.posted("C1")), [
        str(c.body)[:300] for c in docker_bot.posted("C1")
    ]
