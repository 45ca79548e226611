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
from handlers.context import Context
from handlers.engine_api import engine_request
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


def create_network(
    command: CreateNetwork, client: docker.DockerClient, context: Context
) -> BatchResult:
    body = network_body(command)
    context.admit("network.create", body, command.name)
    answer = engine_request(client.api, "POST", "/networks/create", body=body)
    result = BatchResult(verb=command.verb, done=[f"{command.name} ({answer['Id']})"])
    if answer.get("Warning"):
        result.warnings.append(answer["Warning"])
    return result


def network_body(command: CreateNetwork) -> dict[str, Any]:
    """The body of POST /networks/create, as docker-py's create_network builds it."""
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
    body: dict[str, Any] = {
        "Name": command.name,
        "Driver": command.driver,
        "Options": command.options or None,
        "IPAM": ipam,
        "CheckDuplicate": True,
    }
    if command.internal:
        body["Internal"] = True
    if command.labels:
        body["Labels"] = command.labels
    if command.ipv6:
        body["EnableIPv6"] = True
    if command.attachable:
        body["Attachable"] = True
    return body


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


def connect_network(
    command: ConnectNetwork, client: docker.DockerClient, context: Context
) -> BatchResult:
    if command.verb == "network:connect":
        endpoint: dict[str, Any] = {}
        if command.aliases:
            endpoint["Aliases"] = command.aliases
        if command.ip:
            endpoint["IPAMConfig"] = {"IPv4Address": command.ip}
        body = {"Container": command.container, "EndpointConfig": endpoint}
        context.admit("network.connect", body, command.network)
        engine_request(client.api, "POST", "/networks/{}/connect", command.network, body=body)
    else:
        client.api.disconnect_container_from_network(
            command.container, command.network, force=command.force
        )
    return BatchResult(verb=command.verb, done=[f"{command.container} ↔ {command.network}"])
