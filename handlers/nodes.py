"""Swarm node verbs and `service inspect`/`node inspect`: a command model and a Docker
client in, a result model out. A node listing is one request (plus one `info` for which
node answers, marked `*` as the CLI marks it)."""

from __future__ import annotations

from typing import Any

import docker
import docker.errors

from handlers.engine_api import engine_request
from handlers.engines import explain
from handlers.errors import NoSuchObject, UsageError
from handlers.results import BatchResult, FormattedResult, InspectResult, TableResult
from handlers.service_commands import InspectSwarmObjects, ListNodes, UpdateNode
from handlers.service_spec import kv_map
from handlers.services import marked_listing
from handlers.template import Row, render

NODE_HEADERS = {
    "ID": "ID",
    "Hostname": "HOSTNAME",
    "Status": "STATUS",
    "Availability": "AVAILABILITY",
    "ManagerStatus": "MANAGER STATUS",
    "EngineVersion": "ENGINE VERSION",
    "Self": "SELF",
    "TLSStatus": "TLS STATUS",
}


def _manager_status(node: dict[str, Any]) -> str:
    status = node.get("ManagerStatus")
    if not status:
        return ""
    if status.get("Leader"):
        return "Leader"
    return str(status.get("Reachability", "")).capitalize()


def list_nodes(command: ListNodes, client: docker.DockerClient) -> TableResult | FormattedResult:
    api = client.api
    found = api.nodes(filters=command.filters or None)
    me = (client.api.info().get("Swarm") or {}).get("NodeID", "")
    rows = []
    for node in sorted(found, key=lambda n: (n.get("Description") or {}).get("Hostname", "")):
        description = node.get("Description") or {}
        spec = node.get("Spec") or {}
        tls = (description.get("TLSInfo") or {}) and "Ready"
        rows.append(
            Row(
                {
                    # The CLI marks the node it asked with `*` in the ID column.
                    "ID": node["ID"]
                    + (" *" if node["ID"] == me and command.format is None else ""),
                    "Hostname": description.get("Hostname", ""),
                    "Status": str((node.get("Status") or {}).get("State", "")).capitalize(),
                    "Availability": str(spec.get("Availability", "")).capitalize(),
                    "ManagerStatus": _manager_status(node),
                    "EngineVersion": (description.get("Engine") or {}).get("EngineVersion", ""),
                    "Self": node["ID"] == me,
                    "TLSStatus": tls or "Unknown",
                },
                spec.get("Labels") or {},
            )
        )
    if command.quiet:
        for row in rows:
            row["ID"] = row["ID"].removesuffix(" *")
    return marked_listing(
        f"{len(rows)} nodes",
        rows,
        NODE_HEADERS,
        [
            "dead"
            if row["Status"] != "Ready"
            else {"Drain": "paused", "Pause": "paused"}.get(row["Availability"], "running")
            for row in rows
        ],
        format=command.format,
        quiet=command.quiet,
        shown=["ID", "Hostname", "Status", "Availability", "ManagerStatus", "EngineVersion"],
    )


def find_node(api: docker.APIClient, name: str) -> dict[str, Any]:
    """A node by ID, host name or ID prefix, or `self` (the node this engine is)."""
    if name == "self":
        name = (api.info().get("Swarm") or {}).get("NodeID", "") or name
    try:
        found: dict[str, Any] = engine_request(api, "GET", "/nodes/{}", name)
    except docker.errors.NotFound as exc:
        raise NoSuchObject(explain(exc)) from None
    return found


def inspect_swarm_objects(
    command: InspectSwarmObjects, client: docker.DockerClient
) -> InspectResult:
    if command.pretty:
        raise UsageError(
            "--pretty is not available here; use --format or the JSON", token="--pretty"
        )
    api = client.api
    objects = []
    for name in command.names:
        if command.verb == "node:inspect":
            objects.append(find_node(api, name))
        else:
            try:
                # As the CLI asks: with the swarm's defaults filled in (StopGracePeriod...).
                objects.append(
                    engine_request(
                        api, "GET", "/services/{}", name, params={"insertDefaults": "true"}
                    )
                )
            except docker.errors.NotFound:
                raise NoSuchObject(f"Error: no such service: {name}") from None
    formatted = [render(command.format, o) for o in objects] if command.format else None
    return InspectResult(objects=objects, formatted=formatted)


def update_node(command: UpdateNode, client: docker.DockerClient) -> BatchResult:
    """POST /nodes/{id}/update with the node's spec changed as the flags say, at the version
    inspected (a concurrent change makes the engine refuse rather than lose it)."""
    api = client.api
    node = find_node(api, command.node)
    spec = dict(node.get("Spec") or {})
    if command.availability is not None:
        spec["Availability"] = command.availability
    if command.role is not None:
        spec["Role"] = command.role
    if command.label_add or command.label_rm:
        labels = dict(spec.get("Labels") or {})
        for key in command.label_rm:
            if key not in labels:
                raise UsageError(f"key {key} doesn't exist in node's labels", token=key)
            labels.pop(key)
        labels.update(kv_map(command.label_add))
        spec["Labels"] = labels
    engine_request(
        api,
        "POST",
        "/nodes/{}/update",
        node["ID"],
        body=spec,
        params={"version": (node.get("Version") or {}).get("Index")},
    )
    return BatchResult(verb=command.verb, done=[command.node])
