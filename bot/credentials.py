"""Registry credentials: named in config, or entered privately and kept encrypted (Fernet)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import redis
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from handlers.context import RegistryAuth
from handlers.errors import DockhandError

log = logging.getLogger("dockhand.credentials")
KEY = "dockhand:credentials:{}"


class Credentials:
    """Looks a registry's credentials up: config first, then the encrypted store."""

    def __init__(
        self,
        store: redis.Redis,
        key: SecretStr | None,
        configured: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.store = store
        # Without a configured key, an ephemeral one: stored logins last as long as the process.
        self._fernet = Fernet(key.get_secret_value().encode() if key else Fernet.generate_key())
        self.persistent = key is not None
        self.configured = {
            server: RegistryAuth(
                server=server, username=c["username"], password=SecretStr(c["password"])
            )
            for server, c in (configured or {}).items()
        }

    def get(self, server: str) -> RegistryAuth | None:
        if server in self.configured:
            return self.configured[server]
        try:
            token = self.store.get(KEY.format(server))
        except redis.RedisError as exc:
            log.warning("credential store unavailable: %s", exc)
            return None
        if not token:
            return None
        try:
            data = json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            log.warning("stored credentials for %s cannot be decrypted (key changed?)", server)
            return None
        return RegistryAuth(server=server, username=data["u"], password=SecretStr(data["p"]))

    def put(self, auth: RegistryAuth) -> None:
        plain = json.dumps({"u": auth.username, "p": auth.password.get_secret_value()})
        try:
            self.store.set(KEY.format(auth.server), self._fernet.encrypt(plain.encode()))
        except redis.RedisError as exc:
            raise DockhandError(f"could not store the login for {auth.server}: {exc}") from exc

    def delete(self, server: str) -> bool:
        try:
            return bool(self.store.delete(KEY.format(server)))
        except redis.RedisError as exc:
            raise DockhandError(f"could not remove the login for {server}: {exc}") from exc
