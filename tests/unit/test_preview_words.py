"""A preview says what the command would do to what it lists, not "remove" for everything."""

from __future__ import annotations

import pytest

from handlers.preview import Preview, PreviewItem


@pytest.mark.parametrize(
    ("verb", "kind", "said"),
    [
        ("service:scale", "service", "would stop every task of 1 service"),
        ("service:rm", "service", "would remove 1 service"),
        ("container:stop", "container", "would stop 1 container"),
        ("container:kill", "container", "would kill 1 container"),
    ],
)
def test_the_preview_names_its_action(verb: str, kind: str, said: str) -> None:
    shown = Preview(verb=verb, items=[PreviewItem(kind=kind, id="0123456789ab", name="web")])
    assert shown.summary() == said
