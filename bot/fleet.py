"""Many hosts in the pipeline: a channel's default host (`/docker use NAME`, kept in Redis),
the policy judged per host, fan-out reads over `-H all` or a glob, and `/docker hosts`.

The pipeline calls three steps: `on_channel_host` and `authorize` while preparing (engine-
free, inside Slack's ack), `execute` before it runs a handler on one host."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis

from bot import messages
from bot.policy import Decision, Policy, Requester
from bot.text import split_words
from config.settings import LOCAL
from handlers.commands import Command, Help
from handlers.errors import NotAllowed, UsageError
from handlers.fleet import FleetResult, HostAnswer, check_fanout, fan_out, is_selector, select_hosts
from handlers.hosts import HostDefault, ListHosts, UseHost, list_hosts
from handlers.results import Result

if TYPE_CHECKING:
    from handlers.engines import Engines

#: `-H all schedule prune ...` is a schedule over hosts, made once (bot/scheduling.py)
SCHEDULE = "schedule:add"
#: Redis hash: channel -> host name
CHANNEL_HOSTS = "dockhand:channel-hosts"
# Without Redis (`do`, `console`, tests without a store) the default lives in the process.
_LOCAL_DEFAULTS: dict[str, str] = {}
_LOCAL_LOCK = threading.Lock()
# With Redis: each channel's default as last read, for while Redis is unreachable.
_LAST_READ: dict[str, str] = {}


def channel_default(store: redis.Redis | None, channel: str) -> str:
    if not channel:
        return ""
    if store is None:
        with _LOCAL_LOCK:
            return _LOCAL_DEFAULTS.get(channel, "")
    try:
        raw = store.hget(CHANNEL_HOSTS, channel)
    except redis.RedisError:
        # Redis down: the channel's default as this process last read it, so Docker commands
        # keep working; never read, the command needs Redis to know its host (and says so).
        with _LOCAL_LOCK:
            if channel in _LAST_READ:
                return _LAST_READ[channel]
        raise UsageError(messages.channel_host_unknown(channel)) from None
    value = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    with _LOCAL_LOCK:
        _LAST_READ[channel] = value
    return value


def set_channel_default(store: redis.Redis | None, channel: str, host: str) -> None:
    if store is None:
        with _LOCAL_LOCK:
            if host:
                _LOCAL_DEFAULTS[channel] = host
            else:
                _LOCAL_DEFAULTS.pop(channel, None)
        return
    if host:
        store.hset(CHANNEL_HOSTS, channel, host)
    else:
        store.hdel(CHANNEL_HOSTS, channel)
    with _LOCAL_LOCK:
        _LAST_READ[channel] = host


def names_host(text: str, *, slack: bool) -> bool:
    """Whether the text picks its host itself (`-H NAME`, `--host=NAME`)."""
    words = split_words(text, slack=slack)
    return bool(words) and (words[0] in ("-H", "--host") or words[0].startswith("--host="))


def on_channel_host(
    command: Command, text: str, requester: Requester, store: redis.Redis | None, *, slack: bool
) -> Command:
    """The channel's default host for a command that names none; `-H` still wins."""
    if command.host != LOCAL or isinstance(command, UseHost | ListHosts | Help):
        return command
    if names_host(text, slack=slack):
        return command  # -H wins: no need to ask Redis
    default = channel_default(store, requester.channel)
    if not default:
        return command
    return command.model_copy(update={"host": default})


def authorize(
    policy: Policy, engines: Engines, command: Command, requester: Requester
) -> tuple[Command, Decision]:
    """The policy's word for the command on its host. Over many hosts (a selector) it must
    allow the verb on at least one of them; the others are answered as refused rows."""
    verb = str(getattr(command, "verb", ""))
    if isinstance(command, UseHost) and command.name and not is_selector(command.name):
        # Pointing a channel at a host is judged on that host only: it sends everyone's next
        # command there (a denial names the rule, as a command run on that host would).
        _, decision = policy.authorize(command.model_copy(update={"host": command.name}), requester)
        return command, decision
    if isinstance(command, ListHosts):
        # The listing is about every host: any host the requester may list on will do.
        for host in engines.names:
            decision = policy.decide(verb, requester, host=host)
            if decision.allowed:
                return command, decision
    if not is_selector(command.host):
        return policy.authorize(command, requester)
    if verb != SCHEDULE:  # a schedule over hosts runs each host's part itself (jobs/)
        check_fanout(verb, command.host)
    hosts = select_hosts(command.host, engines.names)
    allowed = [h for h in hosts if policy.decide(verb, requester, host=h).allowed]
    if not allowed:
        # Judged as on the first host: the denial names the rule and how to get access.
        policy.authorize(command.model_copy(update={"host": hosts[0]}), requester)
        raise NotAllowed(f"{requester.mention} may not run `{verb}` on {command.host}")
    _, decision = policy.authorize(command.model_copy(update={"host": allowed[0]}), requester)
    return command, decision


def execute(
    command: Command,
    requester: Requester | None,
    policy: Policy,
    engines: Engines,
    store: redis.Redis | None,
    run_one: Callable[[Command], Result],
) -> Result | None:
    """A fleet verb's result, or None for a command that runs on one host as usual."""
    if isinstance(command, ListHosts):
        channel = requester.channel if requester is not None else ""
        return list_hosts(command, engines, channel_default(store, channel))
    if isinstance(command, UseHost):
        return use_host(command, requester, engines, store)
    verb = str(getattr(command, "verb", ""))
    if not is_selector(command.host) or verb == SCHEDULE:
        return None
    check_fanout(verb, command.host)
    hosts = select_hosts(command.host, engines.names)
    refused = {
        h
        for h in hosts
        if requester is not None and not policy.decide(verb, requester, host=h).allowed
    }

    def ask(host: str) -> Result:
        if host in refused:
            raise NotAllowed(f"`{verb}` is not allowed on {host}")
        return run_one(command.model_copy(update={"host": host}))

    answers = fan_out(hosts, ask, lambda host: engines.fanout_timeout)
    for answer in answers:
        if answer.error and answer.host not in refused:
            engines.forget(answer.host)  # a stale pool or a dead engine: start afresh next time
    return FleetResult(verb=verb, answers=answers)


def use_host(
    command: UseHost, requester: Requester | None, engines: Engines, store: redis.Redis | None
) -> Result:
    channel = requester.channel if requester is not None else ""
    if not channel:
        raise UsageError("`use` sets a channel's default host: run it in a channel")
    previous = channel_default(store, channel)
    if command.unset or command.name is None:
        if command.name is None and not command.unset:
            return HostDefault(channel=channel, host=previous or LOCAL, previous=previous)
        set_channel_default(store, channel, "")
        return HostDefault(channel=channel, host="", previous=LOCAL)
    if is_selector(command.name):
        raise UsageError(f"`use` takes one host's name, not `{command.name}`", token=command.name)
    engines.config(command.name)  # unknown names are refused with the configured ones
    set_channel_default(store, channel, command.name)
    return HostDefault(channel=channel, host=command.name, previous=previous)


__all__ = ["HostAnswer", "authorize", "execute", "on_channel_host"]
