"""Dockhand's one error tree. Everything a user may see is a DockhandError.

    DockhandError                 shown to the user as it is
     +-- UsageError               the user's mistake: names the bad token, carries the usage line
     |    +-- UnknownCommand      no such command; carries did-you-mean suggestions
     +-- NotAllowed               policy said no
     +-- EngineError              the engine refused (its own explanation)
     |    +-- NoSuchObject        404: no such container, image, network...
     |    +-- EngineUnreachable   cannot connect to the engine at all
     |    |    +-- EngineTLSRefused  connected, but the TLS handshake failed (CA, certificate)
     |    |    +-- EngineSSHRefused  connected, but SSH failed (host key, client key)
     |    +-- EngineLost          the connection broke while a command was running
     |    +-- EngineTimeout       the engine did not answer in time

Any other exception is a bug: the user gets a short apology and a reference id,
the log gets the traceback under the same id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    """What the user can do about an error, as a kind and its subject, no words (the bot
    says it: bot/messages.py's `hint`): `login` a registry, or `login-privately` to one."""

    kind: str
    subject: str = ""


class DockhandError(Exception):
    """Base of every error whose message is fit to show a user. `hint`, when there is one,
    is said after the message."""

    #: process exit status for `dockhand do`
    exit_status = 1

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(DockhandError):
    """The command text is wrong. `token` is the offending word, `usage` the usage line."""

    exit_status = 2

    def __init__(
        self, message: str, *, usage: str = "", token: str | None = None, hint: Hint | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.usage = usage
        self.token = token


class UnknownCommand(UsageError):
    def __init__(self, token: str, suggestions: list[str], usage: str = "") -> None:
        hint = f" Did you mean `{suggestions[0]}`?" if suggestions else ""
        super().__init__(f"unknown command `{token}`.{hint}", usage=usage, token=token)
        self.suggestions = suggestions


class NotAllowed(DockhandError):
    """Authorization denied. `rule` names the policy rule that decided."""

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class EngineError(DockhandError):
    """The Docker engine answered with an error."""


class NoSuchObject(EngineError):
    pass


class EngineUnreachable(EngineError):
    def __init__(self, host: str, url: str) -> None:
        super().__init__(f"cannot reach Docker at {host} ({url})")
        self.host = host
        self.url = url


class EngineTLSRefused(EngineUnreachable):
    """The engine answered but the TLS handshake failed: a wrong CA, an expired or
    mismatched certificate. Said as such, since "cannot reach" would send people to the
    network instead of the certificates."""

    def __init__(self, host: str, url: str, reason: str) -> None:
        super().__init__(host, url)
        self.message = (
            f"TLS handshake with Docker at {host} ({url}) failed: {reason}; check the host's "
            "tls ca, cert and key in the hosts file"
        )
        self.args = (self.message,)
        self.reason = reason


class EngineSSHRefused(EngineUnreachable):
    """An ssh:// engine whose SSH session failed: an unknown or changed host key, a client
    key the far side does not accept."""

    def __init__(self, host: str, url: str, reason: str) -> None:
        super().__init__(host, url)
        self.message = (
            f"SSH to Docker at {host} ({url}) failed: {reason}; check the key and known_hosts "
            "of the user Dockhand runs as"
        )
        self.args = (self.message,)
        self.reason = reason


class EngineLost(EngineError):
    """The engine went away mid-command (it crashed or restarted): part of the work may be
    done, so the message says what is known and how to look."""

    def __init__(self, host: str, url: str, container: str = "", command: str = "") -> None:
        doing = f"`{command}`" if command else "the command"
        known = (
            f"; the container ID is {container[:12]}, check with `ps -a`"
            if container
            else "; part of it may be done: check with `ps -a`"
        )
        super().__init__(
            f"lost the connection to Docker at {host} ({url}) while running {doing}{known}"
        )
        self.host = host
        self.url = url
        #: the container the command made or acted on, when it was known before the cut
        self.container = container


class EngineTimeout(EngineError):
    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(f"Docker at {host} did not answer within {timeout:g} s")
        self.host = host
