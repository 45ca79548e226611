"""How long `ps -a` takes through Dockhand's handler for 300 containers, beside the docker CLI
and docker-py's high-level list (which inspects each container), on one private engine.

Prints the figures and writes them to docs/bench-ps.md. Run: python3 bench/ps_listing.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import publish
from bot.parser import parse
from handlers import run_handler
from tests.rig import Rig

CONTAINERS = 300
ROUNDS = 15


def timed(fn: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    return common.timed(fn, rounds)


def main() -> int:
    rig = Rig()
    try:
        engine = rig.engine()
        engine.import_busybox()
        engine.create_containers(CONTAINERS)
        api = engine.client().api
        requests: list[str] = []
        api.hooks["response"].append(lambda r, *a, **k: requests.append(r.request.url))
        command = parse("ps -a")

        def dockhand() -> object:
            return run_handler(command, engine.client())

        requests.clear()
        result = dockhand()
        per_call = len(requests)
        assert len(result.containers) == CONTAINERS  # type: ignore[attr-defined]
        figures = {
            "dockhand handler (ps -a)": timed(dockhand),
            "dockhand handler + table": timed(lambda: dockhand().table()),  # type: ignore[attr-defined]
            "docker ps -a (CLI process)": timed(lambda: engine.cli("ps", "-a")),
            "docker-py containers.list(all=True)": timed(
                lambda: engine.client().containers.list(all=True), rounds=3
            ),
        }
        requests.clear()
        engine.client().containers.list(all=True)
        high_level = len(requests)
    finally:
        rig.stop()
    cli_version = subprocess.run(["docker", "--version"], capture_output=True, text=True).stdout
    lines = [
        f"# ps -a over {CONTAINERS} containers",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by bench/ps_listing.py on a private dockerd "
        f"(median and best of {ROUNDS} rounds; docker-py high-level: 3 rounds). "
        f"{cli_version.strip()}.",
        "",
        "| what | median ms | best ms | Engine API requests |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (median, best) in figures.items():
        shown = "not counted"
        if name.startswith("dockhand"):
            shown = str(per_call)
        elif "docker-py" in name:
            shown = str(high_level)
        lines.append(f"| {name} | {median:.1f} | {best:.1f} | {shown} |")
    text = "\n".join(lines) + "\n"
    publish("bench-ps.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
