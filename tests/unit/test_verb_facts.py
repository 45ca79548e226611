"""Verb facts live on the command models (handlers/commands.py's class attributes); the tables
that used to list verbs by hand (bot/protection.py, results' past tenses, container_action's
starts) read them through handlers/verbs.py."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.protection import PROTECTED_VERBS, guards_targets
from handlers import commands as c
from handlers.results import BatchResult
from handlers.verbs import models_by_verb, past_tense, starts_containers, verbs_of

#: what the protection rule covered when it was a list of its own (bot/protection.py before
#: the facts moved onto the models): the move must neither drop nor add a verb
PROTECTED_BEFORE = {
    "container:stop",
    "container:rm",
    "container:kill",
    "container:restart",
    "container:pause",
    "container:update",
    "container:rename",
    "container:exec",
    "container:update-image",
    "network:connect",
    "network:disconnect",
    "service:update",
    "service:scale",
    "service:rollback",
    "service:rm",
}


def test_the_protection_rule_covers_the_same_verbs() -> None:
    assert set(PROTECTED_VERBS) == PROTECTED_BEFORE
    assert guards_targets("container:stop") and not guards_targets("container:start")
    assert not guards_targets("container:ls") and not guards_targets("no:such")


@pytest.mark.parametrize("model", sorted(set(models_by_verb().values()), key=lambda m: m.__name__))
def test_a_fact_by_verb_names_only_the_models_own_verbs(model: type[c.Command]) -> None:
    """A set or mapping on a shared model may name only verbs that model serves: a typo
    (`container:stpo`) would silently leave a verb unprotected."""
    own = set(verbs_of(model))
    for name in ("protects_target", "starts_containers", "past_tense"):
        fact = getattr(model, name)
        if isinstance(fact, frozenset | Mapping):
            assert set(fact) <= own, (model.__name__, name, set(fact) - own)


def test_protecting_or_starting_is_a_change_or_exec() -> None:
    """Reads never protect or start anything; exec is the one read the rule guards."""
    for verb, model in models_by_verb().items():
        if guards_targets(verb) or starts_containers(verb):
            assert model.changes_state or verb == "container:exec", verb
        if model.long_running:
            assert model.changes_state, verb


def test_starts() -> None:
    starting = {v for v in models_by_verb() if starts_containers(v)}
    assert {"container:start", "container:restart", "container:unpause"} <= starting
    assert {"container:stop", "container:create", "container:ls"}.isdisjoint(starting)


@pytest.mark.parametrize(
    ("verb", "said"),
    [
        ("container:stop", "stopped: web"),
        ("container:unpause", "unpaused: web"),
        ("network:rm", "removed: web"),
        ("network:disconnect", "disconnected: web"),
        ("service:scale", "scaled: web"),
        ("volume:create", "created: web"),
        ("no:such", "such: web"),  # a verb no model serves keeps its own word
    ],
)
def test_results_say_the_models_past_tense(verb: str, said: str) -> None:
    assert BatchResult(verb=verb, done=["web"]).summary() == said
    assert past_tense(verb) == said.split(":")[0]
