"""Container verbs: a command model and a Docker client in, a result model out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors
import requests.exceptions

from handlers.commands import (
    ContainerAction,
    ContainerLogs,
    ContainerStats,
    ContainerTop,
    ListContainers,
    RenameContainer,
    RunContainer,
    UpdateContainers,
)
from handlers.context import Context
from handlers.engine_api import engine_request, inspect
from handlers.engines import explain
from handlers.errors import UsageError
from handlers.results import (
    PS_HEADERS,
    STATS_HEADERS,
    BatchResult,
    ContainerList,
    ContainerLogsResult,
    ContainerRun,
    ContainerSummary,
    FormattedResult,
    PortMapping,
    StatsResult,
    StatsRow,
    Table,
    TableResult,
)
from handlers.template import listing_template, render_listing
from handlers.units import point_in_time
from handlers.values import is_user_network, split_device
from handlers.verbs import starts_containers

UNCONFINED_PATHS = "systempaths=unconfined"
MAX_OUTPUT = 4 << 20  # bytes of an attached run's output kept for the reply
# Seconds a restart without -t may take beyond the client's timeout: the engine's default
# stop timeout (10 s) and then some for a container with a longer StopTimeout.
RESTART_WAIT = 70


def list_containers(
    command: ListContainers, client: docker.DockerClient
) -> ContainerList | FormattedResult:
    template = listing_template(command.format, command.quiet)
    # The low-level call is one request for the whole list; client.containers.list()
    # would inspect every container (one request each). Sizes cost the engine a walk of
    # every container's files: only when asked, or when the template shows them (the CLI's
    # rule).
    found = client.api.containers(
        all=command.all,
        filters=command.filters or None,
        latest=command.latest,
        limit=command.last,
        size=command.size or ".Size" in (template or ""),
    )
    found_containers = ContainerList(
        containers=[container_summary(raw) for raw in found],
        quiet=command.quiet,
        no_trunc=command.no_trunc,
        size=command.size,
    )
    if template is None:
        return found_containers
    now = time.time()
    rows = [c.cli_fields(command.no_trunc, now) for c in found_containers.containers]
    return FormattedResult(
        title=found_containers.summary(), lines=render_listing(template, rows, PS_HEADERS)
    )


def container_summary(raw: dict[str, Any]) -> ContainerSummary:
    """One entry of GET /containers/json as a model."""
    return ContainerSummary(
        id=raw["Id"],
        names=[name.lstrip("/") for name in raw.get("Names") or []],
        image=raw.get("Image", ""),
        command=raw.get("Command", ""),
        created=raw.get("Created", 0),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=[
            PortMapping(
                private_port=port["PrivatePort"],
                type=port.get("Type", "tcp"),
                public_port=port.get("PublicPort"),
                ip=port.get("IP"),
            )
            for port in raw.get("Ports") or []
        ],
        labels=raw.get("Labels") or {},
        mounts=[m.get("Name") or m.get("Source", "") for m in raw.get("Mounts") or []],
        local_volumes=sum(1 for m in raw.get("Mounts") or [] if m.get("Driver") == "local"),
        networks=list((raw.get("NetworkSettings") or {}).get("Networks") or {}),
        size_rw=raw.get("SizeRw"),
        size_root_fs=raw.get("SizeRootFs"),
    )


# --- run and create ---------------------------------------------------------------------


def create_body(command: RunContainer) -> dict[str, Any]:
    """The Engine API body of POST /containers/create, as the docker CLI builds it."""
    binds: list[str] = []
    volumes: dict[str, dict[str, str]] = {}
    for spec in command.volumes:
        if ":" in spec:  # a relative source was refused by the model (RunContainer.volumes)
            binds.append(spec)
        else:
            volumes[spec] = {}
    port_bindings: dict[str, list[dict[str, str]]] = {}
    for binding in command.publish:
        port_bindings.setdefault(binding.container_port, []).append(
            {"HostIp": binding.host_ip, "HostPort": binding.host_port}
        )
    exposed: dict[str, dict[str, str]] = {port: {} for port in [*port_bindings, *command.expose]}
    restart = command.restart
    host_config: dict[str, Any] = {
        "Binds": binds or None,
        "NetworkMode": command.network,
        "PortBindings": port_bindings,
        "PublishAllPorts": command.publish_all,
        "RestartPolicy": {
            "Name": restart.name if restart else "no",
            "MaximumRetryCount": restart.maximum_retry_count if restart else 0,
        },
        "AutoRemove": command.auto_remove,
        "Dns": command.dns,
        "ExtraHosts": command.add_hosts or None,
        "NanoCpus": command.cpus or 0,
        "CpuShares": command.cpu_shares or 0,
        "CpusetCpus": command.cpuset_cpus or "",
        "Memory": command.memory or 0,
        "MemorySwap": command.memory_swap or 0,
        "MemoryReservation": command.memory_reservation or 0,
        "ShmSize": command.shm_size or 0,
        "Mounts": command.mounts or None,
        "Tmpfs": dict(_tmpfs(spec) for spec in command.tmpfs) or None,
        "ReadonlyRootfs": command.read_only,
        "Privileged": command.privileged,
        "CapAdd": command.cap_add or None,
        "CapDrop": command.cap_drop or None,
        "Devices": [_device(spec) for spec in command.devices],
        # The CLI turns `systempaths=unconfined` into empty masked/read-only path lists (and
        # then sends the other options as a list, empty or not).
        "SecurityOpt": [o for o in command.security_opt if o != UNCONFINED_PATHS]
        if UNCONFINED_PATHS in command.security_opt
        else command.security_opt or None,
        "PidMode": command.pid or "",
        "IpcMode": command.ipc or "",
        "UTSMode": command.uts or "",
        "UsernsMode": command.userns or "",
        "GroupAdd": command.group_add or None,
        "LogConfig": {"Type": command.log_driver or "", "Config": command.log_opts},
        "Ulimits": command.ulimits,
        "Sysctls": command.sysctls or None,
        "DnsSearch": command.dns_search,
        "DnsOptions": command.dns_options,
        "VolumesFrom": command.volumes_from or None,
        "CpuPeriod": command.cpu_period or 0,
        "CpuQuota": command.cpu_quota or 0,
        "CpusetMems": command.cpuset_mems or "",
        "OomScoreAdj": command.oom_score_adj or 0,
        "Links": command.links or None,
        # The CLI sends these lists even when empty, and the engine keeps [] (not null).
        "BlkioWeightDevice": command.blkio_weight_devices,
        "BlkioDeviceReadBps": command.device_read_bps,
        "BlkioDeviceWriteBps": command.device_write_bps,
        "BlkioDeviceReadIOps": command.device_read_iops,
        "BlkioDeviceWriteIOps": command.device_write_iops,
    }
    # Set only when given: the engine's own default otherwise, as when the CLI sends zero.
    optional: dict[str, Any] = {
        "DeviceRequests": command.gpus,
        "DeviceCgroupRules": command.device_cgroup_rules,
        "BlkioWeight": command.blkio_weight,
        "CgroupnsMode": command.cgroupns,
        "CgroupParent": command.cgroup_parent,
        "Runtime": command.runtime,
        "Isolation": command.isolation,
        "StorageOpt": command.storage_opts,
        "VolumeDriver": command.volume_driver,
        "KernelMemory": command.kernel_memory,
        "CpuRealtimePeriod": command.cpu_rt_period,
        "CpuRealtimeRuntime": command.cpu_rt_runtime,
        "Annotations": command.annotations,
    }
    host_config.update({k: v for k, v in optional.items() if v})

    if command.oom_kill_disable is not None:
        host_config["OomKillDisable"] = command.oom_kill_disable
    if command.memory_swappiness not in (None, -1):
        host_config["MemorySwappiness"] = command.memory_swappiness
    if command.pids_limit is not None:
        host_config["PidsLimit"] = command.pids_limit
    if command.init is not None:
        host_config["Init"] = command.init
    if UNCONFINED_PATHS in command.security_opt:
        host_config["MaskedPaths"] = []
        host_config["ReadonlyPaths"] = []
    body: dict[str, Any] = {
        "Image": command.image,
        "Cmd": command.command or None,
        "Env": command.env,
        "Labels": command.labels,
        "WorkingDir": command.workdir or "",
        "User": command.user or "",
        "Hostname": command.hostname or "",
        "Domainname": command.domainname or "",
        "ExposedPorts": exposed or None,
        "Volumes": volumes or None,
        # The CLI attaches stdout and stderr unless it runs detached, `create` included.
        "AttachStdout": not command.detach,
        "AttachStderr": not command.detach,
        "HostConfig": host_config,
    }
    if command.entrypoint is not None:
        body["Entrypoint"] = [command.entrypoint]  # "" resets the image's entrypoint
    if command.stop_signal:
        body["StopSignal"] = command.stop_signal
    if command.stop_timeout is not None:
        body["StopTimeout"] = command.stop_timeout
    health = _healthcheck(command)
    if health is not None:
        body["Healthcheck"] = health
    endpoints = command.endpoints()
    network = command.network
    main = endpoints.get(network, {})
    if main.get("MacAddress"):
        # API 1.41 takes the MAC address in Config, not per network (that came in 1.44).
        body["MacAddress"] = main.pop("MacAddress")
        if not main and not is_user_network(network):
            endpoints.pop(network)
    if is_user_network(network):
        endpoints.setdefault(network, {})  # named always, as the CLI of the engine's era did
    if endpoints:
        body["NetworkingConfig"] = {"EndpointsConfig": endpoints}
    return body


def _healthcheck(command: RunContainer) -> dict[str, Any] | None:
    if command.no_healthcheck:
        return {"Test": ["NONE"]}
    values = (
        command.health_cmd,
        command.health_interval,
        command.health_timeout,
        command.health_start_period,
        command.health_retries,
    )
    if not any(values):
        return None  # zero values are no setting, as the CLI counts them
    return {
        "Test": ["CMD-SHELL", command.health_cmd] if command.health_cmd else None,
        "Interval": command.health_interval or 0,
        "Timeout": command.health_timeout or 0,
        "StartPeriod": command.health_start_period or 0,
        "Retries": command.health_retries or 0,
    }


def _tmpfs(spec: str) -> tuple[str, str]:
    path, _, options = spec.partition(":")
    return path, options


def _device(spec: str) -> dict[str, str]:
    host, inside, permissions = split_device(spec)
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": permissions}


def run_container(
    command: RunContainer, client: docker.DockerClient, context: Context
) -> ContainerRun:
    """create (pulling the image if it is missing, as the CLI does), then start and wait."""
    api = client.api
    body = create_body(command)
    pulled = False

    def pull() -> None:
        from handlers.images import pull_reference

        nonlocal pulled
        # The same pull as `image pull`: progress, and the registry's stored credentials.
        pull_reference(client, command.image, context, platform=command.platform)
        pulled = True

    if command.pull == "always":
        pull()
    # The safety check sees this very body, at the last moment before the engine does.
    context.admit("container.create", body, command.name or "")
    try:
        created = api.create_container_from_config(
            body, name=command.name, platform=command.platform
        )
    except docker.errors.ImageNotFound:
        if command.pull != "missing":
            raise
        pull()
        context.admit("container.create", body, command.name or "")
        created = api.create_container_from_config(
            body, name=command.name, platform=command.platform
        )
    container_id = created["Id"]
    result = ContainerRun(
        id=container_id,
        name=command.name or "",
        image=command.image,
        warnings=created.get("Warnings") or [],
        pulled=pulled,
        verb=command.verb,
    )
    with naming(container_id):
        if not result.name:
            result.name = api.inspect_container(container_id)["Name"].lstrip("/")
        if not command.is_run:
            return result
        if command.detach:
            api.start(container_id)
            result.started = True
            return result
        return _run_attached(api, result, context.attach_timeout, context.detach)


def _run_attached(
    api: docker.APIClient,
    result: ContainerRun,
    wait: float,
    detach: Callable[[], bool] = lambda: False,
) -> ContainerRun:
    """Start with output attached; give the container `wait` seconds to finish, or until
    `detach()` says to stop waiting (a shutdown's grace is over): the container is then left
    running, as the CLI's detach keys leave it."""
    stream = api.attach(result.id, stdout=True, stderr=True, stream=True, logs=True)
    chunks: list[bytes] = []

    def read() -> None:
        kept = 0
        try:
            for chunk in stream:
                if kept < MAX_OUTPUT:
                    chunks.append(chunk[: MAX_OUTPUT - kept])
                    kept += len(chunk)
        except (requests.exceptions.RequestException, OSError, ValueError):
            pass  # the stream closes when we stop waiting or the container is removed

    reader = threading.Thread(target=read, daemon=True, name=f"attach-{result.id[:12]}")
    reader.start()
    started = time.monotonic()
    api.start(result.id)
    result.started = True
    try:
        status = _wait_unless_detached(api, result.id, wait, detach)
        if status is None:
            result.still_running = result.detached = True
        else:
            result.exit_code = int(status.get("StatusCode", 0))
            reader.join(timeout=5)
    except requests.exceptions.ReadTimeout:
        result.still_running = True
    except _CUT as exc:
        # Read timeouts can surface as a ConnectionError wrapping one; anything else is the
        # engine gone mid-run (naming() says which container, for whoever looks afterwards).
        if "timed out" not in str(exc).lower():
            raise
        result.still_running = True
    finally:
        stream.close()
    result.seconds = round(time.monotonic() - started, 2)
    result.output = b"".join(chunks).decode("utf-8", "replace")
    return result


def _wait_unless_detached(
    api: docker.APIClient, container: str, wait: float, detach: Callable[[], bool]
) -> dict[str, Any] | None:
    """The engine's wait (its answer, or its exception raised here), or None once `detach()`
    holds first. The wait goes on in its thread until the container exits or `wait` passes."""
    answer: dict[str, Any] = {}
    done = threading.Event()

    def wait_for_exit() -> None:
        try:
            answer["status"] = api.wait(container, timeout=wait)
        except BaseException as exc:
            answer["error"] = exc
        finally:
            done.set()

    threading.Thread(target=wait_for_exit, daemon=True, name=f"wait-{container[:12]}").start()
    while not done.wait(0.2):
        if detach():
            return None
    if "error" in answer:
        raise answer["error"]
    return dict(answer["status"])


#: a connection to the engine cut mid-request (requests' and the socket's own)
_CUT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
)


@contextmanager
def naming(container_id: str) -> Iterator[None]:
    """A connection cut inside the block names the container it was about, so the user is
    told which one to look at (handlers/engines.py's translate_engine_errors reads it)."""
    try:
        yield
    except _CUT as exc:
        if not getattr(exc, "container_id", ""):
            exc.container_id = container_id  # type: ignore[union-attr]
        raise


# --- one verb over many containers -----------------------------------------------------


def _resolve(api: docker.APIClient, names: list[str], result: BatchResult) -> list[tuple[str, str]]:
    """(name, full ID) of each container that exists; the others go to `result.errors`."""
    targets: list[tuple[str, str]] = []
    for name in names:
        try:
            targets.append((name, inspect(api, "container", name)["Id"]))
        except docker.errors.APIError as exc:
            result.errors.append((name, explain(exc)))
    return targets


def _in_given_order(result: BatchResult, names: list[str]) -> None:
    """Errors in the order the user named the containers, as the CLI reports them."""
    order = {name: n for n, name in enumerate(names)}
    result.errors.sort(key=lambda error: order.get(error[0], 0))


def container_action(
    command: ContainerAction, client: docker.DockerClient, context: Context
) -> BatchResult:
    """The CLI goes on past a failing container and reports each; so do we. Each name is
    looked up once and acted on by its full ID, so the safety check and the call are about
    the same container. One that would run again is checked first, all of them before any
    starts: one that fails the check refuses the whole command, so nothing is half done."""
    api = client.api
    verb = command.verb.split(":")[1]
    result = BatchResult(verb=command.verb)
    targets = _resolve(api, command.containers, result)
    if starts_containers(command.verb):
        for _, cid in targets:
            context.admit("container.start", {}, cid)
    for name, cid in targets:
        try:
            with naming(cid):  # a cut connection names the container it was about
                if verb == "start":
                    api.start(cid)
                elif verb == "stop":
                    api.stop(cid, timeout=command.time)
                elif verb == "restart" and command.time is not None:
                    api.restart(cid, timeout=command.time)
                elif verb == "restart":
                    # No -t: the engine waits the container's own StopTimeout (10 s unless set);
                    # docker-py cannot send a restart without `t`, so it is sent directly.
                    engine_request(
                        api, "POST", "/containers/{}/restart", cid, extra_seconds=RESTART_WAIT
                    )
                elif verb == "kill":
                    api.kill(cid, signal=command.signal)
                elif verb == "rm":
                    api.remove_container(cid, force=command.force, v=command.volumes)
                elif verb == "pause":
                    api.pause(cid)
                elif verb == "unpause":
                    api.unpause(cid)
                result.done.append(name)
        except docker.errors.APIError as exc:
            result.errors.append((name, explain(exc)))
    _in_given_order(result, command.containers)
    return result


def rename_container(command: RenameContainer, client: docker.DockerClient) -> BatchResult:
    client.api.rename(command.container, command.new_name)
    return BatchResult(verb=command.verb, done=[f"{command.container} → {command.new_name}"])


def update_containers(
    command: UpdateContainers, client: docker.DockerClient, context: Context
) -> BatchResult:
    """Each container looked up once and updated by its ID; the body passes the safety
    check for each (a restart policy lets the engine start it later on its own)."""
    api = client.api
    body = update_body(command)
    result = BatchResult(verb=command.verb)
    targets = _resolve(api, command.containers, result)
    for _, cid in targets:
        context.admit("container.update", body, cid)
    for name, cid in targets:
        try:
            answer = engine_request(api, "POST", "/containers/{}/update", cid, body=body)
            result.done.append(name)
            result.warnings.extend((answer or {}).get("Warnings") or [])
        except docker.errors.APIError as exc:
            result.errors.append((name, explain(exc)))
    _in_given_order(result, command.containers)
    return result


def update_body(command: UpdateContainers) -> dict[str, Any]:
    """The body of POST /containers/{id}/update: only what the user set."""
    body: dict[str, Any] = {}
    for key, value in (
        ("NanoCpus", command.cpus),
        ("CpuShares", command.cpu_shares),
        ("CpusetCpus", command.cpuset_cpus),
        ("Memory", command.memory),
        ("MemorySwap", command.memory_swap),
        ("MemoryReservation", command.memory_reservation),
        ("PidsLimit", command.pids_limit),
    ):
        if value is not None:
            body[key] = value
    if command.restart is not None:
        body["RestartPolicy"] = {
            "Name": command.restart.name,
            "MaximumRetryCount": command.restart.maximum_retry_count,
        }
    return body


# --- logs, top, stats ------------------------------------------------------------------


def flag_time(text: str, flag: str) -> float:
    """--since/--until, with the flag named when the value is not a time."""
    try:
        return point_in_time(text)
    except ValueError as exc:
        raise UsageError(
            f'invalid argument "{text}" for "{flag}" flag: {exc}', token=text
        ) from None


def container_logs(command: ContainerLogs, client: docker.DockerClient) -> ContainerLogsResult:
    # --tail, --since and --until were checked when the command was parsed (ContainerLogs).
    tail: str | int = command.tail if command.tail == "all" else int(command.tail)
    kwargs: dict[str, Any] = {"timestamps": command.timestamps, "tail": tail}
    if command.since:
        kwargs["since"] = flag_time(command.since, "--since")
    if command.until:
        kwargs["until"] = flag_time(command.until, "--until")
    raw = client.api.logs(command.container, stdout=True, stderr=True, **kwargs)
    return ContainerLogsResult(container=command.container, text=raw.decode("utf-8", "replace"))


def container_top(command: ContainerTop, client: docker.DockerClient) -> TableResult:
    answer = client.api.top(command.container, ps_args=" ".join(command.ps_args) or None)
    return TableResult(
        title=f"processes in {command.container}",
        grid=Table(
            columns=answer.get("Titles") or [],
            rows=[list(p) for p in answer.get("Processes") or []],
        ),
    )


def container_stats(
    command: ContainerStats, client: docker.DockerClient
) -> StatsResult | FormattedResult:
    """One snapshot, as `docker stats --no-stream`. The Engine has no stats listing, so each
    container is one request (the CLI does the same); they run in parallel."""
    api = client.api
    names = command.containers or [c["Id"] for c in api.containers(all=command.all)]
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(names)))) as pool:
        rows = list(pool.map(lambda n: _stats_row(api, n), names))
    if not command.containers:
        for row in rows:
            row.container = row.id[:12]  # the CLI names each by its short ID when listing all
    result = StatsResult(rows=rows, no_trunc=command.no_trunc)
    template = listing_template(command.format, False)
    if template is None:
        return result
    lines = render_listing(template, result.fields(), STATS_HEADERS)
    return FormattedResult(title=result.summary(), lines=lines)


def _stats_row(api: docker.APIClient, name: str) -> StatsRow:
    raw = api.stats(name, stream=False)
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get(
        "total_usage", 0
    )
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or []) or 1
    cpu_percent = (
        cpu_delta / system_delta * online * 100 if system_delta > 0 and cpu_delta > 0 else 0.0
    )
    memory = raw.get("memory_stats") or {}
    stats = memory.get("stats") or {}
    usage = memory.get("usage", 0)
    inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
    if inactive < usage:
        usage -= inactive
    limit = memory.get("limit", 0)
    networks = raw.get("networks") or {}
    blkio = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return StatsRow(
        id=raw.get("id", name),
        container=name,
        name=(raw.get("name") or name).lstrip("/"),
        cpu_percent=cpu_percent,
        memory_usage=usage,
        memory_limit=limit,
        net_rx=sum(n.get("rx_bytes", 0) for n in networks.values()),
        net_tx=sum(n.get("tx_bytes", 0) for n in networks.values()),
        block_read=sum(e.get("value", 0) for e in blkio if e.get("op", "").lower() == "read"),
        block_write=sum(e.get("value", 0) for e in blkio if e.get("op", "").lower() == "write"),
        pids=(raw.get("pids_stats") or {}).get("current", 0),
    )
