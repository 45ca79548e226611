"""argparse, made to read the docker CLI's flags the way pflag does, and to raise UsageError."""

from __future__ import annotations

import argparse
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from handlers.commands import Command, Filters
from handlers.errors import UsageError

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
        self._lock = threading.RLock()
        self.bool_flags: set[str] = set()
        # pflag takes `--since -1h` or `--cpus -1.5` as a value; argparse would see a flag in
        # anything but a plain negative number. No docker flag starts with a dash and a digit.
        self._negative_number_matcher = re.compile(r"^-\d")

        self.add_argument("--help", action="store_true", help="Print usage")

    def flag(
        self, *names: str, help: str, dest: str | None = None, unset: bool | None = False
    ) -> None:
        """A boolean flag that, like pflag's, also accepts --name=true|false. With
        `unset=None` it is None unless given, for flags whose absence means "the engine's
        default" and `--name=false` means false (the CLI's flags.Changed); `unset=True` is a
        flag that is on unless `--name=false`."""
        self.bool_flags.update(n for n in names if n.startswith("--"))
        if dest:
            self.add_argument(*names, action="store_true", help=help, dest=dest, default=unset)
        else:
            self.add_argument(*names, action="store_true", help=help, default=unset)

    def many(self, *names: str, help: str, metavar: str = "VALUE", dest: str | None = None) -> None:
        """A repeatable flag collecting a list (docker's stringSlice / list options)."""
        if dest:
            self.add_argument(
                *names, action="append", default=[], metavar=metavar, help=help, dest=dest
            )
        else:
            self.add_argument(*names, action="append", default=[], metavar=metavar, help=help)

    def refuse(self, *names: str, reason: str, takes_value: bool = False) -> None:
        """A docker flag chat cannot honour: using it is an error that says why."""
        self.add_argument(
            *names,
            action=_Refuse,
            nargs=1 if takes_value else 0,
            reason=reason,
            help=f"(not in chat: {reason})",
        )

    def parse_words(self, words: Sequence[str], *, intermixed: bool = True) -> argparse.Namespace:
        given_false: list[str] = []
        rewritten = list(self._explicit_bools(words, given_false))
        # parse_intermixed_args briefly rewrites the parser's actions: one parse at a time.
        with self._lock:
            try:
                if intermixed:
                    ns = self.parse_intermixed_args(rewritten)
                else:
                    ns = self.parse_args(rewritten)
            except argparse.ArgumentError as exc:
                self.error(str(exc))
        for name in given_false:
            action = self._option_string_actions[name]
            # Only flags whose default is not false (None: unset; True: on unless said)
            # need the word; for the rest `--x=false` is the default already.
            if action.default is not False and getattr(ns, action.dest) == action.default:
                setattr(ns, action.dest, False)
        return ns

    def _explicit_bools(self, words: Iterable[str], given_false: list[str]) -> Iterable[str]:
        for word in words:
            name, eq, value = word.partition("=")
            if eq and name in self.bool_flags:
                choice = value.lower()
                if choice not in {"true", "false", "1", "0", "t", "f"}:
                    raise UsageError(
                        f'invalid argument "{value}" for "{name}" flag: expected true or false',
                        usage=self.format_usage().strip(),
                        token=word,
                    )
                if choice in {"true", "1", "t"}:
                    yield name
                else:
                    given_false.append(name)
            else:
                yield word

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, usage=self.format_usage().strip(), token=_offending(message))


class _Refuse(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, reason: str, **kwargs: Any) -> None:
        self.reason = reason
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        raise UsageError(
            f"`{option_string}` is not available in chat: {self.reason}",
            usage=parser.format_usage().strip(),
            token=option_string,
        )


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
    """One command: its docker path, aliases, summary, flags and how they become a model."""

    path: str
    summary: str
    usage: str
    options: Callable[[DockerArgumentParser], None]
    make: Callable[[argparse.Namespace], dict[str, object]]
    model: type[Command]
    aliases: tuple[str, ...] = field(default=())
    #: docker stops reading flags at the first positional (run IMAGE CMD -x: -x is CMD's)
    intermixed: bool = True

    def parser(self) -> DockerArgumentParser:
        """This command's parser, built once: argparse's constructor costs about a
        millisecond (gettext looks for catalogs), which every ack would pay."""
        return _built(self)


# A parser per command and thread: parse_intermixed_args rewrites a parser's actions while it
# parses, so a shared one parses one text at a time, and a burst of acks queued on its lock,
# each hand-over a thread switch (measured: 0.38 ms a parse with 100 threads at once instead
# of 0.03 ms; docs/bench-ack.md). A thread builds each parser it uses once.
_PARSERS = threading.local()


def _built(spec: Spec) -> DockerArgumentParser:
    parsers: dict[str, DockerArgumentParser] | None = getattr(_PARSERS, "by_path", None)
    if parsers is None:
        parsers = _PARSERS.by_path = {}
    parser = parsers.get(spec.path)
    if parser is None:
        parser = DockerArgumentParser(spec.path, spec.usage)
        spec.options(parser)
        parsers[spec.path] = parser
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


def add_filter(parser: DockerArgumentParser) -> None:
    parser.many(
        "-f", "--filter", metavar="FILTER", help="Filter output based on conditions provided"
    )
