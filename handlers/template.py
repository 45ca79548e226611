"""`--format` templates: the Go-template field paths people use, evaluated safely.

Supported: literal text, `{{.Field.Path}}` (also `{{ .Config.Cmd }}`), `{{json .X}}`,
`{{upper .X}}`, `{{lower .X}}`, `{{index .X "key"}}`, `{{len .X}}`, `{{.}}`. Nothing here
executes code: a template only walks the inspected object.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from handlers.errors import UsageError

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_PATH = re.compile(r"^\.([A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*)?$")
FUNCTIONS = ("json", "upper", "lower", "index", "len", "title", "join")


def render(template: str, obj: Any, *, go_names: bool = False) -> str:
    """`go_names`: the CLI evaluates this template over a typed struct (version, info),
    whose Go field names may differ from the JSON keys in case: .Server.APIVersion is
    "ApiVersion". inspect works on the raw JSON, where keys are exact."""
    out, pos = [], 0
    for match in _ACTION.finditer(template):
        out.append(template[pos : match.start()])
        out.append(_evaluate(match.group(1), obj, template, go_names))
        pos = match.end()
    rest = template[pos:]
    if "{{" in rest or "}}" in rest:
        raise UsageError(f"template parsing error: unclosed action in {template!r}", token=template)
    out.append(rest)
    return "".join(out)


def _evaluate(action: str, obj: Any, template: str, go_names: bool) -> str:
    try:
        words = shlex.split(action)
    except ValueError:
        raise UsageError(f"template parsing error: {action!r}", token=template) from None
    if not words:
        raise UsageError("template parsing error: empty action", token=template)
    if len(words) == 1:
        found, value = _lookup(words[0], obj, template, go_names)
        return go_string(value) if value is not None else _empty(words[0], found)
    func, args = words[0], words[1:]
    if func == ".Label" and isinstance(obj, Row):
        return obj.labels.get(args[0], "")  # ps's {{.Label "key"}}: "" when it has none
    if func not in FUNCTIONS:
        raise UsageError(
            f'template: function "{func}" not defined (supported: {", ".join(FUNCTIONS)})',
            token=func,
        )
    value = _lookup(args[0], obj, template, go_names)[1]
    if func == "json":
        return json.dumps(value, separators=(",", ":"))
    if func == "upper":
        return go_string(value).upper()
    if func == "lower":
        return go_string(value).lower()
    if func == "title":
        return go_string(value).title()
    if func == "len":
        return str(len(value)) if hasattr(value, "__len__") else "0"
    if func == "join":
        sep = args[1] if len(args) > 1 else " "
        return sep.join(go_string(v) for v in value or [])
    key = args[1] if len(args) > 1 else ""
    if isinstance(value, dict):
        return go_string(value.get(key))
    if isinstance(value, list) and key.isdigit() and int(key) < len(value):
        return go_string(value[int(key)])
    return "<no value>"


def _lookup(path: str, obj: Any, template: str, go_names: bool) -> tuple[bool, Any]:
    """Whether the path is in the object, and its value."""
    if not _PATH.match(path):
        raise UsageError(
            f"template: cannot evaluate {path!r} (use a field path like .Config.Cmd)", token=path
        )
    value = obj
    for part in path.strip(".").split(".") if path != "." else []:
        if not isinstance(value, dict):
            raise UsageError(f"template: can't evaluate field {part} in {path}", token=path)
        if part not in value and go_names:
            part = next((key for key in value if key.lower() == part.lower()), part)
        if part not in value:
            return False, None
        value = value[part]
    return True, value


# The Engine's JSON has null (or leaves out) what Go holds as a nil slice, map or pointer;
# the CLI decodes into typed structs and prints those as `[]`, `map[]` and `<nil>`.
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


def _empty(path: str, found: bool) -> str:
    name = path.rsplit(".", 1)[-1]
    if name in _POINTERS:
        return "<nil>"
    if not found:
        return "<no value>"  # a key a map does not have, as Go prints it
    return "map[]" if name in _MAPS else "[]"


def go_string(value: Any) -> str:
    """How Go's text/template prints a decoded JSON value."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Row(dict[str, Any]):
    """A listing row's fields, and the labels `{{.Label "key"}}` reads (not a field)."""

    def __init__(self, fields: dict[str, Any], labels: dict[str, str] | None = None) -> None:
        super().__init__(fields)
        self.labels = labels or {}


def listing_template(format: str | None, quiet: bool) -> str | None:
    """The user's template, or None where the CLI prints its own table or, with -q, the
    IDs alone (-q wins over any --format, as in docker 28)."""
    if quiet or not format or format.strip() == "table":
        return None
    return format


def render_listing(template: str, rows: list[Row], headers: dict[str, str]) -> list[str]:
    """`ps`/`images --format`: `json` (an object a line), `table TEMPLATE` (a header row,
    columns aligned at tabs as the CLI's tabwriter does) or a template a row."""
    if template.strip() == "json":
        return [_go_json(row) for row in rows]
    if template.startswith("table"):
        body = template.removeprefix("table").lstrip(" ")
        lines = [render(body, headers)] + [render(body, row) for row in rows]
        return align_columns(lines)
    return [render(template, row) for row in rows]


def _go_json(value: Any) -> str:
    # Go's encoder writes <, > and & as \u escapes; the CLI's JSON lines carry them so.
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def align_columns(lines: list[str]) -> list[str]:
    """text/tabwriter as the CLI sets it (min width 10, padding 3): every tab-ended cell
    padded to its column's width; the text after a line's last tab is left as it is."""
    cells = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 10), len(cell) + 3)
    return ["".join(c.ljust(widths[i]) for i, c in enumerate(row[:-1])) + row[-1] for row in cells]
