"""The configured engines as a listing: each asked at once whether it answers, its engine
version and how long a round trip takes (`hosts`); and the channel's default host (`use`)."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from handlers.commands import Command, Mutation
from handlers.engines import Engines, translate_engine_errors
from handlers.fleet import ERROR_MARK, fan_out
from handlers.results import Result, Table


class ListHosts(Command):
    verb: Literal["host:ls"] = "host:ls"
    quiet: bool = False


class UseHost(Mutation):
    """The host a channel's commands go to when they name none (`-H` still wins)."""

    verb: Literal["host:use"] = "host:use"
    name: str | None = Field(None, title="HOST")
    unset: bool = False


class HostStatus(BaseModel):
    name: str
    url: str
    transport: str
    reachable: bool = False
    version: str = ""
    api_version: str = ""
    #: one GET /_ping round trip, once the client is connected
    latency_ms: float | None = None
    error: str = ""
    default: bool = False
    description: str = ""


class HostsResult(Result):
    hosts: list[HostStatus]
    quiet: bool = False
    #: the channel's default host, if it has one
    channel_default: str = ""

    def summary(self) -> str:
        up = sum(1 for h in self.hosts if h.reachable)
        default = f"; this channel uses {self.channel_default}" if self.channel_default else ""
        return f"{len(self.hosts)} hosts, {up} reachable{default}"

    def table(self) -> Table:
        if self.quiet:
            return Table(columns=["NAME"], rows=[[h.name] for h in self.hosts])
        rows = []
        for h in self.hosts:
            latency = f"{h.latency_ms:.1f} ms" if h.latency_ms is not None else ""
            rows.append(
                [
                    h.name + (" *" if h.default else ""),
                    h.url,
                    h.transport,
                    "up" if h.reachable else "down",
                    h.version,
                    h.api_version,
                    latency,
                    h.error or h.description,
                ]
            )
        return Table(
            columns=["NAME", "URL", "TRANSPORT", "STATE", "VERSION", "API", "LATENCY", "NOTE"],
            rows=rows,
            marks=["running" if h.reachable else ERROR_MARK for h in self.hosts],
        )

    def failed(self) -> bool:
        return False  # a down host is the listing's news, not the command's failure


class HostDefault(Result):
    channel: str
    host: str
    previous: str = ""

    def summary(self) -> str:
        if not self.host:
            return f"this channel's commands go to the default host again ({self.previous})"
        return f"this channel's commands go to {self.host} unless they name another with -H"


def probe(engines: Engines, name: str) -> HostStatus:
    """Connect (first use negotiates the API version), then time one ping and ask the
    version; an error is the status, not an exception."""
    config = engines.config(name)
    status = HostStatus(
        name=name, url=config.url, transport=config.scheme, description=config.description
    )
    try:
        with translate_engine_errors(name, config.url, engines.timeout_of(name)):
            client = engines.client(name)
            began = time.perf_counter()
            client.api.ping()
            status.latency_ms = (time.perf_counter() - began) * 1000
            version = client.api.version(api_version=False)
    except Exception as exc:
        # A stale pooled connection or a failed handshake: the next command starts afresh.
        engines.forget(name)
        status.error = getattr(exc, "message", "") or type(exc).__name__
        return status
    status.reachable = True
    status.version = str(version.get("Version", ""))
    status.api_version = str(version.get("ApiVersion", ""))
    return status


def list_hosts(command: ListHosts, engines: Engines, channel_default: str = "") -> HostsResult:
    names = engines.names
    if command.quiet:
        return HostsResult(
            hosts=[HostStatus(name=n, url="", transport="") for n in names], quiet=True
        )
    answers = fan_out(
        names,
        lambda name: HostsResult(hosts=[probe(engines, name)]),
        lambda name: engines.fanout_timeout,
    )
    statuses = []
    for answer in answers:
        if isinstance(answer.result, HostsResult):
            statuses.append(answer.result.hosts[0])
        else:
            config = engines.config(answer.host)
            statuses.append(
                HostStatus(
                    name=answer.host, url=config.url, transport=config.scheme, error=answer.error
                )
            )
    for status in statuses:
        status.default = status.name == channel_default
    return HostsResult(hosts=statuses, channel_default=channel_default)
