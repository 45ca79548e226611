"""`docker info` as the CLI prints it (prettyPrintInfo). The Server part is the engine's, line
for line; the Client part describes the client that asked (Dockhand, not the docker CLI and
its plugins). Runtimes are a Go map the CLI prints in Go's random map order: here sorted."""

from __future__ import annotations

from typing import Any

from handlers.results import EngineInfo, binary_size
from handlers.units import human_duration


def _go(value: Any) -> str:
    """A value as Go's fmt.Println writes it (bools lower case, nothing for None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _line(label: str, value: Any) -> str:
    return f"{label} {_go(value)}"


def _security_options(options: list[str]) -> list[str]:
    """system.DecodeSecurityOptions: `name=seccomp,profile=default` -> the name, then its
    profile if it has one."""
    lines = []
    for option in options:
        fields = dict(part.partition("=")[::2] for part in option.split(","))
        lines.append(f"  {fields.get('name', option)}")
        if "profile" in fields:
            lines.append(f"   Profile: {fields['profile']}")
    return lines


def _swarm(swarm: dict[str, Any]) -> list[str]:
    state = swarm.get("LocalNodeState") or ""
    if state in ("inactive", "locked", ""):
        return []
    lines = [_line("  NodeID:", swarm.get("NodeID"))]
    if swarm.get("Error"):
        lines.append(_line("  Error:", swarm["Error"]))
    lines.append(_line("  Is Manager:", bool(swarm.get("ControlAvailable"))))
    cluster = swarm.get("Cluster")
    if cluster and swarm.get("ControlAvailable") and not swarm.get("Error") and state != "error":
        spec = cluster.get("Spec") or {}
        lines += [
            _line("  ClusterID:", cluster.get("ID")),
            _line("  Managers:", swarm.get("Managers", 0)),
            _line("  Nodes:", swarm.get("Nodes", 0)),
        ]
        if cluster.get("DefaultAddrPool") is not None:
            pools = "".join(f"{p}  " for p in cluster["DefaultAddrPool"])
            lines += [
                _line("  Default Address Pool:", pools),
                _line("  SubnetSize:", cluster.get("SubnetSize", 0)),
            ]
        if (cluster.get("DataPathPort") or 0) > 0:
            lines.append(_line("  Data Path Port:", cluster["DataPathPort"]))
        raft = spec.get("Raft") or {}
        lines += [
            "  Orchestration:",
            _line(
                "   Task History Retention Limit:",
                (spec.get("Orchestration") or {}).get("TaskHistoryRetentionLimit") or 0,
            ),
            "  Raft:",
            _line("   Snapshot Interval:", raft.get("SnapshotInterval", 0)),
        ]
        if raft.get("KeepOldSnapshots") is not None:
            lines.append(f"   Number of Old Snapshots to Retain: {raft['KeepOldSnapshots']}")
        ca = spec.get("CAConfig") or {}
        dispatcher = spec.get("Dispatcher") or {}
        lines += [
            _line("   Heartbeat Tick:", raft.get("HeartbeatTick", 0)),
            _line("   Election Tick:", raft.get("ElectionTick", 0)),
            "  Dispatcher:",
            _line(
                "   Heartbeat Period:",
                human_duration((dispatcher.get("HeartbeatPeriod") or 0) / 1e9),
            ),
            "  CA Configuration:",
            _line("   Expiry Duration:", human_duration((ca.get("NodeCertExpiry") or 0) / 1e9)),
            _line("   Force Rotate:", ca.get("ForceRotate", 0)),
        ]
        if (ca.get("SigningCACert") or "").strip():
            lines += [f"   Signing CA Certificate: \n{ca['SigningCACert'].strip()}", ""]
        if ca.get("ExternalCAs"):
            lines.append("   External CAs:")
            lines += [f"     {e.get('Protocol')}: {e.get('URL')}" for e in ca["ExternalCAs"]]
        lines += [
            _line(
                "  Autolock Managers:",
                bool((spec.get("EncryptionConfig") or {}).get("AutoLockManagers")),
            ),
            _line("  Root Rotation In Progress:", bool(cluster.get("RootRotationInProgress"))),
        ]
    lines.append(_line("  Node Address:", swarm.get("NodeAddr")))
    managers = sorted(m.get("Addr", "") for m in swarm.get("RemoteManagers") or [])
    if managers:
        lines += ["  Manager Addresses:", *[f"   {m}" for m in managers]]
    return lines


def server_lines(raw: dict[str, Any]) -> list[str]:
    lines = [
        _line(" Containers:", raw.get("Containers", 0)),
        _line("  Running:", raw.get("ContainersRunning", 0)),
        _line("  Paused:", raw.get("ContainersPaused", 0)),
        _line("  Stopped:", raw.get("ContainersStopped", 0)),
        _line(" Images:", raw.get("Images", 0)),
    ]

    def nonempty(label: str, key: str) -> None:
        if raw.get(key):
            lines.append(_line(label, raw[key]))

    nonempty(" Server Version:", "ServerVersion")
    nonempty(" Storage Driver:", "Driver")
    lines += [f"  {k}: {v}" for k, v in raw.get("DriverStatus") or []]
    lines += [f" {k}: {v}" for k, v in raw.get("SystemStatus") or []]
    nonempty(" Logging Driver:", "LoggingDriver")
    nonempty(" Cgroup Driver:", "CgroupDriver")
    nonempty(" Cgroup Version:", "CgroupVersion")
    plugins = raw.get("Plugins") or {}
    lines += [
        " Plugins:",
        _line("  Volume:", " ".join(plugins.get("Volume") or [])),
        _line("  Network:", " ".join(plugins.get("Network") or [])),
    ]
    if plugins.get("Authorization"):
        lines.append(_line("  Authorization:", " ".join(plugins["Authorization"])))
    lines.append(_line("  Log:", " ".join(plugins.get("Log") or [])))
    if raw.get("CDISpecDirs"):
        lines += [" CDI spec directories:", *[f"  {d}" for d in raw["CDISpecDirs"]]]
    swarm = raw.get("Swarm") or {}
    lines.append(_line(" Swarm:", swarm.get("LocalNodeState")))
    lines += _swarm(swarm)
    if raw.get("Runtimes"):
        lines += [
            _line(" Runtimes:", " ".join(sorted(raw["Runtimes"]))),
            _line(" Default Runtime:", raw.get("DefaultRuntime")),
        ]
    if raw.get("OSType") == "linux":
        lines += [
            _line(" Init Binary:", raw.get("InitBinary")),
            _line(" containerd version:", (raw.get("ContainerdCommit") or {}).get("ID")),
            _line(" runc version:", (raw.get("RuncCommit") or {}).get("ID")),
            _line(" init version:", (raw.get("InitCommit") or {}).get("ID")),
        ]
        if raw.get("SecurityOptions"):
            lines += [" Security Options:", *_security_options(raw["SecurityOptions"])]
    if raw.get("OSType") == "windows":
        lines.append(_line(" Default Isolation:", raw.get("Isolation")))
    nonempty(" Kernel Version:", "KernelVersion")
    nonempty(" Operating System:", "OperatingSystem")
    nonempty(" OSType:", "OSType")
    nonempty(" Architecture:", "Architecture")
    lines += [
        _line(" CPUs:", raw.get("NCPU", 0)),
        _line(" Total Memory:", binary_size(raw.get("MemTotal", 0))),
    ]
    nonempty(" Name:", "Name")
    nonempty(" ID:", "ID")
    lines += [
        _line(" Docker Root Dir:", raw.get("DockerRootDir")),
        _line(" Debug Mode:", bool(raw.get("Debug"))),
    ]
    if raw.get("Debug"):
        lines += [
            _line("  File Descriptors:", raw.get("NFd", 0)),
            _line("  Goroutines:", raw.get("NGoroutines", 0)),
            _line("  System Time:", raw.get("SystemTime")),
            _line("  EventsListeners:", raw.get("NEventsListener", 0)),
        ]
    nonempty(" HTTP Proxy:", "HttpProxy")
    nonempty(" HTTPS Proxy:", "HttpsProxy")
    nonempty(" No Proxy:", "NoProxy")
    nonempty(" Username:", "Username")
    if raw.get("Labels"):
        lines += [" Labels:", *[f"  {label}" for label in raw["Labels"]]]
    lines.append(_line(" Experimental:", bool(raw.get("ExperimentalBuild"))))
    registries = raw.get("RegistryConfig") or {}
    cidrs = registries.get("InsecureRegistryCIDRs") or []
    indexes = registries.get("IndexConfigs") or {}
    if cidrs or indexes:
        lines.append(" Insecure Registries:")
        lines += [f"  {i.get('Name')}" for i in indexes.values() if not i.get("Secure")]
        lines += [f"  {cidr}" for cidr in cidrs]
    if registries.get("Mirrors"):
        lines += [" Registry Mirrors:", *[f"  {m}" for m in registries["Mirrors"]]]
    lines.append(_line(" Live Restore Enabled:", bool(raw.get("LiveRestoreEnabled"))))
    if raw.get("ProductLicense"):
        lines.append(_line(" Product License:", raw["ProductLicense"]))
    if raw.get("DefaultAddressPools"):
        lines.append(" Default Address Pools:")
        pools = raw["DefaultAddressPools"]
        lines += [f"   Base: {p.get('Base')}, Size: {p.get('Size')}" for p in pools]
    return lines


def info_text(result: EngineInfo, version: str) -> str:
    """stdout of `docker info`; the engine's warnings go to stderr (info_warnings)."""
    client = [
        "Client: Dockhand",
        _line(" Version:   ", version),
        _line(" Context:   ", result.host),
        _line(" Debug Mode:", False),
    ]
    server = server_lines(result.server) if result.server else []
    return "\n".join([*client, "", "Server:", *server, ""]) + "\n"
