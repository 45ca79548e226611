"""The /docker command language: words in, a validated command model out.

The commands themselves are in `bot/specs.py`; help and did-you-mean come from the
same specs, so they never drift from what the parser accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from bot.argparsing import PROG, DockerArgumentParser, Spec
from bot.not_in_chat import refuse_not_in_chat, suggest
from bot.specs import SPECS
from bot.text import split_words
from config.settings import LOCAL
from handlers.commands import Command, Help
from handlers.errors import UnknownCommand, UsageError

_BY_PATH: dict[str, Spec] = {name: spec for spec in SPECS for name in (spec.path, *spec.aliases)}
GROUPS = sorted({spec.path.split()[0] for spec in SPECS if " " in spec.path})
GLOBAL_USAGE = f"{PROG} [-H HOST] COMMAND [OPTIONS]   ({PROG} help lists the commands)"


def find_spec(words: Sequence[str]) -> tuple[Spec, int]:
    """The spec named by the first one or two words, and how many words named it."""
    if len(words) >= 2 and f"{words[0]} {words[1]}".lower() in _BY_PATH:
        return _BY_PATH[f"{words[0]} {words[1]}".lower()], 2
    if words and words[0].lower() in _BY_PATH:
        return _BY_PATH[words[0].lower()], 1
    refuse_not_in_chat(words, usage=GLOBAL_USAGE)
    typed, suggestions = suggest(words, _BY_PATH, GROUPS)
    raise UnknownCommand(typed, suggestions, usage=GLOBAL_USAGE)


def parse(text: str, *, slack: bool = True) -> Command:
    """Turn what the user typed after /docker into a command model, or raise UsageError."""
    words = split_words(text, slack=slack)
    host, words = _global_options(words)
    if not words:
        return Help(host=host)
    if words[0].lower() in GROUPS and (len(words) == 1 or words[1] in ("--help", "-h")):
        return Help(host=host, topic=words[0].lower())
    spec, used = find_spec(words)
    parser = spec.parser()
    if asks_for_help(parser, words[used:], intermixed=spec.intermixed):
        # Before the parse: cobra prints the help of `run --help` although IMAGE is missing.
        return Help(host=host, topic=spec.path)
    ns = parser.parse_words(words[used:], intermixed=spec.intermixed)
    if ns.help:
        return Help(host=host, topic=spec.path)
    try:
        return spec.model(host=host, **spec.make(ns))
    except UsageError as exc:
        exc.usage = exc.usage or parser.format_usage().strip()
        raise
    except ValidationError as exc:
        raise _usage_error(exc, spec, parser) from None


def asks_for_help(parser: DockerArgumentParser, words: Sequence[str], *, intermixed: bool) -> bool:
    """Whether the words ask for this command's help as cobra reads them: `--help` (or `-h`
    where the command has no `-h` of its own, as `run -h` is the hostname) among the flags,
    before `--`; for a command that stops reading flags at its first positional (`run IMAGE
    CMD --help` is CMD's), only before that positional."""
    options = parser._option_string_actions  # argparse's table of flag -> action
    takes_value = {name for name, action in options.items() if action.nargs != 0}
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--":
            return False
        if word == "--help" or (word == "-h" and "-h" not in options):
            return True
        if word.startswith("-") and len(word) > 1:
            # `--name web`: the next word is the flag's value, not a positional.
            skip = "=" not in word and word in takes_value
            # `-dit` style bundles whose last letter takes a value (`-itp 80`).
            if not word.startswith("--") and len(word) > 2 and "=" not in word:
                skip = f"-{word[-1]}" in takes_value and all(f"-{c}" in options for c in word[1:-1])
            continue
        if not intermixed:
            return False
    return False


def _usage_error(exc: ValidationError, spec: Spec, parser: DockerArgumentParser) -> UsageError:
    """A model's complaint as the CLI words it: the flag, the value, the reason."""
    first = exc.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    usage = parser.format_usage().strip()
    if not first["loc"]:
        return UsageError(reason, usage=usage)
    field = spec.model.model_fields.get(str(first["loc"][0]))
    flag = field.title if field and field.title else str(first["loc"][0]).replace("_", "-")
    value = first.get("input")
    if isinstance(value, list):
        # The value the reason names, whole (`invalid label '=b'`) or in part (`invalid IP
        # address: 1.2.3` for `-p 1.2.3:80:80`).
        part = reason.rsplit(": ", 1)[-1]
        named = (v for v in value if str(v) in reason or part in str(v))
        value = next(named, value[0] if value else "")
    if isinstance(value, str | int | float):
        return UsageError(
            f'invalid argument "{value}" for "{flag}" flag: {reason}', usage=usage, token=str(value)
        )
    return UsageError(f"{flag}: {reason}", usage=usage)


def _global_options(words: list[str]) -> tuple[str, list[str]]:
    host = LOCAL
    while words and words[0].startswith("-"):
        word = words[0]
        if word in ("-H", "--host"):
            if len(words) < 2:
                raise UsageError(f"flag needs an argument: {word}", usage=GLOBAL_USAGE, token=word)
            host, words = words[1], words[2:]
        elif word.startswith("--host="):
            host, words = word.partition("=")[2], words[1:]
        elif word in ("--help", "-h"):
            return host, ["help", *words[1:]]
        else:
            raise UsageError(f"unknown flag: {word}", usage=GLOBAL_USAGE, token=word)
    return host, words


def usage_of(path: str) -> str:
    """The full help of one command (or a group's list), generated by its parser."""
    path = path.lower()
    spec = _BY_PATH.get(path)
    if spec is None and path in GROUPS:
        members = [s for s in SPECS if s.path.startswith(f"{path} ")]
        lines = [f"  {s.path.partition(' ')[2]:<12} {s.summary}" for s in members]
        return f"usage: {PROG} {path} COMMAND\n\nCommands:\n" + "\n".join(lines) + "\n"
    if spec is None:
        find_spec(path.split())  # raises UnknownCommand with suggestions
        raise AssertionError("unreachable")
    text = spec.parser().format_help()
    aliases = f"\nAliases:\n  {', '.join(f'{PROG} {a}' for a in (spec.path, *spec.aliases))}\n"
    return f"{spec.summary}\n\n{text}{aliases if spec.aliases else ''}"


def overview() -> list[tuple[str, str]]:
    """(command, summary) for every command, in the order help lists them, short aliases shown."""
    lines = []
    for spec in SPECS:
        short = [a for a in spec.aliases if " " not in a]
        lines.append((spec.path + (f" ({', '.join(short)})" if short else ""), spec.summary))
    return lines
