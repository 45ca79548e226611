"""System verbs (version, info): a command model and a Docker client in, a result out."""

from __future__ import annotations

import docker

from handlers.commands import ShowInfo, ShowVersion
from handlers.results import EngineInfo, EngineVersion


def show_version(command: ShowVersion, client: docker.DockerClient) -> EngineVersion:
    raw = client.version()
    components = {
        c["Name"]: c.get("Version", "")
        for c in raw.get("Components") or []
        if c.get("Name") != "Engine"
    }
    return EngineVersion(
        host=command.host,
        version=raw.get("Version", ""),
        api_version=raw.get("ApiVersion", ""),
        min_api_version=raw.get("MinAPIVersion", ""),
        os=raw.get("Os", ""),
        arch=raw.get("Arch", ""),
        kernel_version=raw.get("KernelVersion", ""),
        git_commit=raw.get("GitCommit", ""),
        go_version=raw.get("GoVersion", ""),
        components=components,
    )


def show_info(command: ShowInfo, client: docker.DockerClient) -> EngineInfo:
    raw = client.info()
    return EngineInfo(
        host=command.host,
        name=raw.get("Name", ""),
        server_version=raw.get("ServerVersion", ""),
        containers=raw.get("Containers", 0),
        running=raw.get("ContainersRunning", 0),
        paused=raw.get("ContainersPaused", 0),
        stopped=raw.get("ContainersStopped", 0),
        images=raw.get("Images", 0),
        storage_driver=raw.get("Driver", ""),
        cgroup_driver=raw.get("CgroupDriver", ""),
        cgroup_version=raw.get("CgroupVersion", ""),
        kernel_version=raw.get("KernelVersion", ""),
        operating_system=raw.get("OperatingSystem", ""),
        architecture=raw.get("Architecture", ""),
        cpus=raw.get("NCPU", 0),
        memory=raw.get("MemTotal", 0),
        docker_root_dir=raw.get("DockerRootDir", ""),
        warnings=raw.get("Warnings") or [],
    )
