import pytest

from config import ConfigError, load_settings


def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKHAND_WORKERS", "many")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_WORKERS: "):
        load_settings()


def test_bad_json_hosts_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKHAND_HOSTS", "{not json")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_HOSTS: "):
        load_settings()


def test_docker_host_scheme_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "/var/run/x.sock")
    with pytest.raises(ConfigError, match=r"^DOCKER_HOST: "):
        load_settings()


def test_hosts_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/a.sock")
    monkeypatch.setenv("DOCKHAND_HOSTS", '{"prod": "tcp://127.0.0.1:2376"}')
    assert dict(load_settings().hosts) == {
        "local": "unix:///tmp/a.sock",
        "prod": "tcp://127.0.0.1:2376",
    }


def test_require_names_missing_setting() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        load_settings().require("slack_bot_token")
