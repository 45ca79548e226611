"""`dockhand do` starts fast (issue 13, item 7): importing bot.cli does no heavy work, and a
terminal command loads neither Slack's Bolt, paramiko (no ssh:// engine) nor numpy (fakeredis
wants it only for vector sets). Run in fresh interpreters: what a test process imported
before says nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: what `import bot.cli` must not import: each is a tenth of a second or more, or a server's
HEAVY_AT_IMPORT = (
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "fakeredis",
    "numpy",
    "paramiko",
    "prometheus_client",
    "redis",
    "docker",
    "requests",
    "pydantic",
    "yaml",
)
#: what `dockhand do` must not load for a command on a unix:// engine
NEVER_IN_DO = ("slack_bolt", "paramiko", "numpy")

REPORT = """
import json, sys
{body}
loaded = sorted({{m.split(".")[0] for m, v in sys.modules.items() if v is not None}})
sys.stderr.write("\\nMODULES " + json.dumps(loaded) + "\\n")
"""


def loaded_after(body: str, **env: str) -> set[str]:
    answer = subprocess.run(
        [sys.executable, "-c", REPORT.format(body=body)],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = next(x for x in answer.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def test_importing_the_cli_loads_nothing_heavy() -> None:
    loaded = loaded_after("import bot.cli")
    assert sorted(loaded & set(HEAVY_AT_IMPORT)) == []


def test_a_terminal_command_leaves_out_bolt_paramiko_and_numpy() -> None:
    body = (
        "from bot.cli import main\nstatus = main(['do', 'help ps'])\nassert status == 0, status\n"
    )
    loaded = loaded_after(body, DOCKER_HOST="unix:///nonexistent/dockhand-unit.sock")
    assert "docker" in loaded and "handlers" in loaded  # it did run the command's path
    assert sorted(loaded & set(NEVER_IN_DO)) == []


def test_an_ssh_engine_keeps_paramiko_available() -> None:
    body = (
        "from bot.cli import main\n"
        "main(['do', 'help ps'])\n"
        "import docker.transport\n"
        "assert hasattr(docker.transport, 'SSHHTTPAdapter')\n"
    )
    hosts = json.dumps({"far": "ssh://ops@127.0.0.1:1"})
    loaded = loaded_after(
        body, DOCKER_HOST="unix:///nonexistent/dockhand-unit.sock", DOCKHAND_HOSTS=hosts
    )
    assert "paramiko" in loaded
