"""Secure defaults without the servers: roles of a fresh install, DOCKHAND_ADMINS, the
terminal's rights, the settings behind them, and who may see the operations detail."""

from __future__ import annotations

from email.message import Message
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from bot.policy import OPEN_RULE, Policy, Requester
from bot.server import is_loopback, may_see_detail
from config import ConfigError, load_settings
from config.policy import load_policy

VIEWER = Requester("U0VIEWER", "C1")
ADMIN = Requester("U0ADMIN", "C1")


def test_fresh_install_is_viewer_for_slack_and_admin_for_the_terminal() -> None:
    policy = Policy(None, admins=["U0ADMIN"])
    assert policy.roles_of(VIEWER) == ("viewer",)
    assert policy.roles_of(ADMIN) == ("admin",)
    assert policy.roles_of(Requester("U0VIEWER", "C1", "job")) == ("viewer",)
    assert policy.roles_of(Requester("cli", "cli", "cli")) == ("admin",)
    assert policy.roles_of(Requester("console", "console", "console")) == ("admin",)
    assert policy.decide("container:ls", VIEWER).allowed
    for verb in ("container:run", "container:rm", "image:prune", "schedule:add", "audit"):
        assert not policy.decide(verb, VIEWER).allowed, verb
        assert policy.decide(verb, ADMIN).allowed, verb


def test_denial_in_a_fresh_install_says_how_to_grant() -> None:
    decision = Policy(None).decide("container:run", VIEWER)
    assert decision.rule == OPEN_RULE  # short: it is what the audit keeps
    rule = decision.hint
    assert "DOCKHAND_ADMINS=U0VIEWER" in rule and "DOCKHAND_POLICY" in rule
    example = rule.split("```")[1].strip().splitlines()
    assert example == [
        "bindings:",
        "  - {role: admin, users: [U0VIEWER]}",
        "  - {role: operator, channels: [C0OPSCHANNEL]}",
    ]


def test_admins_add_to_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("bindings:\n  - {role: viewer, users: [U0ADMIN, U0VIEWER]}\n")
    policy = Policy(load_policy(path), admins=["U0ADMIN"])
    assert policy.roles_of(ADMIN) == ("admin", "viewer")
    assert policy.decide("container:rm", ADMIN).allowed
    refused = policy.decide("container:rm", VIEWER)
    assert not refused.allowed and refused.rule == "roles viewer do not allow container:rm"


def test_admins_setting_is_a_comma_list_of_slack_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKHAND_ADMINS", " U012ABCDEF, W0X9 ,")
    assert load_settings().admins == ("U012ABCDEF", "W0X9")
    monkeypatch.setenv("DOCKHAND_ADMINS", "U012ABCDEF,@alice")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_ADMINS: '@alice' is not a Slack user ID"):
        load_settings()


def test_empty_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in .env.example copied as is.
    for name in ("DOCKHAND_SECRET_KEY", "DOCKHAND_POLICY", "DOCKHAND_ADMINS", "DOCKHAND_OPS_TOKEN"):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    assert settings.secret_key is None and settings.policy_file is None
    assert settings.admins == () and settings.ops_token is None


def test_ops_token_must_be_hard_to_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKHAND_OPS_TOKEN", "secret")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_OPS_TOKEN: must be at least 16"):
        load_settings()


def test_keygen_prints_a_fernet_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    Fernet(key.encode())  # raises if it is not a key
    assert main(["keygen"]) == 0 and capsys.readouterr().out.strip() != key


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.7", False),
        ("172.17.0.1", False),  # docker's bridge gateway: the host's port mapping
        ("192.168.1.20", False),
        ("::ffff:10.0.0.7", False),
        ("fe80::1%eth0", False),
        ("not-an-address", False),
    ],
)
def test_loopback_is_127_slash_8_and_ipv6_one(peer: str, local: bool) -> None:
    assert is_loopback(peer) is local


def headers(**fields: str) -> Message:
    message = Message()
    for name, value in fields.items():
        message[name.replace("_", "-")] = value
    return message


TOKEN = "0123456789abcdef0123"


def test_detail_for_loopback_or_the_token_only() -> None:
    assert may_see_detail("127.0.0.1", headers(), None)
    assert not may_see_detail("10.0.0.7", headers(), None)
    assert not may_see_detail("10.0.0.7", headers(), TOKEN)
    assert may_see_detail("10.0.0.7", headers(Authorization=f"Bearer {TOKEN}"), TOKEN)
    assert may_see_detail("10.0.0.7", headers(Authorization=f"bearer  {TOKEN} "), TOKEN)
    assert not may_see_detail("10.0.0.7", headers(Authorization=f"Bearer {TOKEN}x"), TOKEN)
    assert not may_see_detail("10.0.0.7", headers(Authorization=f"Basic {TOKEN}"), TOKEN)
    # No token configured: no header can open it.
    assert not may_see_detail("10.0.0.7", headers(Authorization="Bearer "), None)


def test_a_proxied_request_is_not_local() -> None:
    # A reverse proxy on the same host connects from loopback on behalf of anyone.
    assert not may_see_detail("127.0.0.1", headers(X_Forwarded_For="203.0.113.9"), None)
    assert not may_see_detail("127.0.0.1", headers(Forwarded="for=203.0.113.9"), None)
    assert may_see_detail(
        "127.0.0.1", headers(X_Forwarded_For="203.0.113.9", Authorization=f"Bearer {TOKEN}"), TOKEN
    )
