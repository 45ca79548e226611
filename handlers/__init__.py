"""Docker work for Dockhand: command models in, result models out. Knows nothing of Slack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker

from handlers import containers, images, system
from handlers.commands import Command, ListContainers, ListImages, ShowInfo, ShowVersion
from handlers.results import Result

Handler = Callable[[Any, docker.DockerClient], Result]

HANDLERS: dict[type[Command], Handler] = {
    ListContainers: containers.list_containers,
    ListImages: images.list_images,
    ShowVersion: system.show_version,
    ShowInfo: system.show_info,
}


def handler_for(command: Command) -> Handler:
    return HANDLERS[type(command)]
