"""Secrets out of what we keep and show: command text redacted by its structure, inspect
output trimmed for non-admins.

A command is read the way the parser reads it (chat typography undone, shell-split), then
each word is judged by what it is: the value of a password flag, an `-e NAME=VALUE` whose
NAME looks secret, the userinfo of a URL, a Slack token. A regex over the raw text missed
quoted values, values with spaces and attached short flags (`-pPASS`), and could backtrack
for minutes on a hostile text; everything here is one pass over the text.

When the text cannot be read (an unbalanced quote), everything after the verb is masked:
a record that says less is better than one that leaks.
"""

from __future__ import annotations

import argparse
import copy
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from handlers.commands import Command, Inspect
from handlers.results import InspectResult, Result
from handlers.service_commands import InspectSwarmObjects
from handlers.template import render

MASK = "***"
#: what a non-admin sees instead of an Env value in `inspect`
ENV_MASK = "<redacted>"
#: name parts that make a value secret (DOCKHAND_SECRET_NAMES): `|` or `,` between words
DEFAULT_SECRET_NAMES = "PASS|PW|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH"

_WHITESPACE = " \t\r\n"
_QUOTES = "'\"\\"
# Characters of an option key or variable name (`splunk-token`, `com.example.key`, `DB_PW`).
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# One pass, no nested quantifier: linear.
_SLACK_TOKEN = re.compile(r"x(?:ox[abpr]|app)-[\w-]+")
_PASSWORD_DESTS = frozenset({"password"})


class SecretNames:
    """Decides whether a variable or option name looks secret.

    The name is cut into parts at anything not a letter or digit and where lower case
    turns upper (`DB_PW`, `dbPassword`, `splunk-token`). A part is secret when it contains
    a word of four letters or more (PASSWORD, MYSQLPASSWORD, GITHUBTOKEN) or begins or ends
    with a shorter one (PW, PWD, KEY: DBPW, APIKEY, KEYS, but not UPWARD). Over-matching
    costs a masked harmless value; under-matching leaks one.
    """

    def __init__(self, pattern: str = DEFAULT_SECRET_NAMES) -> None:
        words = [w.strip().upper() for w in re.split(r"[|,]", pattern)]
        self.words = tuple(w for w in words if w)
        if not self.words or not all(w.isalnum() for w in self.words):
            raise ValueError(f"secret names must be words separated by | or ,: {pattern!r}")
        self.pattern = pattern

    def __call__(self, name: str) -> bool:
        return any(self._part(part) for part in _parts(name))

    def _part(self, part: str) -> bool:
        for word in self.words:
            if len(word) >= 4:
                if word in part:
                    return True
            elif part.startswith(word) or part.endswith(word):
                return True
        return False


def _parts(name: str) -> Iterable[str]:
    start = 0
    for i, char in enumerate(name):
        if not char.isalnum():
            if i > start:
                yield name[start:i].upper()
            start = i + 1
        elif char.isupper() and i > start and name[i - 1].islower():
            yield name[start:i].upper()
            start = i
    if start < len(name):
        yield name[start:].upper()


_names = SecretNames()


def configure(pattern: str) -> None:
    """Set the process's secret-name words (the DOCKHAND_SECRET_NAMES setting)."""
    global _names
    _names = SecretNames(pattern)


def secret_names() -> SecretNames:
    return _names


# --- reading the text -------------------------------------------------------------------


def tokenize(text: str) -> tuple[list[str], bool]:
    """Split like `shlex.split` does, in one pass, never raising. The flag says whether
    the text was whole: False for an unbalanced quote or a trailing backslash."""
    if not any(c in text for c in _QUOTES):
        return text.split(), True  # the common case, at C speed
    tokens: list[str] = []
    word: list[str] = []
    in_word = False
    quote = ""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                word.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\":
                if i + 1 >= n:
                    return tokens, False
                if text[i + 1] in '"\\':
                    i += 1
                    word.append(text[i])
                else:
                    word.append(char)
            else:
                word.append(char)
        elif char in _WHITESPACE:
            if in_word:
                tokens.append("".join(word))
                word, in_word = [], False
        elif char == "\\":
            if i + 1 >= n:
                return tokens, False
            i += 1
            word.append(text[i])
            in_word = True
        elif char in "'\"":
            quote, in_word = char, True
        else:
            word.append(char)
            in_word = True
        i += 1
    if quote:
        return tokens, False
    if in_word:
        tokens.append("".join(word))
    return tokens, True


def _normalized(text: str) -> str | None:
    from bot.text import normalize

    try:
        return normalize(text)
    except Exception:  # unreadable text is masked, never a crash
        return None


# --- what the words mean ------------------------------------------------------------------


@dataclass
class _Command:
    """Where the options start, and what the command's parser knows of them."""

    start: int
    options: dict[str, argparse.Action] = field(default_factory=dict)
    intermixed: bool = True
    known: bool = False


def _locate(tokens: list[str]) -> _Command:
    """Skip the global -H/--host, then find the command the next one or two words name."""
    from bot.parser import find_spec
    from handlers.errors import DockhandError

    i = 0
    while i < len(tokens) and (tokens[i] in ("-H", "--host") or tokens[i].startswith("--host=")):
        i += 2 if tokens[i] in ("-H", "--host") else 1
    try:
        spec, used = find_spec(tokens[i:])
        parser = spec.parser()
    except DockhandError:
        # Not a command we know: every word after the host is judged, flags read as unknown.
        return _Command(start=min(i, len(tokens)))
    return _Command(
        start=i + used,
        options=dict(parser._option_string_actions),
        intermixed=spec.intermixed,
        known=True,
    )


def _verb_words(tokens: list[str]) -> list[str]:
    """The words naming the command, when the rest cannot be read."""
    from bot.parser import find_spec
    from handlers.errors import DockhandError

    try:
        _, used = find_spec(tokens)
    except DockhandError:
        return []
    return tokens[:used]


@dataclass
class _Redactor:
    names: SecretNames
    #: the values taken out, for the log filter and for scrubbing error messages
    removed: list[str] = field(default_factory=list)

    def mask_all(self, value: str) -> str:
        if value:
            self.removed.append(value)
        return MASK

    def words(self, tokens: list[str]) -> list[str]:
        out = list(tokens)
        command = _locate(tokens)
        flags = True  # docker stops reading flags at the first positional of run/create
        i = command.start
        while i < len(out):
            token = out[i]
            if token == "--":
                flags = False
            elif token.startswith("--") and len(token) > 2:
                name, eq, value = token.partition("=")
                if self._is_password(name, command, flags):
                    if eq:
                        out[i] = f"{name}={self.mask_all(value)}"
                    elif i + 1 < len(out):
                        i += 1
                        out[i] = self.mask_all(out[i])
                elif not eq and flags and _takes_value(command.options.get(name)):
                    i += _value_follows(out, i)  # the value is judged by the word rules
            elif token.startswith("-") and len(token) > 1:
                i = self._short(out, i, command, flags)
            elif flags and not command.intermixed:
                flags = False
            i += 1
        return [self.word(w) for w in out]

    def _short(self, out: list[str], i: int, command: _Command, flags: bool) -> int:
        """A cluster of short flags (`-it`, `-dp80:80`, `-pPASS`, `-p=PASS`): pflag reads
        letters until one takes a value, which is the rest of the word or the next word."""
        token = out[i]
        # Unknown flags (a container's own command, a mistyped verb): only a leading -p is
        # read as a password, as mysql and docker login both spell it.
        letters = token[1:2] if not flags or not command.options else token[1:]
        for j, letter in enumerate(letters, start=1):
            flag = f"-{letter}"
            action = command.options.get(flag) if flags else None
            password = self._is_password(flag, command, flags)
            if not password and (action is None or not _takes_value(action)):
                if action is None:
                    return i  # not a flag we know: the word rules judge the whole word
                continue
            rest = token[j + 1 :]
            if password:
                if rest:
                    out[i] = token[: j + 1] + ("=" if rest.startswith("=") else "") + MASK
                    self.removed.append(rest.removeprefix("="))
                elif i + 1 < len(out):
                    out[i + 1] = self.mask_all(out[i + 1])
                    return i + 1
                return i
            return i if rest else i + _value_follows(out, i)
        return i

    def _is_password(self, flag: str, command: _Command, flags: bool) -> bool:
        if flag == "--password":
            return True
        if flag != "-p":
            return False
        action = command.options.get(flag) if flags else None
        # -p is --publish for run and create; anywhere else, or unknown, it is a password.
        return action is None or action.dest in _PASSWORD_DESTS

    def word(self, word: str) -> str:
        """A word's own secrets: URL userinfo, Slack tokens, NAME=VALUE with a secret NAME."""
        if "://" in word:
            word = self._userinfo(word)
        if "x" in word:
            word = _SLACK_TOKEN.sub(self._slack, word)
        if "=" in word or ": " in word:
            word = self._assignments(word)
        return word

    def _slack(self, match: re.Match[str]) -> str:
        self.removed.append(match.group(0))
        return MASK

    def _userinfo(self, word: str) -> str:
        out: list[str] = []
        pos = 0
        while True:
            found = word.find("://", pos)
            if found < 0:
                break
            start = found + 3
            end = start
            while end < len(word) and word[end] not in "/?#" and word[end] not in _WHITESPACE:
                end += 1
            at = word.rfind("@", start, end)
            if at > start:
                userinfo = word[start:at]
                colon = userinfo.find(":")
                if colon >= 0:
                    masked = userinfo[: colon + 1] + MASK
                    self.removed.append(userinfo[colon + 1 :])
                elif word[:found].lower().endswith("ssh"):
                    masked = userinfo  # ssh://user@host: a user name, never a password
                else:
                    masked = MASK  # https://TOKEN@host
                    self.removed.append(userinfo)
                out.append(word[pos:start] + masked + "@")
                pos = at + 1
            else:
                out.append(word[pos:end])
                pos = end
            if pos >= len(word):
                break
        out.append(word[pos:])
        return "".join(out)

    def _assignments(self, word: str) -> str:
        """NAME=VALUE (also inside `o=addr=h,password=p` and `sh -c 'export X=1'`) and
        `Name: value` (a header): from the first secret NAME on, the rest of the word is
        masked, so a value with spaces or commas goes whole."""
        for i, char in enumerate(word):
            if char == "=" or (char == ":" and word[i + 1 : i + 2] == " "):
                start = i
                while start > 0 and word[start - 1] in _NAME_CHARS:
                    start -= 1
                name = word[start:i]
                if name and self.names(name):
                    value_at = i + 1 if char == "=" else i + 2
                    self.removed.append(word[value_at:])
                    return word[:value_at] + MASK
        return word


def _value_follows(words: list[str], i: int) -> int:
    """1 if the word after i is a flag's value. As our parser (argparse) reads it, a word
    starting with a dash is a flag of its own unless it is a negative number: so
    `login -u -p PASS` is still a password."""
    if i + 1 >= len(words):
        return 0
    following = words[i + 1]
    return 0 if following.startswith("-") and not following[1:2].isdigit() else 1


def _takes_value(action: argparse.Action | None) -> bool:
    return action is not None and action.nargs != 0


def _quote(word: str) -> str:
    if word and not any(c in word for c in _WHITESPACE + _QUOTES):
        return word
    return shlex.quote(word)


# --- the entry points ---------------------------------------------------------------------


@dataclass(frozen=True)
class Redacted:
    text: str
    #: the secret values taken out (for the log filter, and to scrub error messages)
    secrets: tuple[str, ...]


def redact_text(text: str, names: SecretNames | None = None) -> Redacted:
    """A command as the user typed it after /docker, with its secrets masked."""
    redactor = _Redactor(names or _names)
    normal = _normalized(text)
    if normal is None:
        return Redacted(MASK, (text,))
    tokens, whole = tokenize(normal)
    if not whole:
        verb = _verb_words(tokens)
        rest = normal.split(None, len(verb))[len(verb) :] if verb else [normal]
        return Redacted(" ".join([*verb, MASK]), tuple(r for r in rest if r))
    words = redactor.words(tokens)
    secrets = tuple(s for s in redactor.removed if s and s != MASK)
    return Redacted(" ".join(_quote(w) for w in words), secrets)


def redact_command(text: str, names: SecretNames | None = None) -> str:
    """Command text fit for the audit, the logs and the channel."""
    return redact_text(text, names).text


def scrub(message: str, secrets: Iterable[str], shortest: int = 3) -> str:
    """A message (an error that quotes what was typed) without the given secret values."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= shortest and secret in message:
            message = message.replace(secret, MASK)
    return message


# --- inspect, for those who may not see values --------------------------------------------


def redact_result(result: Result, command: Command, *, admin: bool) -> Result:
    """What `requester` may see of a result: Env values of inspected containers and images
    are replaced for non-admins (a viewer may read the configuration, not the passwords in
    it). The names stay, so "is DB_PASSWORD set?" is still answered."""
    if admin or not isinstance(result, InspectResult):
        return result
    objects = [_without_env_values(o) for o in result.objects]
    formatted = result.formatted
    if (
        formatted is not None
        and isinstance(command, Inspect | InspectSwarmObjects)
        and command.format
    ):
        # A template may print Env: render it again over what the viewer may see.
        formatted = [render(command.format, o) for o in objects]
    return result.model_copy(update={"objects": objects, "formatted": formatted})


def _without_env_values(obj: dict[str, Any]) -> dict[str, Any]:
    obj = _without_service_env_values(obj)
    sections = [k for k in ("Config", "ContainerConfig") if isinstance(obj.get(k), dict)]
    if not any(isinstance(obj[k].get("Env"), list) for k in sections):
        return obj
    obj = copy.deepcopy(obj)
    for key in sections:
        env = obj[key].get("Env")
        if isinstance(env, list):
            obj[key]["Env"] = [
                f"{str(e).partition('=')[0]}={ENV_MASK}" if "=" in str(e) else e for e in env
            ]
    return obj


def _without_service_env_values(obj: dict[str, Any]) -> dict[str, Any]:
    """A Swarm service keeps its containers' Env in Spec (and PreviousSpec) as
    TaskTemplate.ContainerSpec.Env."""

    def container(spec: Any) -> Any:
        task = spec.get("TaskTemplate") if isinstance(spec, dict) else None
        return task.get("ContainerSpec") if isinstance(task, dict) else None

    specs = [k for k in ("Spec", "PreviousSpec") if isinstance(container(obj.get(k)), dict)]
    if not any(isinstance(container(obj[k]).get("Env"), list) for k in specs):
        return obj
    obj = copy.deepcopy(obj)
    for key in specs:
        held = container(obj[key])
        if isinstance(held.get("Env"), list):
            held["Env"] = [
                f"{str(e).partition('=')[0]}={ENV_MASK}" if "=" in str(e) else e
                for e in held["Env"]
            ]
    return obj
