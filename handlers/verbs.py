"""Each verb's facts, read from the command model that serves it (the class attributes on
handlers/commands.py's Command): whether it protects its target, starts containers, changes
state, runs long, and its past tense. Tables elsewhere (bot/protection.py, results' summaries,
the start check of container_action) ask here by verb, so each fact is declared once, on its
model."""

from __future__ import annotations

import importlib
import typing
from collections.abc import Mapping
from functools import cache

from handlers.commands import Command

#: the modules that hold command models; a new one is named here (the verb-coverage test,
#: tests/unit/test_every_verb_is_wired.py, finds a spec whose model is in none of them)
MODEL_MODULES = ("handlers.commands", "handlers.service_commands", "handlers.hosts")


def verbs_of(model: type[Command]) -> tuple[str, ...]:
    """The verbs a model serves: the values its `verb` field's Literal allows."""
    field = model.model_fields.get("verb")
    if field is None:
        return ()
    return tuple(str(v) for v in typing.get_args(field.annotation))


@cache
def models_by_verb() -> Mapping[str, type[Command]]:
    """Every verb and the one model that serves it."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    found: dict[str, type[Command]] = {}
    pending: list[type[Command]] = [Command]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        for verb in verbs_of(model):
            other = found.setdefault(verb, model)
            if other is not model:
                raise TypeError(f"{verb} is served by {other.__name__} and {model.__name__}")
    return found


def model_of(verb: str) -> type[Command] | None:
    return models_by_verb().get(verb)


def _holds(fact: bool | frozenset[str], verb: str) -> bool:
    return verb in fact if isinstance(fact, frozenset) else fact


def protects_target(verb: str) -> bool:
    model = model_of(verb)
    return model is not None and _holds(model.protects_target, verb)


def starts_containers(verb: str) -> bool:
    model = model_of(verb)
    return model is not None and _holds(model.starts_containers, verb)


def past_tense(verb: str) -> str:
    """What the verb did ("stopped"); the verb's own last word when its model says nothing."""
    model = model_of(verb)
    word = model.past_tense if model is not None else ""
    if isinstance(word, Mapping):
        word = word.get(verb, "")
    return word or verb.split(":")[-1]


def protected_verbs() -> frozenset[str]:
    return frozenset(verb for verb in models_by_verb() if protects_target(verb))
