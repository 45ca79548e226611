"""The /docker command language: words in, a validated command model out.

Each command is a `Spec`: its docker path and aliases, a one-line summary, the
flags it takes (argparse, spelled as the docker CLI spells them) and how its
parsed flags become a command model. Help and did-you-mean come from the same
specs, so they never drift from what the parser accepts.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from pydantic import ValidationError

from bot.text import split_words
from config.settings import LOCAL
from handlers.commands import (
    Command,
    Filters,
    Help,
    ListContainers,
    ListImages,
    ShowInfo,
    ShowVersion,
)
from handlers.errors import UnknownCommand, UsageError

PROG = "/docker"


class DockerArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, and reads pflag-style booleans."""

    def __init__(self, path: str, usage: str) -> None:
        super().__init__(
            prog=f"{PROG} {path}",
            usage=f"{PROG} {path} {usage}".rstrip(),
            add_help=False,
            allow_abbrev=False,  # docker (pflag) never expands abbreviations
            exit_on_error=False,
        )
        self.bool_flags: set[str] = set()
        self.add_argument("--help", action="store_true", help="Print usage")

    def flag(self, *names: str, help: str) -> None:
        """A boolean flag that, like pflag's, also accepts --name=true|false."""
        self.bool_flags.update(n for n in names if n.startswith("--"))
        self.add_argument(*names, action="store_true", help=help)

    def parse_words(self, words: Sequence[str]) -> argparse.Namespace:
        try:
            return self.parse_intermixed_args(list(self._explicit_bools(words)))
        except argparse.ArgumentError as exc:
            self.error(str(exc))

    def _explicit_bools(self, words: Iterable[str]) -> Iterable[str]:
        for word in words:
            name, eq, value = word.partition("=")
            if eq and name in self.bool_flags:
                choice = value.lower()
                if choice not in {"true", "false", "1", "0", "t", "f"}:
                    self.error(
                        f'invalid argument "{value}" for "{name}" flag: expected true or false'
                    )
                if choice in {"true", "1", "t"}:
                    yield name
            else:
                yield word

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, usage=self.format_usage().strip(), token=_offending(message))


def _offending(message: str) -> str | None:
    match = (
        re.search(r"unrecognized arguments: (\S+)", message)
        or re.search(r'invalid argument "([^"]+)"', message)
        or re.search(r"invalid (?:\w+ value|choice): '([^']+)'", message)
        or re.search(r"argument ([-\w/]+): expected", message)
    )
    return match.group(1) if match else None


@dataclass(frozen=True)
class Spec:
    path: str
    summary: str
    usage: str
    options: Callable[[DockerArgumentParser], None]
    make: Callable[[argparse.Namespace], dict[str, object]]
    model: type[Command]
    aliases: tuple[str, ...] = field(default=())

    def parser(self) -> DockerArgumentParser:
        parser = DockerArgumentParser(self.path, self.usage)
        self.options(parser)
        return parser


def parse_filters(values: Sequence[str] | None) -> Filters:
    filters: Filters = {}
    for value in values or []:
        key, eq, wanted = value.partition("=")
        if not eq or not key:
            raise UsageError(
                f'invalid argument "{value}" for "-f, --filter" flag: '
                "bad format of filter (expected name=value)",
                token=value,
            )
        filters.setdefault(key.strip().lower(), []).append(wanted)
    return filters


def _no_options(parser: DockerArgumentParser) -> None:
    pass


def _ps_options(parser: DockerArgumentParser) -> None:
    parser.flag("-a", "--all", help="Show all containers (default shows just running)")
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        metavar="FILTER",
        help="Filter output based on conditions provided",
    )
    parser.add_argument(
        "-n",
        "--last",
        type=int,
        default=-1,
        metavar="INT",
        help="Show n last created containers (includes all states)",
    )
    parser.flag("-l", "--latest", help="Show the latest created container (includes all states)")
    parser.flag("--no-trunc", help="Don't truncate output")
    parser.flag("-q", "--quiet", help="Only display container IDs")


def _ps_make(ns: argparse.Namespace) -> dict[str, object]:
    return {
        "all": ns.all,
        "quiet": ns.quiet,
        "no_trunc": ns.no_trunc,
        "latest": ns.latest,
        "last": ns.last,
        "filters": parse_filters(ns.filter),
    }


def _images_options(parser: DockerArgumentParser) -> None:
    parser.flag("-a", "--all", help="Show all images (default hides intermediate images)")
    parser.flag("--digests", help="Show digests")
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        metavar="FILTER",
        help="Filter output based on conditions provided",
    )
    parser.flag("--no-trunc", help="Don't truncate output")
    parser.flag("-q", "--quiet", help="Only show image IDs")
    parser.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def _images_make(ns: argparse.Namespace) -> dict[str, object]:
    return {
        "all": ns.all,
        "quiet": ns.quiet,
        "digests": ns.digests,
        "no_trunc": ns.no_trunc,
        "repository": ns.repository,
        "filters": parse_filters(ns.filter),
    }


def _help_options(parser: DockerArgumentParser) -> None:
    parser.add_argument("topic", nargs="*", metavar="COMMAND")


SPECS: tuple[Spec, ...] = (
    Spec(
        "help",
        "Show the commands, or one command's usage",
        "[COMMAND]",
        _help_options,
        lambda ns: {"topic": " ".join(ns.topic) or None},
        Help,
    ),
    Spec(
        "version",
        "Show the Docker version information",
        "",
        _no_options,
        lambda ns: {},
        ShowVersion,
        aliases=("system version",),
    ),
    Spec(
        "info",
        "Display system-wide information",
        "",
        _no_options,
        lambda ns: {},
        ShowInfo,
        aliases=("system info",),
    ),
    Spec(
        "container ls",
        "List containers",
        "[OPTIONS]",
        _ps_options,
        _ps_make,
        ListContainers,
        aliases=("ps", "container ps", "container list"),
    ),
    Spec(
        "image ls",
        "List images",
        "[OPTIONS] [REPOSITORY[:TAG]]",
        _images_options,
        _images_make,
        ListImages,
        aliases=("images", "image list"),
    ),
)

_BY_PATH: dict[str, Spec] = {name: spec for spec in SPECS for name in (spec.path, *spec.aliases)}
GLOBAL_USAGE = f"{PROG} [-H HOST] COMMAND [OPTIONS]   ({PROG} help lists the commands)"


def find_spec(words: Sequence[str]) -> tuple[Spec, int]:
    """The spec named by the first one or two words, and how many words named it."""
    if len(words) >= 2 and f"{words[0]} {words[1]}".lower() in _BY_PATH:
        return _BY_PATH[f"{words[0]} {words[1]}".lower()], 2
    if words and words[0].lower() in _BY_PATH:
        return _BY_PATH[words[0].lower()], 1
    typed = " ".join(words[:2]) if words and _is_group(words[0]) else (words[0] if words else "")
    choices = list(_BY_PATH)
    suggestions = difflib.get_close_matches(typed.lower(), choices, n=3, cutoff=0.6)
    raise UnknownCommand(typed, suggestions, usage=GLOBAL_USAGE)


def _is_group(word: str) -> bool:
    return any(path.startswith(f"{word.lower()} ") for path in _BY_PATH)


def parse(text: str) -> Command:
    """Turn what the user typed after /docker into a command model, or raise UsageError."""
    words = split_words(text)
    host, words = _global_options(words)
    if not words:
        return Help(host=host)
    if len(words) == 1 and _is_group(words[0]) and words[0].lower() not in _BY_PATH:
        return Help(host=host, topic=words[0].lower())
    spec, used = find_spec(words)
    parser = spec.parser()
    ns = parser.parse_words(words[used:])
    if ns.help:
        return Help(host=host, topic=spec.path)
    try:
        return spec.model(host=host, **spec.make(ns))
    except UsageError as exc:
        exc.usage = exc.usage or parser.format_usage().strip()
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{where}: {first['msg']}", usage=parser.format_usage().strip()) from None


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
    """The full help of one command, generated by its parser."""
    spec = _BY_PATH.get(path.lower())
    if spec is None and _is_group(path):
        members = [s for s in SPECS if s.path.startswith(f"{path.lower()} ")]
        lines = [f"  {s.path.partition(' ')[2]:<12} {s.summary}" for s in members]
        return f"usage: {PROG} {path.lower()} COMMAND\n\nCommands:\n" + "\n".join(lines) + "\n"
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
