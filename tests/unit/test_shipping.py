"""What ships beside the code: the command reference, the Slack manifest, the compose file,
the settings example. Each must agree with the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from bot.reference import render_reference
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_committed_command_reference_is_current() -> None:
    committed = (ROOT / "docs" / "commands.md").read_text()
    assert committed.strip() == render_reference().strip(), (
        "docs/commands.md is stale: run `dockhand reference > docs/commands.md`"
    )


def test_manifest_has_the_command_and_only_needed_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/docker"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "files:write", "users:read", "usergroups:read"}
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert manifest["features"]["app_home"]["home_tab_enabled"]
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    settings = {str(f.validation_alias) for f in Settings.model_fields.values()}
    assert named == settings


def test_compose_file_is_valid(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose (Debian package) is needed to validate docker-compose.yml"
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for profile in ([], ["--profile", "proxy"]):
        done = subprocess.run(
            [compose, *profile, "config", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert spec["services"]["bot"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "--appendonly" in spec["services"]["redis"]["command"]
