"""What the default-deny safety check costs a `create`, on an engine that already runs 300
containers (the overlap rule reads every container's mounts: one listing, not one request
each), beside the same create with no check and the docker CLI's own.

Prints the figures and writes them to docs/bench-safety.md. Run: python3 bench/safety_check.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import publish
from bot.parser import parse
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import load_policy
from handlers import run_handler
from handlers.engines import Engines
from tests.rig import TEST_IMAGE, Rig

CONTAINERS = 300
ROUNDS = 15
OPERATOR = Requester("U_OP", "C1")


def timed(fn: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    return common.timed(fn, rounds)


def main() -> int:
    rig = Rig()
    allowed = Path(tempfile.mkdtemp(prefix="dh-bench-allowed-"))
    try:
        engine = rig.engine()
        engine.import_busybox()
        engine.create_containers(CONTAINERS)
        engine.cli("volume", "create", "data")
        policy_file = allowed / "policy.yml"
        policy_file.write_text(
            "bindings:\n  - {role: operator, users: [U_OP]}\n"
            f"guards:\n  bind_paths: [{allowed}]\n  allow: {{namespace_sharing: true}}\n"
        )
        pipeline = Pipeline(
            Engines({"local": engine.url}, timeout=60), Policy(load_policy(policy_file))
        )
        engine.cli("create", "--name", "peer", TEST_IMAGE, "sleep", "1")
        names = count()
        # A bind below an allowed path, a named volume and a shared namespace: every kind
        # of reference the check resolves on the engine.
        flags = f"-v {allowed}:/data:ro -v data:/v --ipc container:peer -m 64m"

        def checked() -> object:
            text = f"create --name bench-c{next(names)} {flags} {TEST_IMAGE} true"
            reply = pipeline.run(text, OPERATOR)
            assert reply.ok, reply.text
            return reply

        def unchecked() -> object:
            return run_handler(
                parse(f"create --name bench-u{next(names)} {flags} {TEST_IMAGE} true"),
                engine.client(),
            )

        api = pipeline.engines.client("local").api
        requests: list[str] = []
        api.hooks["response"].append(lambda r, *a, **k: requests.append(r.request.url))
        checked()
        per_checked = len(requests)
        figures = {
            "dockhand create, safety check on the engine request": timed(checked),
            "dockhand create handler, no check": timed(unchecked),
            "docker create (CLI process)": timed(
                lambda: engine.cli("create", *flags.split(), TEST_IMAGE, "true")
            ),
        }
        pipeline.engines.close()
    finally:
        rig.stop()
    cli_version = subprocess.run(["docker", "--version"], capture_output=True, text=True).stdout
    lines = [
        f"# The safety check on `create`, with {CONTAINERS} containers on the engine",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by bench/safety_check.py on a private dockerd "
        f"(median and best of {ROUNDS} rounds). {cli_version.strip()}. The command binds an "
        "allowed path, mounts a named volume and joins another container's IPC namespace, so "
        "the check resolves each on the engine and reads every container's mounts for the "
        f"overlap rule. Engine API requests of one checked create: {per_checked} "
        "(the lookups, the container listing and volume listing, then the create itself).",
        "",
        "| what | median ms | best ms |",
        "| --- | ---: | ---: |",
    ]
    for name, (median, best) in figures.items():
        lines.append(f"| {name} | {median:.1f} | {best:.1f} |")
    text = "\n".join(lines) + "\n"
    publish("bench-safety.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
