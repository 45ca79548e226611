"""Swarm service verbs: a command model and a Docker client in, a result model out.

Listings cost a fixed number of requests whatever the number of services or tasks: one
service listing (with its status counts), one task listing filtered by service, one node
listing for host names. Create, update, scale and rollback send a ServiceSpec built here
(handlers/service_spec.py) and pass it to `Context.admit` first, exactly as sent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors

from handlers.context import Context
from handlers.engine_api import engine_request
from handlers.engines import explain
from handlers.errors import EngineError, NoSuchObject, UsageError
from handlers.results import BatchResult, ContainerLogsResult, FormattedResult, TableResult, listing
from handlers.service_commands import (
    CreateService,
    ListServices,
    RemoveServices,
    RollbackService,
    ScaleServices,
    ServiceLogs,
    ServiceTasks,
    UpdateService,
)
from handlers.service_spec import create_spec, update_spec
from handlers.template import Row
from handlers.units import human_duration, point_in_time

SERVICE_HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Mode": "MODE",
    "Replicas": "REPLICAS",
    "Image": "IMAGE",
    "Ports": "PORTS",
}
TASK_HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Image": "IMAGE",
    "Node": "NODE",
    "DesiredState": "DESIRED STATE",
    "CurrentState": "CURRENT STATE",
    "Error": "ERROR",
    "Ports": "PORTS",
}
# The CLI's formatter.Ellipsis width for a task's error in `service ps`.
MAX_ERROR = 30
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
#: how often a command that waits for convergence asks again (seconds)
POLL = 0.5


# --- shared lookups -----------------------------------------------------------------------


def find_service(api: docker.APIClient, name: str) -> dict[str, Any]:
    """A service by ID, name or ID prefix, as the engine resolves it."""
    try:
        found: dict[str, Any] = engine_request(api, "GET", "/services/{}", name)
    except docker.errors.NotFound as exc:
        raise NoSuchObject(explain(exc)) from None  # the engine's words, as the CLI shows
    return found


def network_resolver(api: docker.APIClient) -> Any:
    """resolveNetworkID: a network name becomes its ID (the engine keeps IDs in the spec)."""
    cache: dict[str, str] = {}

    def resolve(name: str) -> str:
        if name not in cache:
            try:
                cache[name] = str(engine_request(api, "GET", "/networks/{}", name)["Id"])
            except docker.errors.NotFound:
                raise NoSuchObject(f"network {name} not found") from None
        return cache[name]

    return resolve


def display_image(image: str) -> str:
    """The image as listings show it: the digest the engine pinned taken off."""
    return _DIGEST.sub("", image)


def _mode(spec: dict[str, Any]) -> str:
    mode = spec.get("Mode") or {}
    for key, word in (
        ("Global", "global"),
        ("Replicated", "replicated"),
        ("ReplicatedJob", "replicated job"),
        ("GlobalJob", "global job"),
    ):
        if key in mode:
            return word
    return ""


def _replicas(service: dict[str, Any]) -> str:
    status = service.get("ServiceStatus") or {}
    running, desired = status.get("RunningTasks", 0), status.get("DesiredTasks", 0)
    spec = service.get("Spec") or {}
    limit = ((spec.get("TaskTemplate") or {}).get("Placement") or {}).get("MaxReplicas", 0)
    if "Replicated" in (spec.get("Mode") or {}) and limit:
        return f"{running}/{desired} (max {limit} per node)"
    return f"{running}/{desired}"


def _ports(service: dict[str, Any]) -> str:
    """Ingress ports as the CLI lists them, consecutive ones as ranges (*:80-81->80-81/tcp)."""
    ports = [
        p
        for p in (service.get("Endpoint") or {}).get("Ports") or []
        if p.get("PublishMode", "ingress") == "ingress"
    ]
    ports.sort(key=lambda p: (p.get("Protocol", ""), p.get("PublishedPort", 0)))
    spans: list[list[Any]] = []  # [published start, end, target start, end, protocol]
    for p in ports:
        pub, tgt, proto = p.get("PublishedPort", 0), p.get("TargetPort", 0), p.get("Protocol")
        last = spans[-1] if spans else None
        if (
            last is not None
            and proto == last[4]
            and pub - last[1] == 1
            and tgt - last[3] == 1
            and not (last[3] != last[2] and tgt <= last[3])
        ):
            last[1], last[3] = pub, tgt
        else:
            spans.append([pub, pub, tgt, tgt, proto])

    def span(start: int, end: int) -> str:
        return f"{start}-{end}" if end > start else str(start)

    return ", ".join(f"*:{span(a, b)}->{span(c, d)}/{proto}" for a, b, c, d, proto in spans)


# --- listings -----------------------------------------------------------------------------


def list_services(
    command: ListServices, client: docker.DockerClient
) -> TableResult | FormattedResult:
    found = client.api.services(filters=command.filters or None, status=True)
    ordered = sorted(found, key=lambda s: _natural((s.get("Spec") or {}).get("Name", "")))
    rows = [
        Row(
            {
                "ID": s["ID"][:12],
                "Name": (s.get("Spec") or {}).get("Name", ""),
                "Mode": _mode(s.get("Spec") or {}),
                "Replicas": _replicas(s),
                "Image": display_image(
                    ((s["Spec"].get("TaskTemplate") or {}).get("ContainerSpec") or {}).get(
                        "Image", ""
                    )
                ),
                "Ports": _ports(s),
            },
            (s.get("Spec") or {}).get("Labels") or {},
        )
        for s in ordered
    ]
    return marked_listing(
        f"{len(rows)} services",
        rows,
        SERVICE_HEADERS,
        [_service_mark(s) for s in ordered],
        format=command.format,
        quiet=command.quiet,
    )


def marked_listing(
    title: str,
    rows: list[Row],
    headers: dict[str, str],
    marks: list[str],
    *,
    format: str | None,
    quiet: bool,
    shown: list[str] | None = None,
) -> TableResult | FormattedResult:
    """A listing in the CLI's default columns (`shown`, else every header), or -q's IDs, or
    the user's --format; a table's rows carry a state word each for renderers that mark rows."""
    columns = shown or list(headers)
    result = listing(title, rows, headers, columns, format=format, quiet="ID" if quiet else None)
    if isinstance(result, TableResult) and not quiet:
        result.grid.marks = marks
    return result


def _service_mark(service: dict[str, Any]) -> str:
    """A state word for renderers that mark rows: running when it runs all it should."""
    state = (service.get("UpdateStatus") or {}).get("State", "")
    if state in ("paused", "rollback_paused"):
        return "paused"
    status = service.get("ServiceStatus") or {}
    running, desired = status.get("RunningTasks", 0), status.get("DesiredTasks", 0)
    if running >= desired:
        return "running" if desired else "created"
    return "unhealthy"


# A task's state as the marks renderers know them (the rest unmarked).
_TASK_MARKS = {
    "running": "running",
    "complete": "exited-ok",
    "shutdown": "exited-ok",
    "failed": "exited",
    "rejected": "exited",
    "orphaned": "dead",
}


def _natural(text: str) -> list[Any]:
    """sortorder.NaturalLess: digits compare as numbers (web.2 before web.10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _since(stamp: str) -> float:
    """Seconds since an engine timestamp (RFC 3339 with nanoseconds)."""
    text = re.sub(r"\.(\d{6})\d*", r".\1", stamp.replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


def _resolve_services(api: docker.APIClient, names: list[str]) -> tuple[list[str], list[str]]:
    """createFilter: each name by full ID, full name, then unique ID prefix; two listing
    requests in all. Returns the service IDs and the names not found."""
    by_id = api.services(filters={"id": names})
    by_name = api.services(filters={"name": names})
    ids: list[str] = []
    missing: list[str] = []
    for name in names:
        exact = [s["ID"] for s in by_id if s["ID"] == name]
        named = [s["ID"] for s in by_name if (s.get("Spec") or {}).get("Name") == name]
        prefixed = [s["ID"] for s in by_id if s["ID"].startswith(name)]
        if exact or named:
            ids.append((exact or named)[0])
        elif len(prefixed) > 1:
            raise UsageError(f"multiple services found with provided prefix: {name}", token=name)
        elif prefixed:
            ids.append(prefixed[0])
        else:
            missing.append(f"no such service: {name}")
    return ids, missing


def service_tasks(
    command: ServiceTasks, client: docker.DockerClient
) -> TableResult | FormattedResult:
    api = client.api
    ids, missing = _resolve_services(api, command.services)
    if not ids:
        raise NoSuchObject("\n".join(missing))
    filters = {**command.filters, "service": ids}
    tasks = api.tasks(filters=filters)
    services = {s["ID"]: s for s in api.services(filters={"id": ids})}
    nodes = {n["ID"]: n for n in api.nodes()} if not command.no_resolve else {}
    trunc = not command.no_trunc and not command.quiet

    def service_name(task: dict[str, Any]) -> str:
        if command.no_resolve:
            return str(task["ServiceID"])
        service = services.get(task["ServiceID"]) or {}
        return str((service.get("Spec") or {}).get("Name") or task["ServiceID"])

    for task in tasks:
        suffix = task.get("Slot") or task.get("NodeID", "")
        task["_name"] = f"{service_name(task)}.{suffix}"
    # Tasks of one slot together, the newest first (the CLI's tasksSortable).
    tasks.sort(key=lambda t: t.get("CreatedAt", ""), reverse=True)
    tasks.sort(key=lambda t: _natural(t["_name"]))
    rows = []
    previous = ""
    for task in tasks:
        name = task["_name"]
        shown = f" \\_ {name}" if name == previous and command.format is None else name
        previous = name
        status = task.get("Status") or {}
        image = ((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Image", "")
        error = str(status.get("Err") or "")
        if trunc and len(error) > MAX_ERROR:
            error = error[: MAX_ERROR - 1] + "…"
        node_id = task.get("NodeID", "")
        node = (
            ((nodes.get(node_id) or {}).get("Description") or {}).get("Hostname", node_id)
            if not command.no_resolve
            else node_id
        )
        ports = (status.get("PortStatus") or {}).get("Ports") or []
        rows.append(
            Row(
                {
                    "ID": task["ID"][:12] if trunc else task["ID"],
                    "Name": shown,
                    "Image": display_image(image) if trunc else image,
                    "Node": node,
                    "DesiredState": str(task.get("DesiredState", "")).capitalize(),
                    "CurrentState": (
                        f"{str(status.get('State', '')).capitalize()} "
                        f"{human_duration(_since(status.get('Timestamp', ''))).lower()} ago"
                    ),
                    "Error": f'"{error}"' if error else "",
                    "Ports": ",".join(
                        f"*:{p.get('PublishedPort')}->{p.get('TargetPort')}/{p.get('Protocol')}"
                        for p in ports
                    ),
                },
                task.get("Labels") or {},
            )
        )
    result = marked_listing(
        f"{len(rows)} tasks",
        rows,
        TASK_HEADERS,
        [_TASK_MARKS.get(str((t.get("Status") or {}).get("State")), "created") for t in tasks],
        format=command.format,
        quiet=command.quiet,
    )
    if missing and isinstance(result, TableResult):
        result.title += f" ({'; '.join(missing)})"
    return result


# --- changes -----------------------------------------------------------------------------


def _update(
    api: docker.APIClient,
    service: dict[str, Any],
    spec: dict[str, Any],
    *,
    rollback: bool = False,
) -> list[str]:
    """POST /services/{id}/update at the version inspected; the engine's warnings."""
    params: dict[str, Any] = {
        "version": (service.get("Version") or {}).get("Index"),
        "registryAuthFrom": "spec",
    }
    if rollback:
        params["rollback"] = "previous"
    answer = engine_request(
        api, "POST", "/services/{}/update", service["ID"], body=spec, params=params
    )
    return list((answer or {}).get("Warnings") or [])


def create_service(
    command: CreateService, client: docker.DockerClient, context: Context
) -> BatchResult:
    api = client.api
    spec = create_spec(command, network_resolver(api))
    context.admit("service.create", spec, command.name or "")
    answer = engine_request(api, "POST", "/services/create", body=spec)
    warnings = list(answer.get("Warnings") or [])
    if answer.get("Warning"):
        warnings.append(str(answer["Warning"]))
    service_id = str(answer["ID"])
    if not command.detach:
        warnings += converge(api, service_id, context.attach_timeout)
    return BatchResult(verb=command.verb, done=[service_id], warnings=warnings)


def _change(
    api: docker.APIClient,
    name: str,
    build: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
    context: Context,
    *,
    rollback: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """Inspect, build the spec (and what the engine will run, for the check), check, send.
    Again, up to three times, when the version moved in between: the swarm bumps it itself
    as an update progresses, so a change right after another one meets it often."""
    for attempt in range(3):
        service = find_service(api, name)
        spec, runs = build(service)
        context.admit("service.update", runs, name)
        try:
            return service, _update(api, service, spec, rollback=rollback)
        except docker.errors.APIError as exc:
            if "out of sequence" not in explain(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def update_service(
    command: UpdateService, client: docker.DockerClient, context: Context
) -> BatchResult:
    api = client.api
    if command.rollback:
        kept = {"service", "rollback", "detach", "quiet", "host", "verb"}
        given = [
            name
            for name, field in UpdateService.model_fields.items()
            if name not in kept
            and getattr(command, name) != field.get_default(call_default_factory=True)
        ]
        if given:
            raise UsageError("other flags may not be combined with --rollback")
        return _rollback(api, command.service, command.verb, command.detach, context)
    resolve = network_resolver(api)

    def build(service: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            spec = update_spec(command, service.get("Spec") or {}, resolve)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return spec, spec

    service, warnings = _change(api, command.service, build, context)
    if not command.detach:
        warnings += converge(api, service["ID"], context.attach_timeout)
    return BatchResult(verb=command.verb, done=[command.service], warnings=warnings)


def _rollback(
    api: docker.APIClient, name: str, verb: str, detach: bool, context: Context
) -> BatchResult:
    def build(service: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        previous = service.get("PreviousSpec")
        if not previous:
            raise EngineError(f"service {name} does not have a previous spec")
        # The engine will run the previous spec: that is what the check judges.
        return service.get("Spec") or {}, previous

    service, warnings = _change(api, name, build, context, rollback=True)
    if not detach:
        warnings += converge(api, service["ID"], context.attach_timeout)
    return BatchResult(verb=verb, done=[name], warnings=warnings)


def rollback_service(
    command: RollbackService, client: docker.DockerClient, context: Context
) -> BatchResult:
    return _rollback(client.api, command.service, command.verb, command.detach, context)


def scale_services(
    command: ScaleServices, client: docker.DockerClient, context: Context
) -> BatchResult:
    """Each SERVICE=REPLICAS is one update of that service's whole spec (checked, since
    more tasks of it will run); a failure is reported and the others still go."""
    api = client.api
    result = BatchResult(verb=command.verb)
    scaled: list[str] = []
    for name, replicas in command.scales:

        def build(
            service: dict[str, Any], replicas: int = replicas
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            spec = dict(service.get("Spec") or {})
            mode = spec.get("Mode") or {}
            if "Replicated" not in mode:
                raise EngineError("scale can only be used with replicated or replicated-job mode")
            spec["Mode"] = {**mode, "Replicated": {"Replicas": replicas}}
            return spec, spec

        try:
            service, warnings = _change(api, name, build, context)
        except (EngineError, docker.errors.APIError) as exc:
            why = explain(exc) if isinstance(exc, docker.errors.APIError) else exc.message
            result.errors.append((name, why))
            continue
        result.warnings += warnings
        result.done.append(f"{name} scaled to {replicas}")
        scaled.append(service["ID"])
    if not command.detach:
        for service_id in scaled:
            result.warnings += converge(api, service_id, context.attach_timeout)
    return result


def remove_services(command: RemoveServices, client: docker.DockerClient) -> BatchResult:
    result = BatchResult(verb=command.verb)
    for name in command.names:
        try:
            engine_request(client.api, "DELETE", "/services/{}", name)
            result.done.append(name)
        except docker.errors.APIError as exc:
            result.errors.append((name, explain(exc)))
    return result


def converge(api: docker.APIClient, service_id: str, timeout: float) -> list[str]:
    """Wait, as the CLI does without --detach, until the service runs what it should; a
    note when it has not within `timeout` (the command itself succeeded)."""
    deadline = time.monotonic() + timeout
    running = desired = 0
    while True:
        found = api.services(filters={"id": [service_id]}, status=True)
        if not found:
            return []
        status = found[0].get("ServiceStatus") or {}
        running, desired = status.get("RunningTasks", 0), status.get("DesiredTasks", 0)
        update = (found[0].get("UpdateStatus") or {}).get("State", "completed")
        settled = update in ("completed", "rollback_completed", "paused", "rollback_paused")
        if running == desired and settled:
            return []
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL)
    name = (found[0].get("Spec") or {}).get("Name", service_id)
    return [f"{name}: {running}/{desired} tasks running after {timeout:g} s; still converging"]


# --- logs ---------------------------------------------------------------------------------


def service_logs(command: ServiceLogs, client: docker.DockerClient) -> ContainerLogsResult:
    """The CLI's prefix (`web.1.abcdef012345@node    | `) built from one task listing and
    one node listing, not one inspect per task."""
    api = client.api
    try:
        service = find_service(api, command.service)
    except NoSuchObject:
        raise NoSuchObject(f"no such task or service: {command.service}") from None
    kwargs: dict[str, Any] = {
        "details": True,
        "stdout": True,
        "stderr": True,
        "timestamps": command.timestamps,
        "tail": command.tail,
    }
    if command.since:  # its syntax was checked when the command was parsed (ServiceLogs)
        kwargs["since"] = point_in_time(command.since)
    raw = api.service_logs(service["ID"], **kwargs)
    data = raw if isinstance(raw, bytes | str) else b"".join(raw)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if command.raw:
        return ContainerLogsResult(container=command.service, text=_strip_details(text, command))
    tasks = {t["ID"]: t for t in api.tasks(filters={"service": [service["ID"]]})}
    nodes = {n["ID"]: n for n in api.nodes()}
    name = (service.get("Spec") or {}).get("Name", command.service)
    replicas = (((service.get("Spec") or {}).get("Mode") or {}).get("Replicated") or {}).get(
        "Replicas"
    )
    padding = len(str(replicas)) if replicas else 0
    lines = []
    for line in text.splitlines(keepends=True):
        parts = line.split(" ", 2 if command.timestamps else 1)
        if len(parts) < (3 if command.timestamps else 2):
            lines.append(line)
            continue
        stamp = parts[0] + " " if command.timestamps else ""
        details = dict(pair.partition("=")[::2] for pair in parts[-2].split(",") if "=" in pair)
        task = tasks.get(details.get("com.docker.swarm.task.id", "")) or {}
        slot = int(task.get("Slot") or 0)
        task_name = f"{name}.{slot}"
        if not command.no_task_ids:
            task_id = str(task.get("ID", details.get("com.docker.swarm.task.id", "")))
            task_name += "." + (task_id if command.no_trunc else task_id[:12])
        node_id = details.get("com.docker.swarm.node.id", "")
        node = ((nodes.get(node_id) or {}).get("Description") or {}).get("Hostname", node_id)
        pad = " " * max(0, padding - len(str(slot)))
        lines.append(f"{stamp}{task_name}@{node}{pad}    | {parts[-1]}")
    return ContainerLogsResult(container=name, text="".join(lines))


def _strip_details(text: str, command: ServiceLogs) -> str:
    keep = 2 if command.timestamps else 1
    out = []
    for line in text.splitlines(keepends=True):
        parts = line.split(" ", keep)
        if len(parts) <= keep:
            out.append(line)
        elif command.timestamps:
            out.append(f"{parts[0]} {parts[2]}")
        else:
            out.append(parts[1])
    return "".join(out)


# --- confirmation previews ----------------------------------------------------------------


def service_preview(
    command: RemoveServices | ScaleServices, api: docker.APIClient
) -> list[dict[str, str]]:
    """What `service rm` would remove, or which services `service scale` would take to zero
    tasks (scaling up or down to some is no removal and asks no confirmation)."""
    wanted = (
        [(name, 0) for name in command.names]
        if isinstance(command, RemoveServices)
        else [(name, n) for name, n in command.scales if n == 0]
    )
    items = []
    for name, _ in wanted:
        try:
            service = find_service(api, name)
        except NoSuchObject:
            continue
        status = (api.services(filters={"id": [service["ID"]]}, status=True) or [{}])[0]
        counts = status.get("ServiceStatus") or {}
        running = f"{counts.get('RunningTasks', 0)}/{counts.get('DesiredTasks', 0)} running"
        shown = f"{(service.get('Spec') or {}).get('Name', name)} ({running})"
        items.append({"kind": "service", "id": str(service["ID"]), "name": shown})
    return items


def service_target_labels(command: Any, client: Any) -> dict[str, dict[str, str]] | None:
    """For the protection rule: each service a change acts on, by the name given, with its
    labels; None for a command that changes no service (a missing one is the handler's)."""
    if isinstance(command, UpdateService | RollbackService):
        names = [command.service]
    elif isinstance(command, ScaleServices):
        names = [name for name, _ in command.scales]
    elif isinstance(command, RemoveServices):
        names = list(command.names)
    else:
        return None
    found: dict[str, dict[str, str]] = {}
    for name in names:
        try:
            service = find_service(client.api, name)
        except NoSuchObject:
            continue
        found[name] = dict((service.get("Spec") or {}).get("Labels") or {})
    return found
