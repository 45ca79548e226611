"""Every result type, through every renderer that puts it in front of Slack, fits: results
generated from their models' own fields (hostile text, names of any length, thousands of
rows, huge outputs) are rendered as the requester's reply, the channel's shared copy, the
reply with its Share button, and each page of a paged one; every message must pass
slack_sdk's models, Slack's limits (bot/slack_limits.py) and the no-live-markup check. The
hand-written cases of tests/unit/test_slack_limits.py stay; this covers what they do not
name (images, version, info, formatted, stats, pull, push, tag, prune, search, health...).
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import handlers.results as results
from bot import messages
from bot.progress import progress_text
from bot.render import apology_reply, reply_for
from bot.reply import Origin
from bot.sharing import channel_copy, split_share, with_button
from config.policy import Requester
from handlers.commands import ListContainers
from handlers.health import HealthPass
from handlers.progress import ProgressReport
from tests.unit.slack_checks import check_message, check_reply

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
ALPHABET = st.sampled_from([*"ab<>&`*_~|!@#:/. -\n\tZ9", "é", "🟢", "\u200b", "漢"])
SHORT = st.text(alphabet=ALPHABET, max_size=60)
# A cell or a name: up to 400 characters (names of any length as docker allows them).
CELL = st.one_of(SHORT, st.text(alphabet=ALPHABET, min_size=100, max_size=400))
# A field on its own may also be huge: a line repeated (a log, an output), cheap to make.
TEXT = st.one_of(
    CELL, st.builds(lambda line, n: (line + "\n") * n, SHORT, st.integers(500, 20_000))
)
# Facts that are Dockhand's own vocabulary, not engine text: drawn from what exists.
VOCABULARY: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("Finding", "kind"): st.sampled_from(
        [
            "restart-loop",
            "oom",
            "exhausted",
            "exit",
            "unhealthy",
            "recovered",
            "protected",
            "escalated",
        ]
    ),
    ("BatchResult", "verb"): st.sampled_from(
        ["container:rm", "container:stop", "container:start", "container:restart", "image:rm"]
    ),
    ("ContainerRun", "verb"): st.sampled_from(["container:run", "container:create"]),
    ("PruneResult", "kind"): st.sampled_from(["containers", "images", "networks", "volumes"]),
    # Engine timestamps: the epoch to 2100 (datetime has no year 10000 to show).
    ("ContainerSummary", "created"): st.integers(0, 4_102_444_800),
    ("ImageSummary", "created"): st.integers(0, 4_102_444_800),
    ("ContainerSummary", "state"): st.sampled_from(
        ["running", "exited", "created", "paused", "restarting", "dead", "removing", "??"]
    ),
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | SHORT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(SHORT, inner, max_size=5),
    max_leaves=30,
)


def _many(item: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A few items, or thousands (one item repeated: rows of a big engine)."""
    return st.one_of(
        st.lists(item, max_size=6),
        st.builds(lambda x, n: [x] * n, item, st.integers(100, 3000)),
    )


@st.composite
def _table(draw: st.DrawFn) -> results.Table:
    """A grid as handlers make one: every row as wide as the header."""
    width = draw(st.integers(1, 12))
    row = st.lists(CELL, min_size=width, max_size=width)
    return results.Table(columns=draw(row), rows=draw(_many(row)))


def strategy(
    annotation: Any, owner: str = "", name: str = "", *, many: bool = False
) -> st.SearchStrategy[Any]:
    """Values of `annotation`; `many`: one of thousands (a row), so not itself huge."""
    if annotation is results.Table:
        return _table()
    if (owner, name) in VOCABULARY:
        return VOCABULARY[(owner, name)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy(a, owner, name, many=many) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        # Thousands of rows, each with a few ports or mounts: a row's own lists stay short
        # (3,000 rows of 3,000 ports each is no engine, and no test could wait for it).
        item = strategy(args[0], many=True)
        return st.lists(item, max_size=6) if many else _many(item)
    if origin is tuple:
        return st.tuples(*(strategy(a, many=True) for a in args))
    if origin is dict:
        value = JSON if args[1] is Any else strategy(args[1], many=True)
        return st.dictionaries(SHORT, value, max_size=5)
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return CELL if many else TEXT
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-1, 2**53)
    if annotation is float:
        return st.floats(0, 1e7, allow_nan=False)
    if annotation is Any:
        return JSON
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return model(annotation, many=many)
    raise AssertionError(f"no strategy for {annotation!r} ({owner}.{name})")


def model(cls: type[BaseModel], *, many: bool = False) -> st.SearchStrategy[Any]:
    """Instances of a pydantic model from its fields: required ones always, the others
    sometimes (their defaults otherwise)."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in cls.model_fields.items():
        drawn = strategy(field.annotation, cls.__name__, name, many=many)
        (required if field.is_required() else optional)[name] = drawn
    return st.fixed_dictionaries(required, optional=optional).map(cls.model_validate)


RESULTS = [
    c
    for c in vars(results).values()
    if inspect.isclass(c) and issubclass(c, results.Result) and c is not results.Result
] + [HealthPass]
EVERY_RESULT = st.one_of(*(model(c) for c in RESULTS))
SHARER = Requester(user="U1", channel="C1")


# Thousands of rows make examples whose repr Hypothesis warns about; the size is the point.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@FAST
@given(
    result=EVERY_RESULT,
    page=st.integers(-1, 200),
    typed=st.text(alphabet=ALPHABET, max_size=300),
    host=st.sampled_from(["local", "h" * 140]),
    ephemeral=st.booleans(),
)
def test_every_result_fits_every_way_it_is_shown(
    result: results.Result, page: int, typed: str, host: str, ephemeral: bool
) -> None:
    reply = reply_for(
        result, ephemeral=ephemeral, context="local · 0.1 s", origin=Origin(typed, host, page)
    )
    check_reply(reply)
    # With the Share button a private answer carries (it is left out if it would not fit).
    check_message(reply.chat_text, with_button(reply, "x" * 16))
    # The channel's copy when the requester shares it.
    copy = channel_copy(reply, ListContainers(host=host), SHARER)
    if copy is not None:
        check_message(copy.chat_text, copy.blocks, own=("<@U1>",))
        assert not [b for b in copy.blocks if b.get("type") == "actions"]
    # Every page of a paged answer (tables, long help), as Previous/Next show them.
    for other in {0, reply.pages - 1, reply.pages // 2} - {reply.page}:
        check_reply(reply_for(result, ephemeral=True, origin=Origin(typed, host, other)))


@FAST
@given(typed=st.text(max_size=4000), reference=st.text(alphabet=ALPHABET, max_size=100))
def test_receipts_and_apologies_fit(typed: str, reference: str) -> None:
    check_message(messages.received(typed), [])
    check_reply(apology_reply(reference))


@pytest.mark.parametrize(
    ("typed", "left", "share"),
    [
        ("--share logs web", "logs web", True),
        ("-H prod --share logs web", "-H prod logs web", True),
        ("--host=prod --share ps -a", "--host=prod ps -a", True),
        ("logs web --share", "logs web", True),
        ("\u2014share ps", "ps", True),  # a chat client's em dash, as for any flag
        ("logs --tail 5 web", "logs --tail 5 web", False),
        # The container's own words: a last --share after run/create/exec is theirs.
        ("run busybox echo --share", "run busybox echo --share", False),
        ("container run busybox echo --share", "container run busybox echo --share", False),
        # Between a verb's words it is docker's to refuse (unknown flag), not taken.
        ("logs --share web", "logs --share web", False),
    ],
)
def test_share_flag_is_taken_out_only_where_it_is_dockhands(
    typed: str, left: str, share: bool
) -> None:
    assert split_share(typed) == (left, share)


@FAST
@given(
    action=TEXT,
    message=TEXT,
    current=st.integers(0, 2**40),
    total=st.integers(0, 2**40),
    layers=st.integers(0, 500),
)
def test_every_progress_line_fits(
    action: str, message: str, current: int, total: int, layers: int
) -> None:
    report = ProgressReport(
        action=action,
        current=current,
        total=total,
        layers_done=min(layers, current % 501),
        layers=layers,
        message=message,
    )
    check_message(progress_text(report), [])
