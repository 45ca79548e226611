import pytest

from bot.text import normalize, split_words
from handlers.errors import UsageError


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("ps —all", ["ps", "--all"]),
        ("ps –all", ["ps", "--all"]),
        ("run -e “A=b c” busybox", ["run", "-e", "A=b c", "busybox"]),
        ("run -e ‘A=b c’ busybox", ["run", "-e", "A=b c", "busybox"]),
        ("images <http://nginx.com|nginx.com>", ["images", "nginx.com"]),
        ("images <http://nginx.com>", ["images", "http://nginx.com"]),
        ("ps --filter label=a&amp;b", ["ps", "--filter", "label=a&b"]),
        ("ps --filter name=&lt;x&gt;", ["ps", "--filter", "name=<x>"]),
        ("schedule --channel <#C123|ops>", ["schedule", "--channel", "#C123"]),
        ("ps\u00a0-a", ["ps", "-a"]),
    ],
)
def test_chat_typography_is_undone(typed: str, words: list[str]) -> None:
    assert split_words(typed) == words


def test_unbalanced_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no closing quotation"):
        split_words('ps --filter "name=web')


def test_plain_text_is_left_alone() -> None:
    assert normalize("  image ls -a  ") == "image ls -a"
