"""Settings read from the environment (and a .env file), validated once at start."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AnyUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

# docker's own default when DOCKER_HOST is unset.
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
LOCAL = "local"
# Slack user IDs: U or W, then upper-case letters and digits (U012ABCDEF, W0ADMIN42).
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")


def _check_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. UTC, Europe/Berlin)") from None
    return value


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


class Settings(BaseSettings):
    """Every setting Dockhand has. Names are the environment variables' names."""

    # env_ignore_empty: `.env.example` copied as is has `NAME=` lines; an empty value means
    # "not set" (the default), never an empty key, path or token that fails later.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: AnyUrl = Field(
        AnyUrl("https://slack.com/api/"), validation_alias="SLACK_API_URL"
    )
    slash_command: str = Field("/docker", validation_alias="DOCKHAND_SLASH_COMMAND")

    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    docker_host: str = Field(DEFAULT_DOCKER_HOST, validation_alias="DOCKER_HOST")
    # More engines by name, as JSON: {"prod": "tcp://10.0.0.5:2376"}. DOCKER_HOST is `local`.
    extra_hosts: dict[str, str] = Field(default_factory=dict, validation_alias="DOCKHAND_HOSTS")
    # The engines by name with TLS material and SSH (YAML, config/hosts.py), beside the policy.
    hosts_file: Path | None = Field(None, validation_alias="DOCKHAND_HOSTS_FILE")
    # Seconds each host gets to answer its part of a fan-out (`-H all`, `/docker hosts`):
    # a host that is slower is shown as an error row and the others are not held up.
    fanout_timeout: float = Field(10.0, gt=0, le=300, validation_alias="DOCKHAND_FANOUT_TIMEOUT")
    docker_api_version: str = Field("auto", validation_alias="DOCKHAND_DOCKER_API_VERSION")
    docker_timeout: float = Field(30.0, gt=0, validation_alias="DOCKHAND_DOCKER_TIMEOUT")

    # Credentials named in config, JSON: {"registry.example.com": {"username": .., "password": ..}}
    registry_credentials: dict[str, dict[str, str]] = Field(
        default_factory=dict, validation_alias="DOCKHAND_REGISTRY_CREDENTIALS"
    )
    # Fernet key for credentials entered in chat and kept in the store.
    secret_key: SecretStr | None = Field(None, validation_alias="DOCKHAND_SECRET_KEY")
    run_wait: float = Field(30.0, gt=0, le=600, validation_alias="DOCKHAND_RUN_WAIT")
    shutdown_grace: float = Field(20.0, ge=0, le=600, validation_alias="DOCKHAND_SHUTDOWN_GRACE")

    # Scheduling and health checks.
    timezone: str = Field("UTC", validation_alias="DOCKHAND_TIMEZONE")
    # A time zone per channel for showing schedules, JSON: {"C0EUROPE": "Europe/Berlin"}
    channel_timezones: dict[str, str] = Field(
        default_factory=dict, validation_alias="DOCKHAND_CHANNEL_TIMEZONES"
    )
    misfire_grace: int = Field(3600, ge=1, validation_alias="DOCKHAND_MISFIRE_GRACE")
    lease_ttl: float = Field(10.0, ge=1, le=300, validation_alias="DOCKHAND_LEASE_TTL")
    quiet_empty_runs: str = Field(
        "line", pattern="^(line|none)$", validation_alias="DOCKHAND_QUIET_EMPTY_RUNS"
    )
    autoheal_restarts: int = Field(3, ge=1, validation_alias="DOCKHAND_AUTOHEAL_RESTARTS")
    autoheal_window: float = Field(600.0, gt=0, validation_alias="DOCKHAND_AUTOHEAL_WINDOW")
    autoheal_backoff: float = Field(30.0, ge=0, validation_alias="DOCKHAND_AUTOHEAL_BACKOFF")
    restart_loop_seconds: float = Field(
        30.0, gt=0, validation_alias="DOCKHAND_RESTART_LOOP_SECONDS"
    )
    # Channel for alerts from the engines' event streams; unset: no event watching.
    alert_channel: str | None = Field(None, validation_alias="DOCKHAND_ALERT_CHANNEL")

    # Delivery to Slack (bot/outbox.py): how long a message is retried before its requester
    # is told another way; where messages (and audit entries) wait while Redis is down, and
    # how many may wait. Without a spool directory they wait in memory (lost on restart).
    delivery_deadline: float = Field(
        600.0, ge=5, le=86400, validation_alias="DOCKHAND_DELIVERY_DEADLINE"
    )
    spool_dir: Path | None = Field(None, validation_alias="DOCKHAND_SPOOL_DIR")
    spool_max: int = Field(1000, ge=10, le=1_000_000, validation_alias="DOCKHAND_SPOOL_MAX")

    policy_file: Path | None = Field(None, validation_alias="DOCKHAND_POLICY")
    # Slack user IDs who are admins of `serve`, comma-separated: the quick start without a
    # policy file (everyone else is viewer), and admins in addition to a policy's bindings.
    # NoDecode: a comma list, not the JSON pydantic-settings expects of a tuple.
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="DOCKHAND_ADMINS")
    # Bearer token that shows /metrics and /healthz's detail to clients off this machine
    # (a Prometheus on another host); unset: only loopback clients see them.
    ops_token: SecretStr | None = Field(None, validation_alias="DOCKHAND_OPS_TOKEN")
    workers: int = Field(8, ge=1, le=256, validation_alias="DOCKHAND_WORKERS")
    log_level: str = Field("INFO", validation_alias="DOCKHAND_LOG_LEVEL")
    log_json: bool = Field(False, validation_alias="DOCKHAND_LOG_JSON")
    # Words that make a variable or option name secret (its value is masked in the audit
    # and logs): `|` or `,` between them, matched case-insensitively on the name's parts.
    secret_names: str = Field(
        "PASS|PW|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH",
        pattern=r"^\s*[A-Za-z0-9]+(\s*[|,]\s*[A-Za-z0-9]+)*\s*$",
        validation_alias="DOCKHAND_SECRET_NAMES",
    )

    @field_validator("docker_host", mode="after")
    @classmethod
    def _docker_host_scheme(cls, value: str) -> str:
        if not value.startswith(("unix://", "tcp://", "ssh://", "http://", "https://")):
            raise ValueError("must start with unix://, tcp://, ssh://, http:// or https://")
        return value

    @field_validator("extra_hosts", "registry_credentials", "channel_timezones", mode="before")
    @classmethod
    def _json(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("admins", mode="after")
    @classmethod
    def _slack_user_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for user in value:
            if not _SLACK_USER.match(user):
                # A name or @handle would never match anyone: say so instead of admitting no one.
                raise ValueError(
                    f"{user!r} is not a Slack user ID (like U012ABCDEF: in Slack, "
                    "profile → ⋮ → Copy member ID)"
                )
        return value

    @field_validator("ops_token", mode="after")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Anyone who can reach the port may guess at it: refuse what is quick to guess.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("secret_key", mode="after")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from cryptography.fernet import Fernet

            try:
                Fernet(value.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "must be a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        return value

    @field_validator("timezone", mode="after")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("channel_timezones", mode="after")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for zone in value.values():
            _check_zone(zone)
        return value

    @field_validator("log_level", mode="after")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def hosts(self) -> Mapping[str, str]:
        """Engine URLs by host name; `local` is DOCKER_HOST."""
        return {LOCAL: self.docker_host, **self.extra_hosts}

    def require(self, *names: str) -> None:
        """Fail with one line when a setting this mode needs is absent."""
        for name in names:
            field = type(self).model_fields[name]
            if getattr(self, name) is None:
                raise ConfigError(f"{field.validation_alias} is not set")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line that names the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
    except SettingsError as exc:
        # pydantic-settings decodes JSON-valued settings itself and names the field, not the env.
        match = re.search(r'field "(\w+)"', str(exc))
        field = Settings.model_fields.get(match.group(1)) if match else None
        name = str(field.validation_alias) if field else "settings"
        raise ConfigError(f"{name}: not valid JSON") from None
