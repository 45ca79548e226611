"""Registry credentials: named in config, or entered privately by one person and kept
encrypted (Fernet) for that person alone."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

import redis
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from bot.safety import check_registry
from config.policy import Guards
from handlers.context import RegistryAuth
from handlers.errors import DockhandError

log = logging.getLogger("dockhand.credentials")
#: one hash a person: registry server -> Fernet token. A login is its owner's: another
#: person's command never reads it (a viewer's `search` must not borrow an operator's).
KEY = "dockhand:logins:{}"
#: where logins lived when they were kept per server for everyone; never read any more,
#: since nothing says whose they were (they stay until removed by hand)
LEGACY_KEY = "dockhand:credentials:{}"


class Credentials:
    """Looks a registry's credentials up for one person: config first (the deployer's,
    shared on purpose), then that person's own encrypted logins."""

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

    def get(self, server: str, user: str) -> RegistryAuth | None:
        if server in self.configured:
            return self.configured[server]
        try:
            token = self.store.hget(KEY.format(user), server)
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

    def put(self, auth: RegistryAuth, user: str) -> None:
        plain = json.dumps({"u": auth.username, "p": auth.password.get_secret_value()})
        try:
            self.store.hset(KEY.format(user), auth.server, self._fernet.encrypt(plain.encode()))
        except redis.RedisError as exc:
            raise DockhandError(f"could not store the login for {auth.server}: {exc}") from exc

    def delete(self, server: str, user: str) -> bool:
        try:
            return bool(self.store.hdel(KEY.format(user), server))
        except redis.RedisError as exc:
            raise DockhandError(f"could not remove the login for {server}: {exc}") from exc


def registry_lookup(
    credentials: Credentials | None,
    user: str | None,
    guards: Guards,
    login: RegistryAuth | None = None,
) -> Callable[[str], RegistryAuth | None]:
    """What a handler gets as Context.credentials: `login` (a password just entered), else
    `user`'s own login for the server (no user, no stored login). Every registry contact
    asks this first, so it is also where a registry outside the policy's allow-list
    (`guards.registries`) is refused: a Refusal raised before anything is sent there."""

    def lookup(server: str) -> RegistryAuth | None:
        check_registry(f"{server}/", guards)  # registry_of needs a path to see a server
        if login is not None:
            return login
        if credentials is None or not user:
            return None
        return credentials.get(server, user)

    return lookup
