"""Guards before the ack: the policy's defaults applied to the parsed command, then the
safety check (bot/safety.py) on the Engine API body the command will send, without the
engine (references to containers, volumes and networks are resolved when it runs).

So most refusals come at once, whatever spelling reached the model (`--privileged=true`,
`—privileged`, `--net=host`), and the authoritative check runs again on the same body at
the last moment before the engine call (Pipeline.admission).
"""

from __future__ import annotations

from bot.safety import (
    NANO,
    Check,
    Refusal,
    check_connect,
    check_create,
    check_exec,
    check_host_path,
    check_network_create,
    check_registry,
    check_update,
    check_volume_create,
    refuse,
)
from bot.service_safety import check_service, check_service_change
from config.policy import Guards
from handlers.commands import (
    Command,
    ConnectNetwork,
    ContainerTop,
    CreateNetwork,
    CreateVolume,
    ExecContainer,
    Prune,
    PullImage,
    PushImage,
    RunContainer,
    TagImage,
    UpdateContainers,
)
from handlers.containers import create_body, update_body
from handlers.errors import UsageError
from handlers.exec import exec_body
from handlers.networks import network_body
from handlers.service_commands import CreateService, UpdateService
from handlers.service_spec import create_spec, update_spec
from handlers.volumes import volume_body

__all__ = ["Refusal", "check_command", "spare_protected", "with_defaults"]


def with_defaults(command: RunContainer, guards: Guards) -> RunContainer:
    """The policy's default memory, CPU and pids limits where the user gave none. A CPU
    quota is --cpus in other words: no default --cpus beside it (the engine refuses both)."""
    update: dict[str, int] = {}
    if command.memory is None and (guards.default_memory or guards.max_memory):
        update["memory"] = int(guards.default_memory or guards.max_memory or 0)
    if command.cpus is None and not command.cpu_quota and (guards.default_cpus or guards.max_cpus):
        update["cpus"] = int((guards.default_cpus or guards.max_cpus or 0) * NANO)
    if command.pids_limit is None and (guards.default_pids or guards.max_pids):
        update["pids_limit"] = int(guards.default_pids or guards.max_pids or 0)
    return command.model_copy(update=update)


def check_command(command: Command, guards: Guards) -> Command:
    """The command as it may run (defaults applied), or a Refusal naming the field."""
    check = Check(guards)
    if isinstance(command, RunContainer):
        for spec in command.volumes:
            source = spec.split(":", 1)[0] if ":" in spec else ""
            if source.startswith((".", "~")):
                # Relative to the bot's own directory: refused before the body is built.
                check_host_path(check, source, "-v")
        command = with_defaults(command, guards)
        check_create(check, create_body(command))
    elif isinstance(command, UpdateContainers):
        check_update(check, update_body(command))
    elif isinstance(command, CreateVolume):
        check_volume_create(check, volume_body(command))
    elif isinstance(command, CreateNetwork):
        check_network_create(check, network_body(command))
    elif isinstance(command, ConnectNetwork) and command.verb == "network:connect":
        check_connect(check, command.network, {"Container": command.container})
    elif isinstance(command, CreateService):
        # Network names stay names before the ack (no engine to resolve them to IDs).
        check_service(check, create_spec(command, lambda name: name))
    elif isinstance(command, UpdateService) and not command.rollback:
        # Before the ack the current spec is unknown: what the flags add, judged alone.
        try:
            added = update_spec(command, {"Mode": {"Replicated": {}}}, lambda name: name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        check_service_change(check, added)
    elif isinstance(command, ExecContainer):
        check_exec(check, command.container, exec_body(command))
    elif isinstance(command, PullImage | PushImage):
        check_registry(command.name, guards)
    elif isinstance(command, TagImage):
        check_registry(command.target, guards)
    elif isinstance(command, ContainerTop):
        # The engine gets the arguments joined by spaces and splits them again: judge the
        # words it will see, not the arguments as typed ('-o pid,args e' is two).
        for arg in " ".join(command.ps_args).split():
            if not arg.startswith("-"):
                # BSD-style ps options: `e` prints every process's environment, secrets and
                # all, which inspect shows no one but an admin.
                raise refuse("top-args", f"top: ps option `{arg}` must start with a dash")
    return command


def spare_protected(command: Prune, label: str) -> Prune:
    """A prune by someone who may not remove protected containers leaves them (and
    Dockhand's own, which carry the label too) alone: `label!=LABEL` added. The engine
    excludes an object only when it matches every `label!` given, so one of the user's own
    would weaken ours: refused, with the reason."""
    if "label!" in command.filters:
        raise refuse(
            "prune-filter",
            f"prune: a `label!=` filter of your own would let it reach `{label}` containers; "
            "an admin may use one",
        )
    return command.model_copy(update={"filters": {**command.filters, "label!": [label]}})
