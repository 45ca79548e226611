"""Help pages like lists, and Previous/Next replace the message they are on (issue 12,
item 6): no attached file that never comes, one message on the user's screen."""

from __future__ import annotations

from bot.parser import usage_of
from tests.fake_response_urls import Shown
from tests.scenario.support import Scenario
from tests.unit.slack_checks import check_message


def _code(shown: Shown) -> str:
    """The lines inside the message's code blocks."""
    texts = [b["text"]["text"] for b in shown.blocks if b.get("type") == "section"]
    return "\n".join(t[3:-3].replace("\u200b", "") for t in texts if t.startswith("```"))


def test_help_is_paged_not_attached(bot: Scenario) -> None:
    sent = bot.command("help")
    assert sent.status == 200 and sent.shown is not None
    page = sent.shown
    check_message(page.text, page.blocks)
    assert "attached" not in page.words() and "page 1 of " in page.words()
    assert [e["action_id"] for e in page.actions()] == ["dockhand.page:next"]
    pages = int(page.words().split("page 1 of ", 1)[1].split('"')[0])
    assert pages > 1

    for n in range(2, pages + 1):
        assert bot.click(page, "dockhand.page:next") == 200
        bot.settle()
        # The same message now shows the next page: replaced through the click's
        # response_url, never a new message.
        assert bot.seen() == [page] and f"page {n} of {pages}" in page.words()
        check_message(page.text, page.blocks)
    assert "help COMMAND" in page.words()  # the footer, on the last page

    # Previous, back to page 1, replaces it too.
    for n in range(pages - 1, 0, -1):
        assert bot.click(page, "dockhand.page:prev") == 200
        bot.settle()
        assert bot.seen() == [page] and f"page {n} of {pages}" in page.words()
    assert not bot.uploads() and not bot.posted()


def test_help_for_a_verb_pages_through_all_of_its_usage(bot: Scenario) -> None:
    sent = bot.command("help run")
    assert sent.shown is not None
    page = sent.shown
    shown = [_code(page)]
    while any(e["action_id"] == "dockhand.page:next" for e in page.actions()):
        bot.click(page, "dockhand.page:next")
        bot.settle()
        check_message(page.text, page.blocks)
        shown.append(_code(page))
    assert len(shown) > 2 and bot.seen() == [page]
    # Every line of the usage, in order, on exactly one page.
    assert "\n".join(shown).replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&"
    ) == usage_of("run").rstrip("\n")
