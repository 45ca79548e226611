"""`port`, `diff` and `wait`: what one container publishes, what changed in its filesystem,
how it ended. Each result keeps the lines the docker CLI prints, and the facts behind them."""

from __future__ import annotations

import re
from typing import Any

import docker
import docker.errors
import requests
from pydantic import Field

from handlers.commands import ContainerDiff, ContainerPort, WaitContainers
from handlers.context import Context
from handlers.engine_api import engine_request, inspect
from handlers.engines import explain
from handlers.errors import DockhandError
from handlers.results import Result

# GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted.
CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}


class CliLines(Result):
    """A result whose text is the lines the CLI prints, said once under a summary."""

    lines: list[str] = Field(default_factory=list)

    def body(self) -> str:
        return "\n".join(self.lines)


class PortList(CliLines):
    container: str
    #: (private port/proto, host IP, host port), as the engine publishes them
    mappings: list[tuple[str, str, str]] = Field(default_factory=list)

    def summary(self) -> str:
        n = len(self.lines)
        return f"{self.container}: {n} published port{'s' if n != 1 else ''}"


class ChangeList(CliLines):
    container: str

    def summary(self) -> str:
        n = len(self.lines)
        return f"{self.container}: {n} filesystem change{'s' if n != 1 else ''}"


class WaitResult(CliLines):
    """Exit codes in the order given; a container that is not there, or still runs when the
    wait is over, is an error beside them (the CLI goes on past a failing one too)."""

    codes: list[tuple[str, int]] = Field(default_factory=list)
    errors: list[tuple[str, str]] = Field(default_factory=list)
    still_running: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        done = ", ".join(f"{name} exited with code {code}" for name, code in self.codes)
        waiting = ", ".join(self.still_running)
        parts = [done] if done else []
        if waiting:
            parts.append(f"still running after {self.seconds:g} s: {waiting}")
        return "; ".join(parts) or "nothing to wait for"

    def errors_text(self) -> str:
        return "\n".join(message for _, message in self.errors)

    def failed(self) -> bool:
        return bool(self.errors or self.still_running)


def _natural_key(text: str) -> list[Any]:
    """sortorder.NaturalLess, which the CLI sorts port lines with: digit runs as numbers."""
    parts = re.split(r"(\d+)", text)
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts]


def _join_host_port(ip: str, port: str) -> str:
    """Go's net.JoinHostPort: an IPv6 address in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def container_port(command: ContainerPort, client: docker.DockerClient) -> PortList:
    """As the CLI's runPort: the inspect's NetworkSettings.Ports, one line a binding, in
    natural order; with a port, the bindings of that port alone (tcp unless told)."""
    found = inspect(client.api, "container", command.container)
    ports: dict[str, Any] = (found.get("NetworkSettings") or {}).get("Ports") or {}
    mappings = [
        (private, str(b.get("HostIp") or ""), str(b.get("HostPort") or ""))
        for private, bindings in ports.items()
        for b in bindings or []
    ]
    if command.port is not None:
        number, _, proto = command.port.partition("/")
        if not number.isdigit() or int(number) > 65535:
            raise DockhandError(
                f'Error: invalid port ({number}): strconv.ParseUint: parsing "{number}": '
                + ("value out of range" if number.isdigit() else "invalid syntax")
            )
        key = f"{number}/{proto or 'tcp'}"
        mappings = [m for m in mappings if m[0] == key]
        if not mappings:
            raise DockhandError(
                f"Error: No public port '{command.port}' published for {command.container}"
            )
        lines = [_join_host_port(ip, port) for _, ip, port in mappings]
    else:
        lines = [f"{private} -> {_join_host_port(ip, port)}" for private, ip, port in mappings]
    return PortList(
        container=command.container,
        mappings=mappings,
        lines=sorted(lines, key=_natural_key),
    )


def container_diff(command: ContainerDiff, client: docker.DockerClient) -> ChangeList:
    """GET /containers/{id}/changes, in the engine's order, as `{{.Type}} {{.Path}}`."""
    changes = engine_request(client.api, "GET", "/containers/{}/changes", command.container)
    lines = [f"{CHANGE_KINDS.get(c.get('Kind'), '?')} {c.get('Path')}" for c in changes or []]
    return ChangeList(container=command.container, lines=lines)


def wait_containers(
    command: WaitContainers, client: docker.DockerClient, context: Context
) -> WaitResult:
    """POST /containers/{id}/wait for each in turn, all within one wait of
    Context.attach_timeout seconds (chat cannot block for ever)."""
    import time

    api = client.api
    result = WaitResult()
    deadline = time.monotonic() + context.attach_timeout
    started = time.monotonic()
    for name in command.containers:
        left = max(deadline - time.monotonic(), 0.1)
        try:
            status = api.wait(name, timeout=left)
        except docker.errors.APIError as exc:
            result.errors.append((name, f"Error response from daemon: {explain(exc)}"))
            continue
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
            if (
                isinstance(exc, requests.exceptions.ConnectionError)
                and "timed out" not in str(exc).lower()
            ):
                raise
            result.still_running.append(name)
            continue
        code = int(status.get("StatusCode", 0))
        result.codes.append((name, code))
        result.lines.append(str(code))
    result.seconds = round(time.monotonic() - started, 2)
    return result
