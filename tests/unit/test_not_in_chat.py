"""Verbs chat cannot run say why and what to do instead; did-you-mean reads whole paths."""

from __future__ import annotations

import pytest

from bot.not_in_chat import NOT_IN_CHAT, NotInChat
from bot.parser import parse
from handlers.errors import UnknownCommand


@pytest.mark.parametrize(
    "text",
    [
        "attach web",
        "container attach web",
        "build .",
        "image build -t x .",
        "cp web:/etc/hosts .",
        "container cp web:/a b",
        "save -o x.tar busybox",
        "image save busybox",
        "load -i x.tar",
        "image load",
        "export web",
        "container export web",
        "import x.tar",
        "image import x.tar",
        "commit web img",
        "container commit web img",
        "compose up -d",
    ],
)
def test_verbs_that_cannot_work_in_chat_say_why_and_what_instead(text: str) -> None:
    with pytest.raises(NotInChat) as caught:
        parse(text)
    message = caught.value.message
    path = (
        " ".join(text.split()[:2]) if text.split()[0] in {"container", "image"} else text.split()[0]
    )
    assert message.startswith(f"`{path}` is not available in chat: ")
    assert NOT_IN_CHAT[path] in message and message.count(";") >= 1  # why; instead
    assert isinstance(caught.value, UnknownCommand)  # the terminal exits 1, as for docker's


@pytest.mark.parametrize(
    ("text", "typed", "meant"),
    [
        ("contaner ls", "contaner ls", "container ls"),
        ("container lss -a", "container lss", "container ls"),
        ("netwrk ls", "netwrk ls", "network ls"),
        ("wiat web", "wiat", "wait"),
        ("stpo web", "stpo", "stop"),
        ("imgaes", "imgaes", "images"),
        ("contaner", "contaner", "container"),
        ("exce web ls", "exce", "exec"),
    ],
)
def test_did_you_mean_reads_the_whole_command_path(text: str, typed: str, meant: str) -> None:
    with pytest.raises(UnknownCommand) as caught:
        parse(text)
    assert caught.value.token == typed
    assert caught.value.suggestions[0] == meant
    assert f"Did you mean `{meant}`?" in caught.value.message
