"""The Swarm verbs' handlers by command model, merged into handlers.HANDLERS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker

from handlers import nodes, services
from handlers import service_commands as s
from handlers.commands import Command
from handlers.context import Context
from handlers.results import Result

Handler = Callable[[Any, docker.DockerClient, Context], Result]


def _plain(fn: Callable[[Any, docker.DockerClient], Result]) -> Handler:
    return lambda command, client, context: fn(command, client)


SWARM_HANDLERS: dict[type[Command], Handler] = {
    s.CreateService: services.create_service,
    s.ListServices: _plain(services.list_services),
    s.ServiceTasks: _plain(services.service_tasks),
    s.InspectSwarmObjects: _plain(nodes.inspect_swarm_objects),
    s.ServiceLogs: _plain(services.service_logs),
    s.ScaleServices: services.scale_services,
    s.UpdateService: services.update_service,
    s.RollbackService: services.rollback_service,
    s.RemoveServices: _plain(services.remove_services),
    s.ListNodes: _plain(nodes.list_nodes),
    s.UpdateNode: _plain(nodes.update_node),
}
