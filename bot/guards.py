"""Guards on what a container may be given: enforced on the parsed model, so every spelling
of a flag (`--privileged=true`, `—privileged`, `--net=host`) meets the same check.

Host access that amounts to root on the machine is refused: privileged mode, added
capabilities, devices, the host's namespaces and network, seccomp/AppArmor turned off,
bind mounts outside the allowed paths (never the Docker socket), images from registries
outside the allow-list. Resource caps are enforced and defaults applied.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from config.policy import Guards
from handlers.commands import Command, CreateVolume, PullImage, RunContainer, UpdateContainers
from handlers.errors import NotAllowed
from handlers.registry import registry_of

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock")
UNCONFINED = (
    "seccomp=unconfined",
    "seccomp:unconfined",
    "apparmor=unconfined",
    "apparmor:unconfined",
    "label=disable",
    "label:disable",
    "systempaths=unconfined",
)
NANO = 1_000_000_000


class Refusal(NotAllowed):
    pass


def _refuse(rule: str, message: str) -> Refusal:
    return Refusal(f"refused by policy: {message}", rule=f"guard {rule}")


def check_host_path(path: str, guards: Guards, flag: str) -> None:
    """A host path a container would see: absolute, no `..`, not the Docker socket (nor a
    directory holding it), inside the allow-list both as written and with links resolved."""
    if not path.startswith("/"):
        raise _refuse("bind-path", f"{flag} `{path}`: host paths must be absolute")
    if ".." in path.split("/"):
        raise _refuse("bind-path", f"{flag} `{path}`: `..` is not allowed in a host path")
    written = posixpath.normpath(path)
    # Links are resolved where they can be (the bot beside the engine); the engine
    # follows them, so a link into a denied place is as denied as the place itself.
    resolved = os.path.realpath(written)
    for candidate in dict.fromkeys((written, resolved)):
        for socket in DOCKER_SOCKETS:
            if socket == candidate or socket.startswith(candidate.rstrip("/") + "/"):
                raise _refuse("docker-socket", f"{flag} `{path}` would expose the Docker socket")
        if not any(
            candidate == base or candidate.startswith(base.rstrip("/") + "/")
            for base in guards.bind_paths
        ):
            allowed = ", ".join(guards.bind_paths) or "none"
            raise _refuse(
                "bind-path", f"{flag} `{path}` is outside the allowed host paths ({allowed})"
            )


def _volume_source(spec: str) -> str | None:
    """The host path of a -v spec, or None for a named or anonymous volume."""
    if ":" not in spec:
        return None
    source = spec.split(":", 1)[0]
    return source if source.startswith(("/", ".", "~")) or "/" in source else None


def _device_option(options: Mapping[str, Any] | None) -> str | None:
    """The host path a local-driver volume would bind (`-o o=bind -o device=/`)."""
    for key, value in (options or {}).items():
        if key.lower() == "device":
            return str(value)
    return None


def _namespaces(command: RunContainer) -> Iterable[tuple[str, str | None]]:
    yield "--pid", command.pid
    yield "--ipc", command.ipc
    yield "--uts", command.uts
    yield "--userns", command.userns
    yield "--network", command.network


def check_run(command: RunContainer, guards: Guards) -> RunContainer:
    """Refuse what the guards forbid; return the command with default limits applied."""
    if command.privileged:
        raise _refuse("privileged", "--privileged gives the container the whole host")
    if command.cap_add:
        raise _refuse("cap-add", f"--cap-add {', '.join(command.cap_add)} is not allowed")
    if command.devices:
        raise _refuse("device", "--device gives the container host hardware")
    if command.volumes_from:
        # Whatever another container mounts, host paths and the Docker socket included.
        raise _refuse("volumes-from", "--volumes-from shares another container's mounts")
    for flag, value in _namespaces(command):
        if value and value.strip().lower() == "host":
            raise _refuse(f"{flag.strip('-')}-host", f"{flag} host shares the host's namespace")
    for option in command.security_opt:
        if option.replace(" ", "").lower() in UNCONFINED:
            raise _refuse("security-opt", f"--security-opt {option} turns off confinement")
    for spec in command.volumes:
        source = _volume_source(spec)
        if source is not None:
            check_host_path(source, guards, "-v")
    for mount in command.mounts:
        if mount.get("Type") == "bind":
            check_host_path(str(mount.get("Source", "")), guards, "--mount")
        device = _device_option(
            ((mount.get("VolumeOptions") or {}).get("DriverConfig") or {}).get("Options")
        )
        if device is not None:
            check_host_path(device, guards, "--mount volume-opt device")
    check_registry(command.image, guards)
    cpus = command.cpus
    if cpus is None and command.cpu_quota:
        # --cpu-quota/--cpu-period are --cpus in other words (the engine refuses both at once),
        # so the cap holds for them too; -1 is no limit at all.
        period = command.cpu_period or 100_000
        cpus = command.cpu_quota * NANO // period if command.cpu_quota > 0 else 0
    # With a quota, `cpus` is set, so no default --cpus is added beside it (the engine
    # would refuse the pair).
    update = _limits(command.memory, cpus, command.pids_limit, guards, apply_defaults=True)
    return command.model_copy(update=update)


def check_registry(image: str, guards: Guards) -> None:
    if guards.registries and registry_of(image) not in guards.registries:
        raise _refuse(
            "registry",
            f"images from {registry_of(image)} are not allowed "
            f"(allowed: {', '.join(guards.registries)})",
        )


def _limits(
    memory: int | None, cpus: int | None, pids: int | None, guards: Guards, *, apply_defaults: bool
) -> dict[str, int]:
    update: dict[str, int] = {}
    if apply_defaults:
        if memory is None and (guards.default_memory or guards.max_memory):
            memory = update["memory"] = int(guards.default_memory or guards.max_memory or 0)
        if cpus is None and (guards.default_cpus or guards.max_cpus):
            cpus = update["cpus"] = int((guards.default_cpus or guards.max_cpus or 0) * NANO)
        if pids is None and (guards.default_pids or guards.max_pids):
            pids = update["pids_limit"] = int(guards.default_pids or guards.max_pids or 0)
    if guards.max_memory and memory is not None and (memory <= 0 or memory > guards.max_memory):
        raise _refuse(
            "max-memory", f"--memory {memory} bytes is over the cap of {guards.max_memory} bytes"
        )
    if guards.max_cpus and cpus is not None and (cpus <= 0 or cpus > guards.max_cpus * NANO):
        raise _refuse("max-cpus", f"--cpus {cpus / NANO:g} is over the cap of {guards.max_cpus:g}")
    if guards.max_pids and pids is not None and (pids <= 0 or pids > guards.max_pids):
        raise _refuse("max-pids", f"--pids-limit {pids} is over the cap of {guards.max_pids}")
    return update


def check_command(command: Command, guards: Guards) -> Command:
    """The guards that need only the command; engine-side checks live in the pipeline."""
    if isinstance(command, RunContainer):
        return check_run(command, guards)
    if isinstance(command, UpdateContainers):
        _limits(command.memory, command.cpus, command.pids_limit, guards, apply_defaults=False)
    if isinstance(command, PullImage):
        check_registry(command.name, guards)
    if isinstance(command, CreateVolume):
        device = _device_option(command.options)
        if device is not None:
            check_host_path(device, guards, "volume create -o device")
    return command


def check_existing(host_config: Mapping[str, Any], guards: Guards, name: str) -> None:
    """A container made elsewhere (or before the policy) must pass too before it starts:
    otherwise `create` somewhere else, then `start` here, would walk around the guards."""
    if host_config.get("Privileged"):
        raise _refuse("privileged", f"{name} is privileged")
    if host_config.get("CapAdd"):
        raise _refuse("cap-add", f"{name} has added capabilities")
    if host_config.get("Devices"):
        raise _refuse("device", f"{name} has host devices")
    for key in ("PidMode", "IpcMode", "UTSMode", "UsernsMode", "NetworkMode"):
        if str(host_config.get(key) or "").lower() == "host":
            raise _refuse(f"{key.lower()}-host", f"{name} shares the host's {key[:-4].lower()}")
    for option in host_config.get("SecurityOpt") or []:
        if option.replace(" ", "").lower() in UNCONFINED:
            raise _refuse("security-opt", f"{name} runs with {option}")
    if host_config.get("VolumesFrom"):
        raise _refuse("volumes-from", f"{name} shares another container's mounts")
    for bind in host_config.get("Binds") or []:
        source = _volume_source(bind)
        if source is not None:
            check_host_path(source, guards, f"{name} bind")
    for mount in host_config.get("Mounts") or []:
        if mount.get("Type") == "bind":
            check_host_path(str(mount.get("Source", "")), guards, f"{name} mount")
