"""Reads stay with the requester unless they share (issue 12, item 5): an excerpt only they
see, the whole output in their DM, and the channel only on `--share` or the Share button."""

from __future__ import annotations

from tests.fake_slack import FakeSlack
from tests.rig import TEST_IMAGE, Engine
from tests.scenario.support import Scenario
from tests.unit.slack_checks import check_message


def _chatty(engine: Engine, name: str = "chatty", lines: int = 3000) -> None:
    engine.cli("run", "--name", name, TEST_IMAGE, "seq", "1", str(lines))


def test_a_long_read_stays_private_whole_in_the_dm(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    _chatty(clean_engine)
    sent = docker_bot.command("logs chatty")
    docker_bot.settle()
    *_, reply = docker_bot.seen(sent.key)
    assert "3000" in reply.words() and "your DM" in reply.words()
    check_message(reply.text, reply.blocks)
    [upload] = docker_bot.uploads()
    assert upload.body["channel_id"] == "DU1"  # the requester's DM with Dockhand
    assert docker_bot.posted("C1") == []  # nothing in the channel
    assert "Share to channel" in reply.words()


def test_share_flag_posts_in_the_channel_attributed(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    _chatty(clean_engine, lines=5)
    for n, typed in enumerate(("--share logs chatty", "logs chatty --share", "—share logs chatty")):
        sent = docker_bot.command(typed)
        docker_bot.settle()
        posted = docker_bot.posted("C1")
        assert len(posted) == n + 1, typed
        words = str(posted[-1].body)
        assert "shared by <@U1>" in words and "5" in words, words[:400]
        check_message(posted[-1].body["text"], posted[-1].body["blocks"], own=("<@U1>",))
        # Only the receipt on the requester's screen: the answer went to the channel.
        assert [s.origin for s in docker_bot.seen(sent.key)] == [f"ack:{sent.key}"]


def test_share_button_posts_what_was_seen_then_marks_it(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    _chatty(clean_engine)
    sent = docker_bot.command("logs chatty")
    docker_bot.settle()
    *_, reply = docker_bot.seen(sent.key)
    assert docker_bot.posted("C1") == [] and len(docker_bot.uploads()) == 1
    assert docker_bot.click(reply, "dockhand.share") == 200
    docker_bot.settle()
    [posted] = docker_bot.posted("C1")
    assert "shared by <@U1>" in str(posted.body) and "3000" in str(posted.body)
    # The whole output goes with it, in the channel this time.
    assert [u.body["channel_id"] for u in docker_bot.uploads()] == ["DU1", "C1"]
    # The private reply is replaced in place: same content, no button, where it went.
    assert "you shared this in <#C1>" in reply.words()
    assert "Share to channel" not in reply.words()
    check_message(reply.text, reply.blocks, own=("<#C1>",))


def test_a_shared_inspect_masks_env_values_an_admin_sees(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    clean_engine.cli("create", "--name", "vault", "-e", "DB_PASSWORD=hunter2", TEST_IMAGE, "true")
    sent = docker_bot.command("inspect --format '{{json .Config.Env}}' vault", user="UADMIN")
    docker_bot.settle()
    *_, reply = docker_bot.seen(sent.key)
    assert "hunter2" in reply.words()  # an admin sees the value, privately
    docker_bot.click(reply, "dockhand.share", user="UADMIN")
    docker_bot.settle()
    [posted] = docker_bot.posted("C1")
    assert "DB_PASSWORD" in str(posted.body) and "hunter2" not in str(posted.body)


def test_sharing_where_dockhand_is_not_invited_keeps_it_private(
    docker_bot: Scenario, clean_engine: Engine, fake_slack: FakeSlack
) -> None:
    _chatty(clean_engine, lines=5)
    fake_slack.not_in.add("C9")
    sent = docker_bot.command("--share logs chatty", channel="C9")
    docker_bot.settle()
    *_, reply = docker_bot.seen(sent.key)
    assert "/invite @dockhand" in reply.words() and "5" in reply.words()
