"""The command reference, generated from the parser: docs/commands.md is this module's output
(`dockhand reference > docs/commands.md`), and a test fails when the two differ."""

from __future__ import annotations

import argparse

from bot.argparsing import PROG
from bot.specs import SPECS


def _flags(action: argparse.Action) -> str:
    names = ", ".join(f"`{o}`" for o in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or action.dest.upper()
    return f"{names} `{metavar}`"


def render_reference() -> str:
    lines = [
        "# Dockhand command reference",
        "",
        "Generated from the parser by `dockhand reference`; do not edit by hand.",
        "What you type after `/docker` (or at the `dockhand console` prompt). A global",
        "`-H NAME` before the command picks a configured engine.",
        "",
    ]
    for spec in SPECS:
        parser = spec.parser()
        lines += [
            f"## {spec.path}",
            "",
            spec.summary + ".",
            "",
            "```",
            f"{PROG} {spec.path} {spec.usage}".rstrip(),
            "```",
            "",
        ]
        if spec.aliases:
            lines += ["Aliases: " + ", ".join(f"`{a}`" for a in spec.aliases), ""]
        options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
        if options:
            lines += ["| option | meaning |", "| --- | --- |"]
            for action in options:
                meaning = (action.help or "").replace("|", "\\|")
                lines.append(f"| {_flags(action)} | {meaning} |")
            lines.append("")
    return "\n".join(lines)
