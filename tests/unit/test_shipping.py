"""What ships beside the code: the command reference, the Slack manifest, the compose file,
the settings example. Each must agree with the code."""

from __future__ import annotations

import json
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


def _camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m[1].upper(), name)


def test_manifest_has_the_command_and_only_needed_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/docker"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Exactly the scopes of the Web API methods the bot calls (found in its code, as
    # slack_sdk methods `client.chat_postMessage(` or by name `"chat.postMessage"`), and each
    # scope's line names the methods it is there for.
    method_scopes = {
        "chat.postMessage": "chat:write",
        "chat.postEphemeral": "chat:write",
        "chat.update": "chat:write",
        "files.upload": "files:write",  # slack_sdk's files_upload_v2: the two calls below
        "files.getUploadURLExternal": "files:write",
        "files.completeUploadExternal": "files:write",
        "conversations.open": "im:write",
        "usergroups.list": "usergroups:read",
        "views.open": None,  # a trigger_id is the permission
        "views.publish": None,
        "views.update": None,
    }
    families = "chat|files|conversations|usergroups|views|users|reactions|channels|groups|im"
    code = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    called = {
        # client.chat_postMessage( is chat.postMessage; files_upload_v2 is files.upload
        family + "." + _camel(name.removesuffix("_v2"))
        for family, name in re.findall(rf"\.({families})_(\w+)\(", code)
    }
    called |= set(re.findall(rf"\"((?:{families})\.[A-Za-z]+)\"", code))
    assert called <= set(method_scopes), f"add the scope of {called - set(method_scopes)}"
    needed = {method_scopes[m] for m in called} - {None} | {"commands"}
    assert scopes == needed
    raw = (ROOT / "slack" / "manifest.yml").read_text()
    for scope in scopes - {"commands"}:
        line = next(line for line in raw.splitlines() if line.strip().startswith(f"- {scope} "))
        comment = line.split("#", 1)[1] if "#" in line else ""
        for method in (m for m in called if method_scopes[m] == scope):
            shown = "files.getUploadURLExternal" if method == "files.upload" else method
            assert shown in comment, f"{scope}: its comment should name {shown}"
    # Socket Mode: no placeholder URLs (the comment at the top says how to add them for HTTP).
    assert "url" not in json.dumps(manifest)
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
    redis_command = spec["services"]["redis"]["command"]
    # AOF on: a Redis restarted without it comes back without the schedules (bot/epoch.py).
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"
    assert spec["services"]["bot"]["environment"]["DOCKHAND_SPOOL_DIR"]
