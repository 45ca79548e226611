"""The docker CLI's units (github.com/docker/go-units): human durations and sizes."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

# Sizes in the policy file are read by config, which sits below handlers: the parser lives
# there and is re-exported here for the CLI's own options (-m, --shm-size, tmpfs size).
from config.units import ram_in_bytes as ram_in_bytes

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: what `docker ps` prints in CREATED and STATUS."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = math.floor(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def human_size(size: float, precision: int = 4) -> str:
    """go-units HumanSizeWithPrecision: decimal units, `%.*g` formatting."""
    unit = 0
    while size >= 1000 and unit < len(_DECIMAL) - 1:
        size /= 1000
        unit += 1
    return f"{size:.{precision}g}{_DECIMAL[unit]}"


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def go_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: `30s`, `1m30s`, `500ms`, `-1h`."""
    raw = text.strip()
    sign, body = (-1, raw[1:]) if raw.startswith("-") else (1, raw.removeprefix("+"))
    if body == "0":
        return 0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _NANOS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * round(total)


def nano_cpus(text: str) -> int:
    """`--cpus 0.5` as NanoCpus (500000000), the way the CLI's decimal parser reads it."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"failed to parse {text} as a rational number") from None
    if not value.is_finite():
        raise ValueError(f"failed to parse {text} as a rational number")
    nanos = value * 10**9
    if nanos != nanos.to_integral_value():
        raise ValueError("value is too precise")
    return int(nanos)


def point_in_time(text: str) -> float:
    """The CLI's `--since`/`--until`/`until=` values as unix seconds: a Go duration before
    now (`42m`), a unix time (`1700000000.5`), or an RFC 3339 time (the engine's own
    timestamps carry nanoseconds; Python reads microseconds)."""
    try:
        return time.time() - go_duration(text) / 1e9
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    stamp = text.strip()
    if stamp.endswith("Z"):
        stamp = stamp[:-1] + "+00:00"
    date, dot, rest = stamp.partition(".")
    if dot:  # cut the fraction to 6 digits, keep the zone
        digits = len(rest) - len(rest.lstrip("0123456789"))
        stamp = f"{date}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a duration (42m), a unix time or an RFC 3339 time"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def go_time(moment: datetime, fraction: str = "") -> str:
    """Go's time.Time.String() in the local zone: `2026-11-28 09:53:24.001110307 +0000 UTC`
    (`fraction`: the digits after the second, trailing zeros cut; none for whole seconds)."""
    local = moment.astimezone()
    second = f".{fraction}" if fraction else ""
    return local.strftime("%Y-%m-%d %H:%M:%S") + second + local.strftime(" %z %Z")


def go_time_text(stamp: str) -> str:
    """An Engine RFC 3339 time as Go's time.Time.String() writes it, nanoseconds kept."""
    whole, _, rest = stamp.partition(".")
    digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(digits) :] if rest else whole[19:]
    moment = datetime.fromisoformat(whole[:19] + (zone.replace("Z", "+00:00") or "+00:00"))
    return go_time(moment, digits.rstrip("0"))
