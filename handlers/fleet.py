"""Fan-out reads: one read asked of many engines at once (`-H all`, `-H 'prod-*'`), each host
in parallel with its own deadline, the answers merged into one table with a HOST column. A
host that fails or is late is one row with its error; it never holds the others up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from fnmatch import fnmatchcase

from pydantic import BaseModel, SerializeAsAny

from config.hosts import FLEET
from handlers.errors import DockhandError, UsageError
from handlers.results import (
    EngineInfo,
    EngineVersion,
    FormattedResult,
    Result,
    Table,
)

log = logging.getLogger("dockhand.fleet")

#: the reads that may be asked of many hosts at once; changes go to one host at a time
FANOUT_VERBS = frozenset(
    {
        "container:ls",
        "image:ls",
        "system:df",
        "system:info",
        "system:version",
        "container:stats",
        "system:events",
    }
)
#: the mark of a row that is a host's error (renderers may colour it)
ERROR_MARK = "error"
_GLOB = set("*?[")


def is_selector(host: str) -> bool:
    """`all`, or a glob over host names: many hosts, not one."""
    return host == FLEET or bool(_GLOB & set(host))


def select_hosts(selector: str, names: Sequence[str]) -> list[str]:
    """The configured hosts a selector names, in configured order."""
    if selector == FLEET:
        return list(names)
    chosen = [name for name in names if fnmatchcase(name, selector)]
    if not chosen:
        known = ", ".join(f"`{name}`" for name in names)
        raise UsageError(
            f"no configured host matches `{selector}`; configured: {known}", token=selector
        )
    return chosen


def check_fanout(verb: str, selector: str) -> None:
    if verb not in FANOUT_VERBS:
        raise UsageError(
            f"`-H {selector}` is for reads (ps, images, system df, info, stats, version, "
            f"events); `{verb}` runs on one host at a time: give its name",
            token=selector,
        )


class HostAnswer(BaseModel):
    """One host's part: its result, or why there is none."""

    host: str
    result: SerializeAsAny[Result] | None = None
    error: str = ""
    seconds: float = 0.0


def fan_out(
    hosts: Sequence[str],
    ask: Callable[[str], Result],
    deadline_of: Callable[[str], float],
) -> list[HostAnswer]:
    """Ask every host at once; each gets `deadline_of(host)` seconds from the start. A host
    that is late is answered for (its thread finishes on its own, bounded by the engine
    client's own timeout), so one slow engine never holds the reply."""
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, len(hosts)), thread_name_prefix="dockhand-fan")

    def timed(host: str) -> tuple[Result, float]:
        began = time.monotonic()
        result = ask(host)
        return result, time.monotonic() - began

    try:
        futures = [(host, pool.submit(timed, host)) for host in hosts]
        answers = []
        for host, future in futures:
            limit = deadline_of(host)
            left = max(0.0, started + limit - time.monotonic())
            try:
                result, seconds = future.result(timeout=left)
                answers.append(HostAnswer(host=host, result=result, seconds=seconds))
            except FutureTimeout:
                answers.append(
                    HostAnswer(host=host, error=f"no answer within {limit:g} s", seconds=limit)
                )
            except DockhandError as exc:
                spent = time.monotonic() - started
                answers.append(HostAnswer(host=host, error=exc.message, seconds=spent))
            except Exception:
                log.exception("fan-out to %s failed", host)
                spent = time.monotonic() - started
                answers.append(
                    HostAnswer(host=host, error="unexpected error (logged)", seconds=spent)
                )
        return answers
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class FleetResult(Result):
    """The same read from several hosts, merged: one table with a HOST column first."""

    verb: str
    answers: list[HostAnswer]

    def summary(self) -> str:
        failed = [a.host for a in self.answers if a.error]
        parts = [f"{len(self.answers)} hosts"]
        if failed:
            parts.append(f"{len(failed)} failed ({', '.join(failed)})")
        for answer in self.answers:
            if answer.result is not None and answer.result.summary():
                parts.append(f"{answer.host}: {answer.result.summary()}")
        return "; ".join(parts)

    def table(self) -> Table:
        columns: list[str] | None = None
        parts: list[tuple[HostAnswer, Table | None]] = []
        for answer in self.answers:
            table = _table_of(answer.result) if answer.result is not None else None
            if table is not None and columns is None:
                columns = table.columns
            parts.append((answer, table))
        columns = columns or ["ERROR"]
        rows: list[list[str]] = []
        marks: list[str] = []
        for answer, table in parts:
            if table is None:
                # One row: the host, and its error in the last column where its width
                # cannot push the other columns apart.
                error = answer.error or "no answer"
                rows.append([answer.host, *([""] * (len(columns) - 1)), error])
                marks.append(ERROR_MARK)
                continue
            for n, row in enumerate(table.rows):
                rows.append([answer.host, *_fit(row, len(columns))])
                marks.append(table.marks[n] if n < len(table.marks) else "")
        return Table(columns=["HOST", *columns], rows=rows, marks=marks)

    def body(self) -> str:
        lines = []
        for answer in self.answers:
            if answer.result is None or printed_lines(answer.result) is not None:
                continue
            lines += [f"{answer.host}: {line}" for line in answer.result.body().splitlines()]
        return "\n".join(lines)

    def failed(self) -> bool:
        return any(a.error for a in self.answers)


def printed_lines(result: Result) -> list[str] | None:
    """The lines the CLI would print, for a result that is such lines (a --format's, the
    events', a port listing's): under a fan-out they are the rows, not the body."""
    if isinstance(result, FormattedResult):
        return result.lines
    lines = getattr(result, "lines", None)
    if (
        isinstance(lines, list)
        and result.table() is None
        and all(isinstance(x, str) for x in lines)
    ):
        return lines
    return None


def _fit(row: list[str], width: int) -> list[str]:
    return (row + [""] * width)[:width]


def _table_of(result: Result) -> Table | None:
    """A host's answer as rows: its own table; one row of the main facts for version and
    info (the columns an engineer compares across hosts); a --format's lines as they are."""
    if isinstance(result, EngineVersion):
        return Table(
            columns=["VERSION", "API VERSION", "OS/ARCH", "KERNEL", "GO VERSION"],
            rows=[
                [
                    result.version,
                    result.api_version,
                    f"{result.os}/{result.arch}",
                    result.kernel_version,
                    result.go_version,
                ]
            ],
        )
    if isinstance(result, EngineInfo):
        return Table(
            columns=[
                "NAME",
                "SERVER VERSION",
                "CONTAINERS",
                "RUNNING",
                "PAUSED",
                "STOPPED",
                "IMAGES",
                "CPUS",
                "STORAGE DRIVER",
            ],
            rows=[
                [
                    result.name,
                    result.server_version,
                    str(result.containers),
                    str(result.running),
                    str(result.paused),
                    str(result.stopped),
                    str(result.images),
                    str(result.cpus),
                    result.storage_driver,
                ]
            ],
        )
    if printed_lines(result) is not None:
        return Table(columns=["OUTPUT"], rows=[[line] for line in printed_lines(result) or []])
    table = result.table()
    if table is not None:
        return table
    facts = result.facts()
    if facts:
        return Table(columns=[k.upper() for k, _ in facts], rows=[[v for _, v in facts]])
    # A prune, a health pass: its summary is the row; its details are the message's body.
    return Table(columns=["RESULT"], rows=[[result.summary()]])
