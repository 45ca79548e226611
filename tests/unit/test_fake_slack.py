"""The fake Slack must refuse what Slack refuses, or tests would pass on messages Slack drops."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fake_slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_limits_are_enforced(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-x", base_url=slack.api_url)
    assert client.chat_postMessage(channel="C1", text="ok", blocks=[section("a")])["ok"]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=[section("a")] * 51)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=[section("a" * 3001)])
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_postMessage(channel="C1", text="x" * 40001)
    assert [c.method for c in slack.calls] == ["chat.postMessage"] * 4


def test_file_upload_v2_is_recorded(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-x", base_url=slack.api_url)
    client.files_upload_v2(channel="C1", content="line\n" * 10, filename="logs.txt")
    uploads = slack.find(lambda c: c.path.startswith("/upload/"))
    assert len(uploads) == 1
    assert slack.find(lambda c: c.method == "files.completeUploadExternal")
