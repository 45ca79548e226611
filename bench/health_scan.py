"""One health-check pass over 300 containers (time and Engine API requests), beside the
`docker ps -a` CLI on the same engine as a baseline; and the time from a container's death
to its alert on the (fake) Slack, through `dockhand serve`'s event watcher.

Writes docs/bench-health.md. Run: python3 bench/health_scan.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish
from handlers.health import health_pass
from tests.fake_slack import FakeSlack
from tests.helpers import start_bot
from tests.rig import TEST_IMAGE, Rig

CONTAINERS = 300
ROUNDS = 10
DEATHS = 10


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    rig = Rig()
    fake = FakeSlack().start()
    bot = None
    try:
        engine = rig.engine()
        engine.import_busybox()
        engine.create_containers(CONTAINERS)
        state: dict = {}
        _, state = health_pass(engine.client(), state)  # the first pass learns the host
        passes, requests = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            result, state = health_pass(engine.client(), state)
            passes.append(time.perf_counter() - started)
            requests.append(result.requests)
        cli = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            engine.cli("ps", "-a")
            cli.append(time.perf_counter() - started)

        redis = rig.redis()
        logs = rig.root / "logs"
        logs.mkdir()
        bot = start_bot(
            logs,
            DOCKER_HOST=engine.url,
            REDIS_URL=redis.url,
            SLACK_API_URL=fake.api_url,
            DOCKHAND_ALERT_CHANNEL="C_ALERTS",
            DOCKHAND_LOG_LEVEL="WARNING",
        )
        time.sleep(1.5)
        latencies = []
        for n in range(DEATHS):
            name = f"dies{n}"
            engine.cli("run", "-d", "--name", name, TEST_IMAGE, "sh", "-c", "sleep 0.2; exit 3")
            call = fake.wait_for(lambda c, name=name: f"{name} died" in c.body.get("text", ""), 15)
            finished = engine.cli("inspect", "-f", "{{.State.FinishedAt}}", name).stdout.strip()
            died = datetime.fromisoformat(finished[:26].rstrip("Z") + "+00:00").timestamp()
            latencies.append(call.wall - died)
            time.sleep(0.5)  # one death at a time: the batch window does not merge them
    finally:
        if bot is not None:
            bot.stop()
        fake.stop()
        rig.stop()
    text = "\n".join(
        [
            f"# Health checks over {CONTAINERS} containers, and alert latency",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} by bench/health_scan.py on this 2-core machine, "
            "private dockerd, fake Slack Web API.",
            "",
            "| what | median ms | max ms | Engine API requests |",
            "| --- | ---: | ---: | ---: |",
            f"| health pass, steady host ({ROUNDS} passes) | {median_ms(passes):.1f} | "
            f"{max(passes) * 1000:.1f} | {max(requests)} |",
            f"| baseline: `docker ps -a` CLI, same engine | {median_ms(cli):.1f} | "
            f"{max(cli) * 1000:.1f} | not counted |",
            f"| death to alert on Slack ({DEATHS} deaths, event stream) | "
            f"{median_ms(latencies):.0f} | {max(latencies) * 1000:.0f} | - |",
            "",
            "Targets: a pass under 1 s with a constant number of requests; death to alert under "
            "2 s (docker-autoheal, the usual alternative, polls every 5 s).",
            "",
        ]
    )
    publish("bench-health.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
