"""Docker work for Dockhand: command models in, result models out. Knows nothing of Slack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker

import handlers.container_facts as container_facts
import handlers.event_window as event_window
import handlers.exec as exec_
from handlers import commands as c
from handlers import containers, image_update, images, networks, objects, system, updates, volumes
from handlers.context import Context
from handlers.results import Result
from handlers.swarm import SWARM_HANDLERS

Handler = Callable[[Any, docker.DockerClient, Context], Result]


def _plain(fn: Callable[[Any, docker.DockerClient], Result]) -> Handler:
    """A handler that needs no context (most of them)."""
    return lambda command, client, context: fn(command, client)


HANDLERS: dict[type[c.Command], Handler] = {
    c.ListContainers: _plain(containers.list_containers),
    c.RunContainer: containers.run_container,
    c.ContainerAction: containers.container_action,
    c.RenameContainer: _plain(containers.rename_container),
    c.UpdateContainers: containers.update_containers,
    c.ContainerLogs: _plain(containers.container_logs),
    c.ContainerTop: _plain(containers.container_top),
    c.ExecContainer: exec_.exec_in_container,
    c.ContainerPort: _plain(container_facts.container_port),
    c.ContainerDiff: _plain(container_facts.container_diff),
    c.WaitContainers: container_facts.wait_containers,
    c.ShowEvents: event_window.show_events,
    c.ContainerStats: _plain(containers.container_stats),
    c.Inspect: _plain(objects.inspect_objects),
    c.ListImages: _plain(images.list_images),
    c.PullImage: images.pull_image,
    c.PushImage: images.push_image,
    c.TagImage: _plain(images.tag_image),
    c.RemoveImages: _plain(images.remove_images),
    c.ImageHistory: _plain(images.image_history),
    c.SearchImages: images.search_images,
    c.Login: images.login,
    c.Logout: _plain(images.logout),
    c.CreateNetwork: networks.create_network,
    c.ListNetworks: _plain(networks.list_networks),
    c.RemoveObjects: _plain(objects.remove_objects),
    c.ConnectNetwork: networks.connect_network,
    c.CreateVolume: volumes.create_volume,
    c.ListVolumes: _plain(volumes.list_volumes),
    c.ShowVersion: _plain(system.show_version),
    c.ShowInfo: _plain(system.show_info),
    c.DiskUsage: _plain(system.disk_usage),
    c.Prune: system.prune,
    c.CheckUpdates: updates.check_updates,
    c.UpdateImage: image_update.update_image,
}

# Swarm's service and node verbs (handlers/swarm.py).
HANDLERS.update(SWARM_HANDLERS)


def handler_for(command: c.Command) -> Handler:
    return HANDLERS[type(command)]


def run_handler(
    command: c.Command, client: docker.DockerClient, context: Context | None = None
) -> Result:
    return handler_for(command)(command, client, context or Context())
