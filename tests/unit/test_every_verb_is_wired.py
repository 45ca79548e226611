"""Every command the parser knows (bot/specs.py, bot/swarm_specs.py: one SPECS) is wired all
the way: something runs its model, docs/commands.md has its entry, and the policy's built-in
roles say who may run it. A verb added in one file and forgotten in another fails here, by
name, instead of answering `KeyError` or "not allowed" in a channel."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from bot.argparsing import Spec
from bot.own_verbs import OWN_VERBS
from bot.specs import SPECS
from config.policy import ADMIN_ONLY, BUILTIN_ROLES
from handlers import HANDLERS
from handlers.commands import Command
from handlers.hosts import ListHosts, UseHost
from handlers.verbs import models_by_verb, verbs_of

ROOT = Path(__file__).resolve().parents[2]
#: `hosts` and `use` are answered by bot/fleet.py's execute, before any dispatch table
FLEET_MODELS: frozenset[type[Command]] = frozenset({ListHosts, UseHost})
IDS = [spec.path for spec in SPECS]


def _verbs(spec: Spec) -> tuple[str, ...]:
    return verbs_of(spec.model)


def _allowed(role: str, verb: str) -> bool:
    """As bot/policy.py judges a role's globs: a `!glob` denies, else any glob allows."""
    globs = BUILTIN_ROLES[role]
    if any(fnmatchcase(verb, g[1:]) for g in globs if g.startswith("!")):
        return False
    return any(fnmatchcase(verb, g) for g in globs if not g.startswith("!"))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_something_runs_it(spec: Spec) -> None:
    runners = [
        name
        for name, table in (("handlers.HANDLERS", HANDLERS), ("bot/own_verbs.OWN_VERBS", OWN_VERBS))
        if spec.model in table
    ]
    if spec.model in FLEET_MODELS:
        runners.append("bot/fleet.py")
    assert len(runners) == 1, f"{spec.path} ({spec.model.__name__}) is run by {runners or 'none'}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_its_model_declares_its_verbs(spec: Spec) -> None:
    """A verb Literal, in a module handlers/verbs.py reads facts from."""
    assert _verbs(spec), f"{spec.model.__name__} has no verb"
    for verb in _verbs(spec):
        assert models_by_verb().get(verb) is spec.model, (spec.path, verb)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_reference_has_it(spec: Spec) -> None:
    reference = (ROOT / "docs" / "commands.md").read_text()
    assert f"\n## {spec.path}\n" in reference, (
        f"docs/commands.md has no entry for {spec.path}: dockhand reference > docs/commands.md"
    )


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_policy_says_who_runs_it(spec: Spec) -> None:
    """Each verb is given to a built-in role below admin, or is admin-only on purpose; and
    what a viewer may do, an operator may too."""
    for verb in _verbs(spec):
        roles = {role for role in BUILTIN_ROLES if _allowed(role, verb)}
        assert "admin" in roles, verb
        if verb in ADMIN_ONLY:
            assert roles == {"admin"}, f"{verb} is admin-only but {roles} may run it"
        else:
            assert roles - {"admin"}, (
                f"no built-in role below admin may run {verb}: grant it in "
                "config/policy.py's BUILTIN_ROLES or list it in ADMIN_ONLY"
            )
        if "viewer" in roles:
            assert "operator" in roles, f"a viewer may run {verb}, an operator may not"


def test_every_model_verb_has_a_command() -> None:
    """The other way round: no model serves a verb that nothing parses into."""
    parsed = {verb for spec in SPECS for verb in _verbs(spec)}
    assert set(models_by_verb()) <= parsed, set(models_by_verb()) - parsed
    assert set(ADMIN_ONLY) <= parsed, set(ADMIN_ONLY) - parsed
