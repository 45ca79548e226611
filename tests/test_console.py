"""`dockhand console` driven through its stdin, as a person at a terminal would."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import clean_env
from tests.rig import TEST_IMAGE, Engine


def test_console_runs_commands_and_survives_mistakes(clean_engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clean_engine.cli("create", "--name", "console-probe", TEST_IMAGE)
    typed = "/docker ps -a\npss\nimages\nexit\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=typed,
        capture_output=True,
        text=True,
        env=clean_env(DOCKER_HOST=clean_engine.url, HOME=str(tmp_path), COLUMNS="200"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "console-probe" in out and "Created" in out
    assert "unknown command `pss`" in out and "Did you mean `ps`?" in out
    assert "test/busybox" in out
    assert "Traceback" not in out + done.stderr
    assert (tmp_path / ".dockhand_history").read_text().count("ps -a") == 1
