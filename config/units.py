"""Sizes as the docker CLI spells them (go-units RAMInBytes), for the policy file and for
handlers alike: config sits below handlers, so the one parser lives here."""

from __future__ import annotations

import re

_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_BINARY = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: `-m 256m`, `512k`, `1g`, `1.5GB` are binary multiples."""
    match = _RAM.match(text.strip())
    if not match:
        raise ValueError(f"invalid size: '{text}'")
    number, unit = match.group(1), (match.group(2) or "").lower()
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"invalid size: '{text}'") from None
    return int(value * _BINARY[unit])
