"""Network verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

from typing import Any

import docker
import docker.errors

from handlers.commands import (
    ConnectNetwork,
    CreateNetwork,
    ListNetworks,
)
from handlers.results import (
    NETWORK_HEADERS,
    BatchResult,
    FormattedResult,
    TableResult,
    labels_text,
    listing,
)
from handlers.template import Row
from handlers.units import go_time_text


def create_network(command: CreateNetwork, client: docker.DockerClient) -> BatchResult:
    ipam = None
    if command.subnets:
        pools = []
        for n, subnet in enumerate(command.subnets):
            pool: dict[str, Any] = {"Subnet": subnet}
            if n < len(command.gateways):
                pool["Gateway"] = command.gateways[n]
            if n < len(command.ip_ranges):
                pool["IPRange"] = command.ip_ranges[n]
            pools.append(pool)
        ipam = {"Driver": "default", "Config": pools, "Options": {}}
    answer = client.api.create_network(
        command.name,
        driver=command.driver,
        options=command.options or None,
        ipam=ipam,
        internal=command.internal,
        labels=command.labels or None,
        attachable=command.attachable,
        enable_ipv6=command.ipv6,
        check_duplicate=True,
    )
    result = BatchResult(verb=command.verb, done=[f"{command.name} ({answer['Id']})"])
    if answer.get("Warning"):
        result.warnings.append(answer["Warning"])
    return result


def list_networks(
    command: ListNetworks, client: docker.DockerClient
) -> TableResult | FormattedResult:
    found = client.api.networks(filters=command.filters or None)
    rows = [
        Row(
            {
                "CreatedAt": go_time_text(n["Created"]) if n.get("Created") else "",
                "Driver": n.get("Driver", ""),
                "ID": n["Id"] if command.no_trunc else n["Id"][:12],
                "IPv4": "false",  # EnableIPv4 is newer than the API this speaks
                "IPv6": str(bool(n.get("EnableIPv6"))).lower(),
                "Internal": str(bool(n.get("Internal"))).lower(),
                "Labels": labels_text(n.get("Labels")),
                "Name": n["Name"],
                "Scope": n.get("Scope", ""),
            },
            n.get("Labels") or {},
        )
        for n in sorted(found, key=lambda n: n["Name"])
    ]
    return listing(
        f"{len(rows)} networks",
        rows,
        NETWORK_HEADERS,
        ["ID", "Name", "Driver", "Scope"],
        format=command.format,
        quiet="ID" if command.quiet else None,
    )


def connect_network(command: ConnectNetwork, client: docker.DockerClient) -> BatchResult:
    if command.verb == "network:connect":
        client.api.connect_container_to_network(
            command.container,
            command.network,
            aliases=command.aliases or None,
            ipv4_address=command.ip,
        )
    else:
        client.api.disconnect_container_from_network(
            command.container, command.network, force=command.force
        )
    return BatchResult(verb=command.verb, done=[f"{command.container} ↔ {command.network}"])
