"""How long `dockhand do version` takes from a cold process, beside `python -c pass` and the
docker CLI's `docker version`, against a private engine; and where its imports go
(`python -X importtime`).

Writes docs/bench-startup.md. Run: python3 bench/startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish
from tests.rig import Rig

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0
#: what the `dockhand` console script runs (pip's entry point), spelled out so this checkout's
#: code is timed whatever `dockhand` on PATH points at
DOCKHAND = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def timed(argv: list[str], env: dict[str, str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) time of each run, in ms. The CPU time is what the
    command costs whatever else the machine runs; the wall time is what a person waits."""
    walls, cpus = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=REPO, check=True, capture_output=True)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return walls, cpus


def import_profile(env: dict[str, str]) -> tuple[float, list[tuple[str, float]]]:
    """Total import time of `do version` and its biggest top-level imports, in ms."""
    answer = subprocess.run(
        [*DOCKHAND[:1], "-X", "importtime", *DOCKHAND[1:], "do", "version"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    top: list[tuple[str, float]] = []
    for line in answer.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        # "import time:  SELF | CUMULATIVE | NAME", NAME indented two spaces per level
        _, cumulative, name = line.split("|")
        if name.startswith("  "):
            continue  # imported by another import: counted in that one's cumulative time
        top.append((name.strip(), int(cumulative) / 1000))
    return sum(ms for _, ms in top), sorted(top, key=lambda t: -t[1])


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--rounds", type=int, default=15)
    args = options.parse_args()
    docker = shutil.which("docker")
    load_before = os.getloadavg()[0]
    rig = Rig()
    try:
        engine = rig.engine()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": str(REPO),
            "DOCKER_HOST": engine.url,
        }
        subprocess.run([*DOCKHAND, "do", "version"], env=env, cwd=REPO, check=True)  # warm
        figures = {
            "python -c pass": timed([sys.executable, "-c", "pass"], env, args.rounds),
            "python -c 'import bot.cli'": timed(
                [sys.executable, "-c", "import bot.cli"], env, args.rounds
            ),
            "dockhand do version": timed([*DOCKHAND, "do", "version"], env, args.rounds),
        }
        if docker is not None:
            figures["docker version (CLI)"] = timed([docker, "version"], env, args.rounds)
        imports_ms, top = import_profile(env)
    finally:
        rig.stop()

    do_median = statistics.median(figures["dockhand do version"][0])
    rows = [
        f"| {name} | {statistics.median(walls):.0f} | {min(walls):.0f} | {max(walls):.0f} | "
        f"{statistics.median(cpus):.0f} |"
        for name, (walls, cpus) in figures.items()
    ]
    text = "\n".join(
        [
            "# Start-up: `dockhand do version`",
            "",
            f"Measured {time.strftime('%Y-%m-%d %H:%M')} UTC by bench/startup.py on this 2-core "
            "machine (shared with other sessions while it ran): wall time of a cold process, "
            f"{args.rounds} runs each, against a private dockerd, no REDIS_URL. `dockhand` is "
            "run as its console script does (`from bot.cli import main`), with this "
            "checkout's code. The machine's load average (1 min) was "
            f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after: read the CPU "
            "column, which the other sessions' load changes least.",
            "",
            f"Target: `dockhand do version` under {TARGET_MS:.0f} ms. "
            f"Median now: {do_median:.0f} ms "
            f"({'within' if do_median < TARGET_MS else 'over'} the target).",
            "",
            "| command | median ms | best ms | worst ms | CPU ms (median) |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            f"Imports of `do version` (`python -X importtime`, which itself slows them): "
            f"{imports_ms:.0f} ms in all; the largest at the top level:",
            "",
            "| module | cumulative ms |",
            "| --- | ---: |",
            *[f"| {name} | {ms:.1f} |" for name, ms in top[:12]],
            "",
        ]
    )
    publish("bench-startup.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
