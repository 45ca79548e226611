"""`--format` templates: Go's text/template as the docker CLI has it, parsed and interpreted
here without running any code.

The language: text and `{{actions}}` (with `{{-`/`-}}` trimming and `{{/* comments */}}`);
pipelines of commands joined by `|`; fields `.A.B`, variables `$`, `$x := ...`, `$x = ...`,
parentheses; `if`/`else if`/`else`, `range` (`$i, $v :=`, `break`, `continue`, `else`),
`with`/`else with`; Go's functions `and or not eq ne lt le gt ge len index slice print printf
println`; the CLI's `json split join title lower upper pad truncate`. A template only walks
the data it is given: field names are looked up in dicts, never on Python objects.

Errors are the CLI's: a parse error `template: :1: function "x" not defined`, an execution
error `template: :1:2: executing "" at <.X>: map has no entry for key "X"` (inspect reads the
raw JSON) or `can't evaluate field X in type *formatter.ContainerContext` (listings are
structs), each with the prefix and exit status the CLI's verb uses.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from handlers.errors import UsageError


class TemplateError(UsageError):
    """A template the CLI would refuse: the user's mistake, with the CLI's exit status
    (1 when executing; inspect's and version's parse errors are 64 as the CLI's)."""

    def __init__(self, message: str, *, exit_status: int = 1, token: str | None = None) -> None:
        super().__init__(message, token=token)
        self.exit_status = exit_status


class _GoError(Exception):
    """Go's own error text, before a verb adds its prefix."""

    def __init__(self, message: str, *, parsing: bool) -> None:
        super().__init__(message)
        self.message = message
        self.parsing = parsing


# --------------------------------------------------------------------------------------
# Values: what Go would hold where JSON has null or nothing.


@dataclass(frozen=True)
class GoNil:
    """A typed nil: the CLI decodes into structs, where an absent or null slice prints
    `[]`, a map `map[]`, a pointer `<nil>`; JSON-encoded all are `null`."""

    kind: str  # "slice" | "map" | "ptr"


class _Missing:
    """Go's invalid value (a map's missing key): prints `<no value>`."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()

# The Engine's JSON has null (or leaves out) what Go holds as a nil slice, map or pointer.
_MAPS = frozenset(
    [
        "Volumes",
        "Labels",
        "DriverOpts",
        "ExposedPorts",
        "Options",
        "Tmpfs",
        "Sysctls",
        "StorageOpt",
        "PortBindings",
        "Ports",
        "Annotations",
    ]
)
_POINTERS = frozenset(
    [
        "MemorySwappiness",
        "PidsLimit",
        "IPAMConfig",
        "Health",
        "Healthcheck",
        "OomKillDisable",
        "Init",
        "StopTimeout",
    ]
)


# Objects the CLI holds as Go maps, not structs: `.Config.Labels.nope` is `<no value>`.
_GO_MAPS = _MAPS | {"Networks", "Attributes"}


def _typed_nil(name: str) -> GoNil:
    if name in _POINTERS:
        return GoNil("ptr")
    return GoNil("map" if name in _MAPS else "slice")


class Row(dict[str, Any]):
    """A listing row: a Go struct of the CLI's (fields are methods there), and the labels
    `{{.Label "key"}}` reads."""

    go_type = "*formatter.ContainerContext"

    def __init__(self, fields: dict[str, Any], labels: dict[str, str] | None = None) -> None:
        super().__init__(fields)
        self.labels = labels or {}


class Header(dict[str, str]):
    """The table header the CLI executes the same template over: a map[string]string with a
    Label method giving a label's column name."""


def _go_type(value: Any) -> str:
    if isinstance(value, Row):
        return value.go_type
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Header):
        return "formatter.SubHeaderContext"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>"


def go_string(value: Any) -> str:
    """fmt.Sprint of a value as the CLI holds it."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, GoNil):
        return {"slice": "[]", "map": "map[]", "ptr": "<nil>"}[value.kind]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))  # the CLI's raw JSON numbers print as written
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _truth(value: Any) -> bool:
    if value is MISSING or value is None or isinstance(value, GoNil):
        return False
    if isinstance(value, Row):
        return True  # a struct is always true
    return bool(value)


class OmitEmpty(dict[str, Any]):
    """A Go struct whose JSON tags say omitempty for `omitted`: the fields are there for a
    template (empty), and left out of its JSON while empty, as Go's encoder does."""

    def __init__(self, fields: dict[str, Any], omitted: frozenset[str]) -> None:
        super().__init__(fields)
        self.omitted = omitted


def _jsonable(value: Any) -> Any:
    if isinstance(value, GoNil) or value is MISSING:
        return None
    if isinstance(value, OmitEmpty):
        return {
            k: _jsonable(v)
            for k, v in value.items()
            if not (k in value.omitted and v in ("", 0, None, False))
        }
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _go_json(value: Any) -> str:
    # Go's encoder writes <, > and & as \u escapes; the CLI's JSON lines carry them so.
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json(value: Any) -> str:
    """The CLI's `json` function: Go's encoder with HTML escaping off (a row's own
    MarshalJSON escapes it, as json.Marshal does)."""
    if isinstance(value, Row):
        return _go_json(value)
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------
# Lexing and parsing into a small tree.


@dataclass
class _Node:
    pos: int


@dataclass
class _Text(_Node):
    text: str


@dataclass
class _Field(_Node):
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "".join(f".{n}" for n in self.names) or "."


@dataclass
class _Variable(_Node):
    name: str
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name + "".join(f".{n}" for n in self.names)


@dataclass
class _Identifier(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class _Literal(_Node):
    value: Any
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class _Chain(_Node):
    node: _Node
    names: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.node}" + "".join(f".{n}" for n in self.names)


@dataclass
class _Command(_Node):
    args: list[_Node]

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, _Pipe) else str(a) for a in self.args)


@dataclass
class _Pipe(_Node):
    decl: list[str]
    assign: bool
    cmds: list[_Command]

    def __str__(self) -> str:
        head = ", ".join(self.decl) + (" = " if self.assign else " := ") if self.decl else ""
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass
class _Action(_Node):
    pipe: _Pipe


@dataclass
class _Branch(_Node):
    kind: str  # if | range | with
    pipe: _Pipe
    body: list[_Node]
    orelse: list[_Node] = field(default_factory=list)


@dataclass
class _Jump(_Node):
    kind: str  # break | continue


_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<declare>:=)
    |(?P<punct>[|(),=])
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<raw>`[^`]*`)
    |(?P<char>'(?:[^'\\\n]|\\.)+')
    |(?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d+(?:[eE][+-]?\d+)?|\d+\.))
    |(?P<field>\.[A-Za-z_]\w*)
    |(?P<dot>\.)
    |(?P<variable>\$\w*)
    |(?P<ident>[A-Za-z_]\w*)
    """,
    re.VERBOSE,
)
_SPACES = " \t\r\n"
_KEYWORDS = frozenset(["if", "else", "end", "range", "with", "break", "continue"])
_UNSUPPORTED = frozenset(["define", "template", "block"])


@dataclass
class _Token:
    kind: str
    text: str
    pos: int
    spaced: bool = False  # white space before it: `.A .B` is two operands, `.A.B` one


class _Parser:
    def __init__(self, template: str, name: str, functions: frozenset[str]) -> None:
        self.src = template
        self.name = name
        self.functions = functions
        self.actions = list(self._split())
        self.index = 0
        self.vars: list[list[str]] = [["$"]]
        self.ranges = 0  # how deep in {{range}}: break and continue are allowed there only

    def error(self, message: str, pos: int) -> _GoError:
        line = self.src.count("\n", 0, pos) + 1
        return _GoError(f"template: {self.name}:{line}: {message}", parsing=True)

    # The template as text pieces and actions (their tokens), with Go's trimming: `{{- `
    # eats the white space before the action, ` -}}` the white space after it.
    def _split(self) -> Iterator[_Text | list[_Token]]:
        src, pos, trim_next = self.src, 0, False
        while True:
            start = src.find("{{", pos)
            text = src[pos:] if start < 0 else src[pos:start]
            left_trim = (
                start >= 0
                and src[start + 2 : start + 3] == "-"
                and (src[start + 3 : start + 4] in _SPACES)
            )
            if trim_next:
                text = text.lstrip(_SPACES)
            if left_trim:
                text = text.rstrip(_SPACES)
            if text:
                yield _Text(pos, text)
            if start < 0:
                return
            inner = start + (3 if left_trim else 2)
            end, right_trim = self._close(inner, start)
            body = src[inner:end]
            trim_next = right_trim
            pos = end + (3 if right_trim else 2)
            if body.lstrip(_SPACES).startswith("/*"):
                if not body.rstrip(_SPACES).endswith("*/"):
                    raise self.error("unclosed comment", start)
                continue
            yield self._tokens(body, inner)

    def _close(self, inner: int, start: int) -> tuple[int, bool]:
        """Where the action's text ends (quoted text skipped), and whether it trims after."""
        src, i = self.src, inner
        comment = src[inner:].lstrip(_SPACES).startswith("/*")
        while i < len(src):
            c = src[i]
            if comment:
                close = src.find("*/", i)
                if close < 0:
                    raise self.error("unclosed comment", start)
                i, comment = close + 2, False
                continue
            if c in "\"'`":
                close = src.find(c, i + 1) if c == "`" else self._quote_end(i)
                if close < 0:
                    raise self.error("unterminated quoted string", i)
                i = close + 1
                continue
            if c in _SPACES and src.startswith("-}}", i + 1):
                return i + 1, True
            if src.startswith("}}", i):
                return i, False
            i += 1
        raise self.error("unclosed action", start)

    def _quote_end(self, i: int) -> int:
        quote, j = self.src[i], i + 1
        while j < len(self.src) and self.src[j] != "\n":
            if self.src[j] == "\\":
                j += 2
                continue
            if self.src[j] == quote:
                return j
            j += 1
        return -1

    def _tokens(self, body: str, offset: int) -> list[_Token]:
        tokens, i = [], 0
        while i < len(body):
            match = _TOKEN.match(body, i)
            if not match:
                raise self.error(f"unexpected {body[i]!r} in command", offset + i)
            kind = match.lastgroup or ""
            if kind != "space":
                spaced = i > 0 and body[i - 1] in _SPACES
                tokens.append(_Token(kind, match.group(), offset + i, spaced))
            i = match.end()
        if not tokens:
            raise self.error("missing value for command", offset)
        return tokens

    # The tree.
    def parse(self) -> list[_Node]:
        nodes, stop = self._list(())
        if stop is not None:
            raise self.error(f"unexpected {{{{{stop[0].text}}}}}", stop[0].pos)
        return nodes

    def _list(self, stops: tuple[str, ...]) -> tuple[list[_Node], list[_Token] | None]:
        nodes: list[_Node] = []
        while self.index < len(self.actions):
            item = self.actions[self.index]
            self.index += 1
            if isinstance(item, _Text):
                nodes.append(item)
                continue
            word = item[0].text if item[0].kind == "ident" else ""
            if word in ("end", "else"):
                if word not in stops:
                    raise self.error(f"unexpected {{{{{word}}}}}", item[0].pos)
                return nodes, item
            if word in ("if", "range", "with"):
                nodes.append(self._branch(word, item))
            elif word in ("break", "continue"):
                if not self.ranges:
                    raise self.error(f"{{{{{word}}}}} outside {{{{range}}}}", item[0].pos)
                nodes.append(_Jump(item[0].pos, word))
            elif word in _UNSUPPORTED:
                raise self.error(f"{{{{{word}}}}} is not supported in Dockhand", item[0].pos)
            else:
                pipe = _PipeParser(self, item, 0).pipe(declare=True)
                nodes.append(_Action(item[0].pos, pipe))
        if stops:
            raise self.error("unexpected EOF", len(self.src))
        return nodes, None

    def _branch(self, kind: str, tokens: list[_Token], chained: bool = False) -> _Branch:
        if len(tokens) < 2:
            raise self.error(f"missing value for {kind}", tokens[0].pos)
        self.vars.append([])
        pipe = _PipeParser(self, tokens, 1).pipe(declare=True, two=kind == "range")
        self.ranges += kind == "range"
        body, stop = self._list(("end", "else"))
        self.ranges -= kind == "range"
        node = _Branch(tokens[0].pos, kind, pipe, body)
        assert stop is not None
        if stop[0].text == "else":
            if len(stop) > 1 and stop[1].text == kind and kind in ("if", "with"):
                # `else if`: a nested branch that ends at the same {{end}}.
                node.orelse = [self._branch(kind, stop[1:], chained=True)]
            else:
                if len(stop) > 1:
                    raise self.error("unexpected tokens after {{else}}", stop[1].pos)
                node.orelse, stop = self._list(("end",))
        self.vars.pop()
        return node

    def declare(self, name: str) -> None:
        self.vars[-1].append(name)

    def known(self, name: str) -> bool:
        return any(name in scope for scope in self.vars)


class _PipeParser:
    def __init__(self, parser: _Parser, tokens: list[_Token], start: int) -> None:
        self.p = parser
        self.tokens = tokens
        self.i = start

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def pipe(self, *, declare: bool, two: bool = False, closing: str = "") -> _Pipe:
        first = self.peek()
        pos = first.pos if first else self.tokens[-1].pos
        decl, assign = self._declaration(two) if declare else ([], False)
        cmds = [self._command()]
        while (token := self.peek()) is not None and token.text == "|":
            self.i += 1
            cmds.append(self._command())
        token = self.peek()
        if closing:
            if token is None or token.text != closing:
                raise self.p.error("unclosed left paren", pos)
            self.i += 1
        elif token is not None:
            raise self.p.error(f"unexpected {token.text!r} in operand", token.pos)
        for name in decl:
            if not assign:
                self.p.declare(name)
        return _Pipe(pos, decl, assign, cmds)

    def _declaration(self, two: bool) -> tuple[list[str], bool]:
        t = self.tokens
        i = self.i
        if i < len(t) and t[i].kind == "variable":
            if (
                i + 1 < len(t)
                and t[i + 1].kind in ("declare", "punct")
                and t[i + 1].text
                in (
                    ":=",
                    "=",
                )
            ):
                self.i = i + 2
                if t[i + 1].text == "=" and not self.p.known(t[i].text):
                    raise self.p.error(f'undefined variable "{t[i].text}"', t[i].pos)
                return [t[i].text], t[i + 1].text == "="
            if (
                two
                and i + 3 < len(t)
                and t[i + 1].text == ","
                and t[i + 2].kind == "variable"
                and t[i + 3].text in (":=", "=")
            ):
                self.i = i + 4
                return [t[i].text, t[i + 2].text], t[i + 3].text == "="
        return [], False

    def _command(self) -> _Command:
        token = self.peek()
        if token is None or token.text in ("|", ")"):
            raise self.p.error("missing value for command", token.pos if token else 0)
        args: list[_Node] = []
        while (token := self.peek()) is not None and token.text not in ("|", ")"):
            args.append(self._operand())
        return _Command(args[0].pos, args)

    def _operand(self) -> _Node:
        node = self._term()
        names: list[str] = []
        chain_pos = node.pos
        while (token := self.peek()) is not None and token.kind == "field" and not token.spaced:
            if not names:
                chain_pos = token.pos
            names.append(token.text[1:])
            self.i += 1
        if not names:
            return node
        if isinstance(node, _Field):
            return _Field(chain_pos, node.names + tuple(names))
        if isinstance(node, _Variable):
            return _Variable(chain_pos, node.name, node.names + tuple(names))
        return _Chain(chain_pos, node, tuple(names))

    def _term(self) -> _Node:
        token = self.tokens[self.i]
        self.i += 1
        kind, text = token.kind, token.text
        if kind == "field":
            return _Field(token.pos, (text[1:],))
        if kind == "dot":
            return _Field(token.pos, ())
        if kind == "variable":
            if not self.p.known(text):
                raise self.p.error(f'undefined variable "{text}"', token.pos)
            return _Variable(token.pos, text)
        if kind == "ident":
            if text in ("true", "false"):
                return _Literal(token.pos, text == "true", text)
            if text == "nil":
                return _Literal(token.pos, None, text)
            if text in _KEYWORDS:
                raise self.p.error(f"unexpected <{text}> in command", token.pos)
            if text not in self.p.functions:
                raise self.p.error(f'function "{text}" not defined', token.pos)
            return _Identifier(token.pos, text)
        if kind == "string":
            return _Literal(token.pos, _unquote(text[1:-1]), text)
        if kind == "raw":
            return _Literal(token.pos, text[1:-1], text)
        if kind == "char":
            return _Literal(token.pos, ord(_unquote(text[1:-1])), text)
        if kind == "number":
            return _Literal(token.pos, _number(text), text)
        if text == "(":
            return self.pipe(declare=False, closing=")")
        raise self.p.error(f"unexpected {text!r} in operand", token.pos)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(body: str) -> str:
    def one(match: re.Match[str]) -> str:
        s = match.group(1)
        if s[0] in _ESCAPES:
            return _ESCAPES[s[0]]
        if s[0] in "xuU":
            return chr(int(s[1:], 16))
        if s[0].isdigit():
            return chr(int(s, 8))
        return s

    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", one, body)


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    try:
        return int(clean, 0)
    except ValueError:
        return float(clean)


# --------------------------------------------------------------------------------------
# Functions.


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _want_str(value: Any, func: str) -> str:
    if isinstance(value, str):
        return value
    raise _GoError(f"wrong type for value; expected string; got {_go_type(value)}", parsing=False)


def _want_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _GoError(f"wrong type for value; expected int; got {_go_type(value)}", parsing=False)


def _title(text: str) -> str:
    # strings.Title: the first letter of each word, the rest left as it is.
    out, previous = [], " "
    for c in text:
        out.append(c.upper() if not (previous.isalnum() or previous == "_") else c)
        previous = c
    return "".join(out)


def _join(value: Any, sep: Any) -> str:
    separator = _want_str(sep, "join")
    if value is None or isinstance(value, GoNil | _Missing):
        return ""
    if isinstance(value, list):
        return separator.join(go_string(v) for v in value)
    if isinstance(value, dict):
        return separator.join(sorted(go_string(v) for v in value.values()))
    raise _GoError(f"expected slice, got {_go_type(value)}", parsing=False)


def _length(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list | dict):
        return len(value)
    if isinstance(value, GoNil):
        return 0
    raise _GoError(f"len of type {_go_type(value)}", parsing=False)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            if key in value:
                value = value[key]
            else:
                # Typed maps of the CLI are map[string]string: a missing key is "".
                value = "" if all(isinstance(v, str) for v in value.values()) else None
        elif isinstance(value, list | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _GoError(f"cannot index slice/array with type {_go_type(key)}", parsing=False)
            if not 0 <= key < len(value):
                raise _GoError(f"index out of range: {key}", parsing=False)
            value = value[key] if isinstance(value, list) else value.encode()[key]
        elif isinstance(value, GoNil) and value.kind == "map":
            value = ""
        else:
            raise _GoError(f"can't index item of type {_go_type(value)}", parsing=False)
    return value


def _slice(value: Any, *bounds: Any) -> Any:
    if not isinstance(value, list | str):
        raise _GoError(f"can't slice item of type {_go_type(value)}", parsing=False)
    ints = [_want_int(b) for b in bounds]
    start, end = [*ints, 0][0], (ints[1] if len(ints) > 1 else len(value))
    if not 0 <= start <= end <= len(value):
        raise _GoError(f"index out of range: {end}", parsing=False)
    return value[start:end]


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float):
            return "number"
        if isinstance(v, str):
            return "string"
        if v is None or isinstance(v, GoNil | _Missing):
            return "nil"
        return "other"

    ka, kb = kind(a), kind(b)
    if "other" in (ka, kb):
        raise _GoError("non-comparable type", parsing=False)
    if ka != kb:
        raise _GoError("incompatible types for comparison", parsing=False)
    return a, b


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise _GoError("missing argument for comparison", parsing=False)
    for other in others:
        a, b = _comparable(first, other)
        if (a is None or isinstance(a, GoNil | _Missing)) or a == b:
            return True
    return False


def _order(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        a, b = _comparable(a, b)
        if isinstance(a, bool) or a is None or isinstance(a, GoNil | _Missing):
            raise _GoError("invalid type for comparison", parsing=False)
        return op(a, b)

    return compare


def _sprint(*args: Any) -> str:
    # fmt.Sprint: a space between operands when neither is a string.
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_string(arg)
    return out


def go_quote(text: str) -> str:
    """strconv.Quote: Go's double-quoted string."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(c)])
        elif c.isprintable():
            out.append(c)
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def go_printf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs people put in templates."""
    out, pos, used = [], 0, 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(_want_int(args[used])) if used < len(args) else "0"
            used += 1
        if precision == "*":
            precision = str(_want_int(args[used])) if used < len(args) else "0"
            used += 1
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        text = _format_one(verb, flags, precision, arg)
        size = int(width) if width else 0
        if len(text) < size:
            if "-" in flags:
                text = text.ljust(size)
            elif "0" in flags and verb in "dxXobeEfFgG" and not isinstance(arg, str):
                sign = text[0] if text[:1] in "+- " else ""
                text = sign + text[len(sign) :].rjust(size - len(sign), "0")
            else:
                text = text.rjust(size)
        out.append(text)
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"{_go_type(a)}={go_string(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _format_one(verb: str, flags: str, precision: str | None, arg: Any) -> str:
    def bad() -> str:
        return f"%!{verb}({_go_type(arg)}={go_string(arg)})"

    sign = "+" if "+" in flags else (" " if " " in flags else "")
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    if isinstance(arg, list) and verb not in "vT":
        return "[" + " ".join(_format_one(verb, flags, precision, a) for a in arg) + "]"
    if verb == "v":
        if isinstance(arg, float) and precision:
            return format(arg, f"{sign}.{precision}g")
        text = go_string(arg)
        return (
            f"{sign}{text}"
            if sign == "+" and (is_int or isinstance(arg, float)) and arg >= 0
            else text
        )
    if verb == "T":
        return _go_type(arg)
    if verb == "t":
        return go_string(arg) if isinstance(arg, bool) else bad()
    if verb in "sq":
        if isinstance(arg, str):
            text = arg if precision is None or precision == "" else arg[: int(precision)]
            if verb == "q":
                return f"`{text}`" if "#" in flags and "`" not in text else go_quote(text)
            return text
        if verb == "q" and is_int:
            return "'" + go_quote(chr(arg))[1:-1].replace('\\"', '"') + "'"
        if verb == "s" and (arg is None or isinstance(arg, dict | GoNil | _Missing)):
            return go_string(arg)
        return bad()
    if verb in "dboxXcU":
        if verb in "xX" and isinstance(arg, str):
            hexed = arg.encode().hex()
            return hexed.upper() if verb == "X" else hexed
        if not is_int:
            return bad()
        if verb == "c":
            return chr(arg)
        if verb == "U":
            return f"U+{arg:04X}"
        spec = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
        prefix = {"x": "0x", "X": "0X", "o": "0", "b": ""}.get(verb, "") if "#" in flags else ""
        text = format(abs(arg), spec)
        return ("-" if arg < 0 else sign) + prefix + text
    if verb in "eEfFgG":
        if not isinstance(arg, float | int) or isinstance(arg, bool) or is_int:
            return bad()
        if verb in "gG" and (precision is None or precision == ""):
            number = float(arg)
            text = _go_float(number) if not number.is_integer() else repr(number).removesuffix(".0")
            return (sign if arg >= 0 else "") + text
        digits = 6 if precision is None or precision == "" else int(precision)
        text = format(arg, f"{sign}.{digits}{verb.replace('F', 'f')}")
        return re.sub(r"e([+-])(\d)$", r"e\g<1>0\2", text)
    return f"%!{verb}({_go_type(arg)}={go_string(arg)})"


def _pad(text: Any, prefix: Any, suffix: Any) -> str:
    source = _want_str(text, "pad")
    if source == "":
        return source
    return " " * _want_int(prefix) + source + " " * _want_int(suffix)


def _truncate(text: Any, length: Any) -> str:
    source, size = _want_str(text, "truncate"), _want_int(length)
    return source if len(source) < size else source[:size]


def _split(text: Any, sep: Any) -> list[str]:
    source, separator = _want_str(text, "split"), _want_str(sep, "split")
    if separator == "":
        return list(source)
    return source.split(separator)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # Go's text/template builtins (and/or are evaluated lazily, below).
    "not": lambda v: not _truth(v),
    "len": _length,
    "index": _index,
    "slice": _slice,
    "print": _sprint,
    "printf": lambda fmt, *args: go_printf(_want_str(fmt, "printf"), *args),
    "println": lambda *args: " ".join(go_string(a) for a in args) + "\n",
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _order(lambda a, b: a < b),
    "le": _order(lambda a, b: a <= b),
    "gt": _order(lambda a, b: a > b),
    "ge": _order(lambda a, b: a >= b),
    "and": lambda *a: a[-1],
    "or": lambda *a: a[-1],
    # The docker CLI's (templates/templates.go).
    "json": _json,
    "split": _split,
    "join": _join,
    "title": lambda v: _title(_want_str(v, "title")),
    "lower": lambda v: _want_str(v, "lower").lower(),
    "upper": lambda v: _want_str(v, "upper").upper(),
    "pad": _pad,
    "truncate": _truncate,
}

# Signatures of the functions whose Go parameters are typed: "any" takes anything, "..."
# any number more. Others (index, slice, eq...) check their arguments as they run.
_PARAMS: dict[str, tuple[str, ...]] = {
    "not": ("any",),
    "len": ("any",),
    "printf": ("string", "..."),
    "json": ("any",),
    "split": ("string", "string"),
    "join": ("any", "string"),
    "title": ("string",),
    "lower": ("string",),
    "upper": ("string",),
    "pad": ("string", "int", "int"),
    "truncate": ("string", "int"),
}

# The CLI executes a table's header with these in place of the row functions, so a column
# is headed by its name, not by the name transformed.
HEADER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **FUNCTIONS,
    "json": lambda v: _want_str(v, "json"),
    "split": lambda v, _sep: _want_str(v, "split"),
    "join": lambda v, _sep: _want_str(v, "join"),
    "title": lambda v: _want_str(v, "title"),
    "lower": lambda v: _want_str(v, "lower"),
    "upper": lambda v: _want_str(v, "upper"),
    "truncate": lambda v, _n: _want_str(v, "truncate"),
}
_NAMES = frozenset(FUNCTIONS)


# --------------------------------------------------------------------------------------
# Execution.


@dataclass
class _Mode:
    """How fields are looked up: `raw` (inspect: JSON maps, a missing key is an error),
    `typed` (version/info: Go structs whose names may differ in case from the JSON keys),
    `listing` (rows are structs; the header a map)."""

    kind: str
    root_type: str = "interface {}"


class _Executor:
    def __init__(
        self,
        src: str,
        name: str,
        mode: _Mode,
        functions: dict[str, Callable[..., Any]],
        root: Any,
    ) -> None:
        self.src = src
        self.name = name
        self.mode = mode
        self.functions = functions
        self.vars: list[tuple[str, Any]] = [("$", root)]
        self.out: list[str] = []

    def fail(self, node: _Node, message: str) -> _GoError:
        before = self.src[: node.pos].encode()
        newline = before.rfind(b"\n")
        column = len(before) if newline < 0 else len(before) - newline - 1
        line = before.count(b"\n") + 1
        return _GoError(
            f"template: {self.name}:{line}:{column}: executing {json.dumps(self.name)} "
            f"at <{node}>: {message}",
            parsing=False,
        )

    def run(self, nodes: list[_Node], dot: Any) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                self.out.append(node.text)
            elif isinstance(node, _Action):
                value = self.pipe(node.pipe, dot)
                if not node.pipe.decl:
                    self.out.append(self.printable(node, value))
            elif isinstance(node, _Branch):
                mark = len(self.vars)
                try:
                    self.branch(node, dot)
                finally:
                    del self.vars[mark:]
            elif isinstance(node, _Jump):
                raise _Break() if node.kind == "break" else _Continue()

    def printable(self, node: _Node, value: Any) -> str:
        return go_string(value)

    def branch(self, node: _Branch, dot: Any) -> None:
        if node.kind == "range":
            self.range(node, dot)
            return
        value = self.pipe(node.pipe, dot)
        if _truth(value):
            self.run(node.body, value if node.kind == "with" else dot)
        else:
            self.run(node.orelse, dot)

    def range(self, node: _Branch, dot: Any) -> None:
        decl = node.pipe.decl
        value = self.pipe(_Pipe(node.pipe.pos, [], False, node.pipe.cmds), dot)
        if isinstance(value, list):
            items: list[tuple[Any, Any]] = list(enumerate(value))
        elif isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or isinstance(value, GoNil | _Missing):
            items = []
        else:
            raise self.fail(node.pipe, f"range can't iterate over {go_string(value)}")
        if not items:
            self.run(node.orelse, dot)
            return
        mark = len(self.vars)
        for key, item in items:
            del self.vars[mark:]
            if len(decl) == 1:
                self.vars.append((decl[0], item))
            elif len(decl) == 2:
                self.vars.extend([(decl[0], key), (decl[1], item)])
            try:
                self.run(node.body, item)
            except _Break:
                break
            except _Continue:
                continue

    def pipe(self, pipe: _Pipe, dot: Any) -> Any:
        value: Any = _NOTHING
        for cmd in pipe.cmds:
            value = self.command(cmd, dot, value)
        for name in pipe.decl:
            if pipe.assign:
                for i in range(len(self.vars) - 1, -1, -1):
                    if self.vars[i][0] == name:
                        self.vars[i] = (name, value)
                        break
            else:
                self.vars.append((name, value))
        return value

    def command(self, cmd: _Command, dot: Any, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _Identifier):
            return self.call(cmd, first.name, cmd.args[1:], dot, final)
        if isinstance(first, _Field | _Variable | _Chain) and (
            len(cmd.args) > 1 or final is not _NOTHING
        ):
            return self.method(cmd, first, dot, final)
        if len(cmd.args) > 1 or final is not _NOTHING:
            raise self.fail(first, f"can't give argument to non-function {first}")
        return self.arg(first, dot)

    def call(self, cmd: _Command, name: str, nodes: list[_Node], dot: Any, final: Any) -> Any:
        if name in ("and", "or"):
            # Go evaluates and/or lazily, stopping at the first false/true argument.
            values: list[Any] = []
            for node in nodes:
                values.append(self.arg(node, dot))
                if _truth(values[-1]) != (name == "and"):
                    return values[-1]
            if final is not _NOTHING:
                values.append(final)
            if not values:
                raise self.fail(cmd, f"wrong number of args for {name}: want at least 1 got 0")
            return values[-1]
        args = [self.arg(node, dot) for node in nodes]
        if final is not _NOTHING:
            args.append(final)
        self.check_args(cmd, name, nodes, args)
        try:
            return self.functions[name](*args)
        except TypeError:
            raise self.fail(cmd, f"wrong number of args for {name}: got {len(args)}") from None
        except _GoError as exc:
            raise self.fail(cmd, f"error calling {name}: {exc.message}") from None

    def check_args(self, cmd: _Command, name: str, nodes: list[_Node], args: list[Any]) -> None:
        """Go checks a function's arguments against its signature before calling it."""
        params = _PARAMS.get(name)
        if params is None:
            return
        variadic = params[-1:] == ("...",)
        fixed = params[:-1] if variadic else params
        if len(args) < len(fixed) or (not variadic and len(args) > len(fixed)):
            want = f"at least {len(fixed)}" if variadic else str(len(fixed))
            raise self.fail(cmd, f"wrong number of args for {name}: want {want} got {len(args)}")
        for i, (param, value) in enumerate(zip(fixed, args, strict=False)):
            expected = {"string": str, "int": int}.get(param)
            if expected is None or (isinstance(value, expected) and not isinstance(value, bool)):
                continue
            at = nodes[i] if i < len(nodes) else cmd
            if isinstance(at, _Literal):
                raise self.fail(at, f"expected {param}; found {at}")
            raise self.fail(at, f"wrong type for value; expected {param}; got {_go_type(value)}")

    def method(self, cmd: _Command, node: _Node, dot: Any, final: Any) -> Any:
        """`.Label "key"`: the only method a row has that takes arguments."""
        names = node.names if isinstance(node, _Field | _Variable | _Chain) else ()
        receiver = self.arg(_strip_last(node), dot) if names else dot
        args = [self.arg(a, dot) for a in cmd.args[1:]]
        if final is not _NOTHING:
            args.append(final)
        name = names[-1] if names else ""
        if name == "Label" and isinstance(receiver, Row | Header):
            if len(args) != 1:
                raise self.fail(node, f"wrong number of args for Label: want 1 got {len(args)}")
            key = _want_str(args[0], "Label")
            if isinstance(receiver, Header):
                return key.split(".")[-1].replace("-", " ").replace("_", " ")
            return receiver.labels.get(key, "")
        if isinstance(receiver, dict) and not isinstance(receiver, Row):
            raise self.fail(node, f"{name} is not a method but has arguments")
        self.field(node, receiver, name, last=True)
        raise self.fail(node, f"{name} has arguments but cannot be invoked as function")

    def arg(self, node: _Node, dot: Any) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Field):
            return self.chain(node, dot, node.names)
        if isinstance(node, _Variable):
            for name, value in reversed(self.vars):
                if name == node.name:
                    return self.chain(node, value, node.names)
            raise self.fail(node, f'undefined variable "{node.name}"')
        if isinstance(node, _Chain):
            return self.chain(node, self.arg(node.node, dot), node.names)
        if isinstance(node, _Pipe):
            mark = len(self.vars)
            try:
                return self.pipe(node, dot)
            finally:
                del self.vars[mark:]
        if isinstance(node, _Identifier):
            return self.call(_Command(node.pos, [node]), node.name, [], dot, _NOTHING)
        raise self.fail(node, "can't evaluate")

    def chain(self, node: _Node, value: Any, names: tuple[str, ...]) -> Any:
        parent = ""
        for i, name in enumerate(names):
            value = self.field(node, value, name, last=i == len(names) - 1, parent=parent)
            parent = name
        return value

    def field(self, node: _Node, value: Any, name: str, *, last: bool, parent: str = "") -> Any:
        kind = self.mode.kind
        if isinstance(value, Header):
            if name == "Label":
                raise self.fail(node, "wrong number of args for Label: want 1 got 0")
            return value.get(name, MISSING)
        if isinstance(value, Row):
            if name in value:
                return value[name]
            if name == "Label":
                raise self.fail(node, "wrong number of args for Label: want 1 got 0")
            raise self.fail(node, f"can't evaluate field {name} in type {value.go_type}")
        if isinstance(value, dict):
            if name not in value and kind == "typed":
                name = next((key for key in value if key.lower() == name.lower()), name)
            if name in value:
                found = value[name]
                return _typed_nil(name) if found is None else found
            if last and (name in _MAPS or name in _POINTERS):
                return _typed_nil(name)  # left out of the JSON, a typed nil in the CLI
            if parent in _GO_MAPS:
                return MISSING  # a Go map (Labels, Networks): a missing key is no error
            if kind == "typed":
                root = self.vars[0][1]
                typename = (
                    self.mode.root_type
                    if value is root
                    else "*types.Version"
                    if value is root.get("Server") and "Client" in root
                    else "interface {}"
                )
                raise self.fail(node, f"can't evaluate field {name} in type {typename}")
            raise self.fail(node, f'map has no entry for key "{name}"')
        if value is None or isinstance(value, GoNil):
            raise self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
        if value is MISSING:
            raise self.fail(node, f'nil data; no entry for key "{name}"')
        typename = "interface {}" if kind != "listing" else _go_type(value)
        raise self.fail(node, f"can't evaluate field {name} in type {typename}")


_NOTHING = object()


def _strip_last(node: _Node) -> _Node:
    if isinstance(node, _Field):
        return _Field(node.pos, node.names[:-1])
    if isinstance(node, _Variable):
        return _Variable(node.pos, node.name, node.names[:-1])
    assert isinstance(node, _Chain)
    return _Chain(node.pos, node.node, node.names[:-1]) if len(node.names) > 1 else node.node


# --------------------------------------------------------------------------------------
# What the verbs call.


def _parse(template: str, name: str = "") -> list[_Node]:
    return _Parser(template, name, _NAMES).parse()


def _execute(
    nodes: list[_Node],
    template: str,
    data: Any,
    mode: _Mode,
    name: str = "",
    functions: dict[str, Callable[..., Any]] = FUNCTIONS,
) -> str:
    executor = _Executor(template, name, mode, functions, data)
    with contextlib.suppress(_Break, _Continue):
        executor.run(nodes, data)
    return "".join(executor.out)


def render(template: str, obj: Any, *, go_names: bool = False) -> str:
    """One object through a template. inspect (the default) reads the raw JSON, where a
    missing key is an error; `go_names`: version and info, which the CLI evaluates over
    typed structs whose Go field names may differ from the JSON keys in case
    (.Server.APIVersion is "ApiVersion")."""
    if go_names:
        version = "Server" in obj and "Client" in obj
        name = "version" if version else ""
        mode = _Mode("typed", "system.versionInfo" if version else "system.dockerInfo")
        try:
            nodes = _parse(template, name)
        except _GoError as exc:
            raise TemplateError(f"template parsing error: {exc.message}", exit_status=64) from None
        try:
            return _execute(nodes, template, obj, mode, name)
        except _GoError as exc:
            raise TemplateError(exc.message) from None
    try:
        return _execute(_parse(template), template, obj, _Mode("raw"))
    except _GoError as exc:
        raise TemplateError(
            f"template parsing error: {exc.message}", exit_status=64 if exc.parsing else 1
        ) from None


def render_typed(template: str, obj: Any, root_type: str) -> str:
    """One object through a template the CLI evaluates over a Go struct of type `root_type`
    (`*events.Message`): field names as Go has them, matched to the JSON keys whatever
    their case (.TimeNano is "timeNano")."""
    try:
        nodes = _parse(template)
    except _GoError as exc:
        raise TemplateError(exc.message, exit_status=64) from None
    try:
        return _execute(nodes, template, obj, _Mode("typed", root_type))
    except _GoError as exc:
        raise TemplateError(exc.message) from None


def listing_template(format: str | None, quiet: bool) -> str | None:
    """The user's template, or None where the CLI prints its own table or, with -q, the
    IDs alone (-q wins over any --format, as in docker 28)."""
    if quiet or not format or format.strip() == "table":
        return None
    return format


# Which CLI struct a listing's rows are, told by its headers (the CLI names the type in
# "can't evaluate field X in type T").
_LISTING_TYPES = [
    (
        "Command",
        "*formatter.ContainerContext",
        "failed to parse template: ",
        "failed to execute template: ",
    ),
    (
        "Repository",
        "*formatter.imageContext",
        "template parsing error: ",
        "template parsing error: ",
    ),
    ("CreatedBy", "*image.historyContext", "template parsing error: ", "template parsing error: "),
    ("IPv6", "*network.networkContext", "template parsing error: ", "template parsing error: "),
    (
        "Mountpoint",
        "*formatter.volumeContext",
        "template parsing error: ",
        "template parsing error: ",
    ),
    (
        "Reclaimable",
        "*formatter.diskUsageImagesContext",
        "template parsing error: ",
        "template parsing error: ",
    ),
]


def _listing_kind(headers: dict[str, str]) -> tuple[str, str, str]:
    for key, go_type, parse_prefix, exec_prefix in _LISTING_TYPES:
        if key in headers:
            return go_type, parse_prefix, exec_prefix
    return "*formatter.Context", "template parsing error: ", "template parsing error: "


def cli_format(template: str) -> str:
    """The template the CLI's listings execute: `table` taken off, spaces trimmed, and the
    two-character `\\t` and `\\n` turned into a tab and a newline (inspect keeps them)."""
    if template == "json":
        return "{{json .}}"
    body = template.removeprefix("table")
    return body.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


def render_listing(template: str, rows: list[Row], headers: dict[str, str]) -> list[str]:
    """`ps`/`images`/... `--format`: `json` (an object a line), `table TEMPLATE` (a header
    row, columns aligned as the CLI's tabwriter does) or a template a row."""
    go_type, parse_prefix, exec_prefix = _listing_kind(headers)
    if template == "json":
        return [_go_json(row) for row in rows]
    body = cli_format(template)
    try:
        nodes = _parse(body)
    except _GoError as exc:
        raise TemplateError(parse_prefix + exc.message) from None
    rendered = []
    for row in rows:
        row.go_type = go_type
        try:
            rendered.append(_execute(nodes, body, row, _Mode("listing")))
        except _GoError as exc:
            raise TemplateError(exec_prefix + exc.message) from None
    if not template.startswith("table"):
        return rendered
    header = _header(nodes, body, Header(headers))
    return align_columns("\n".join([header, *rendered]).split("\n"))


def _header(nodes: list[_Node], body: str, headers: Header) -> str:
    """The header row: the same template over the column names; the CLI ignores an error
    here and keeps what was printed before it."""
    executor = _Executor(body, "", _Mode("listing"), HEADER_FUNCTIONS, headers)
    with contextlib.suppress(_GoError, _Break, _Continue):
        executor.run(nodes, headers)
    return "".join(executor.out)


def align_columns(lines: list[str], *, min_width: int = 10, padding: int = 3) -> list[str]:
    """text/tabwriter as the CLI sets it for tables (min width 10, padding 3; `version` uses
    20 and 1) with spaces: a column block is a run
    of consecutive lines that have a tab-ended cell in that column, padded to its widest
    cell; the text after a line's last tab is not part of any column."""
    cells = [line.split("\t") for line in lines]
    widths: list[int] = []
    out: list[str] = []

    def write(line0: int, line1: int) -> None:
        for row in cells[line0:line1]:
            out.append(
                "".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(row))
            )

    def block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(cells[this]) - 1:
                this += 1
                continue
            write(line0, this)
            line0 = this
            width = min_width
            while this < line1 and column < len(cells[this]) - 1:
                width = max(width, len(cells[this][column]) + padding)
                this += 1
            widths.append(width)
            block(line0, this)
            widths.pop()
            line0 = this
        write(line0, line1)

    block(0, len(cells))
    return out
