"""The README's first five minutes on a clean machine: a clone, a new venv, its lines as written.

Slow (pip installs every dependency from PyPI into a venv of its own, about a minute): CI runs
it; `DOCKHAND_SKIP_SLOW=1` skips it on a developer's machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import venv
from pathlib import Path

import pytest
import requests

from tests.fake_slack import FakeSlack
from tests.helpers import free_port
from tests.rig import Engine, RedisServer

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("DOCKHAND_SKIP_SLOW") == "1", reason="DOCKHAND_SKIP_SLOW=1: pip install"
    ),
    pytest.mark.timeout(300),
]


def readme_test_line() -> str:
    """The README's indented command under "Run the tests", as a reader would copy it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("Run the tests", 1)[1]
    lines = re.findall(r"^    (\S.*)$", section, re.MULTILINE)
    return next(line for line in lines if "pytest" in line)


def test_readme_test_line_installs_what_it_runs() -> None:
    # The line must bring pytest itself (a fresh machine has none), and CI runs its test part.
    line = readme_test_line()
    install, _, run = line.partition(" && ")
    assert re.match(r"pip install -e '?\.\[test\]'?$", install), line
    assert run == "python3 -m pytest -q -n 3 --dist loadfile"
    assert f"\n{run}\n" in (ROOT / ".ci" / "run").read_text() + "\n"


def test_fresh_clone_installs_tests_and_starts_with_env_example(
    tmp_path: Path, engine: Engine, redis_server: RedisServer, fake_slack: FakeSlack
) -> None:
    clone = tmp_path / "dockhand"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=60)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)  # plain: nothing of this machine's site-packages
    bin_dir = env_dir / "bin"
    # Only the venv, the system tools (git, dockerd for the rig) and HOME: no PYTHONPATH of ours.
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "VIRTUAL_ENV": str(env_dir),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    install, _, run = readme_test_line().partition(" && ")
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", install], cwd=clone, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # The README's test command, narrowed to the fast layer: the full suite runs in CI anyway.
    quick = f"{run.replace('python3', str(bin_dir / 'python3'))} tests/unit -x -p no:cacheprovider"
    done = subprocess.run(
        ["bash", "-c", quick], cwd=clone, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert time.monotonic() - started < 240

    # `cp .env.example .env` and fill in the tokens (here: the environment, which wins over
    # .env, pointing at the rig instead of the socket and the compose network's redis).
    shutil.copy(clone / ".env.example", clone / ".env")
    port = free_port()
    bot = subprocess.Popen(
        [str(bin_dir / "dockhand"), "serve", "--bind", "127.0.0.1", "--port", str(port)],
        cwd=clone,
        env={
            **env,
            "SLACK_BOT_TOKEN": "xoxb-fresh-clone",
            "SLACK_SIGNING_SECRET": "fresh-clone-secret",
            "SLACK_API_URL": fake_slack.api_url,
            "DOCKER_HOST": engine.url,
            "REDIS_URL": redis_server.url,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert bot.poll() is None, bot.communicate()[0].decode()[-3000:]
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "dockhand serve did not listen in 30 s"
                time.sleep(0.2)
        assert health.status_code == 200, health.text
    finally:
        bot.terminate()
        try:
            bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
