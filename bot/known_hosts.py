"""The hosts a command names, checked against the configured engines while it is prepared (inside
Slack's ack): `-H NAME`, `use NAME` and a schedule's `--host`. The host list is configuration
read at run time, so this is the pipeline's check, not the command model's."""

from __future__ import annotations

from handlers.commands import Command, SchedulePrune
from handlers.engines import Engines
from handlers.fleet import is_selector, select_hosts
from handlers.hosts import UseHost


def check_known_hosts(command: Command, engines: Engines, *, named: bool) -> None:
    """Raise UsageError naming a host no configuration has. `named`: the text picked its
    host with -H (a channel's default host is the channel's business, and `help` without -H
    must work where no host is called `local`)."""
    hosts = [command.host] if named else []
    if isinstance(command, SchedulePrune) and command.target_host:
        hosts.append(command.target_host)
    if isinstance(command, UseHost) and command.name and not is_selector(command.name):
        hosts.append(command.name)  # a glob is refused by `use` itself, in its own words
    for host in hosts:
        if is_selector(host):
            select_hosts(host, engines.names)  # `all`, or a glob that must name a host
        else:
            engines.config(host)  # the engines' own words: unknown host `x`; configured: ...
