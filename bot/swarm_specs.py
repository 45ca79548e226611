"""The Swarm commands (`service ...`, `node ...`): their flags as the docker CLI spells them
(cli/command/service, cli/command/node), and the models they become. Flags the CLI has
and Dockhand does not take are declared too, so using one is refused with the reason
instead of an "unrecognized argument"."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.argparsing import DockerArgumentParser, Spec, add_filter
from handlers import service_commands as s

NOT_YET = "Dockhand does not support it for services yet"
# Flags of `service create`/`update` Dockhand refuses, with why.
_REFUSED: dict[str, str] = {
    "--env-file": "it would read a file on the bot's own host",
    "--secret": NOT_YET,
    "--config": NOT_YET,
    "--credential-spec": "it is for Windows",
    "--isolation": "it is for Windows",
    "--placement-pref": NOT_YET,
    "--replicas-max-per-node": NOT_YET,
    "--max-concurrent": NOT_YET,
    "--generic-resource": NOT_YET,
    "--ulimit": NOT_YET,
    "--oom-score-adj": NOT_YET,
    "--health-start-interval": NOT_YET,
    "--memory-swap": NOT_YET,
    "--memory-swappiness": NOT_YET,
    "--with-registry-auth": "Dockhand does not hand registry credentials to swarm agents",
}
_REFUSED_UPDATE: dict[str, str] = {
    "--secret-add": NOT_YET,
    "--secret-rm": NOT_YET,
    "--config-add": NOT_YET,
    "--config-rm": NOT_YET,
    "--placement-pref-add": NOT_YET,
    "--placement-pref-rm": NOT_YET,
    "--generic-resource-add": NOT_YET,
    "--generic-resource-rm": NOT_YET,
    "--ulimit-add": NOT_YET,
    "--ulimit-rm": NOT_YET,
    "--group-add": NOT_YET,
    "--group-rm": NOT_YET,
    "--dns-add": NOT_YET,
    "--dns-rm": NOT_YET,
    "--dns-option-add": NOT_YET,
    "--dns-option-rm": NOT_YET,
    "--dns-search-add": NOT_YET,
    "--dns-search-rm": NOT_YET,
    "--host-add": NOT_YET,
    "--host-rm": NOT_YET,
}


def fields(ns: argparse.Namespace) -> dict[str, object]:
    """bot/specs.py's `fields`, looked up when a command is parsed: that module imports this
    one at its end, so it cannot be imported from here at the top."""
    from bot.specs import fields as shared

    return shared(ns)


def with_verb(verb: str) -> Callable[[argparse.Namespace], dict[str, object]]:
    return lambda ns: {**fields(ns), "verb": verb}


def _refuse(p: DockerArgumentParser, table: dict[str, str]) -> None:
    for flag, reason in table.items():
        p.refuse(flag, reason=reason, takes_value=flag != "--with-registry-auth")


def _settings(p: DockerArgumentParser) -> None:
    """The flags create and update share."""
    p.flag("-d", "--detach", help="Exit immediately instead of waiting for the service to converge")
    p.flag("-q", "--quiet", help="Suppress progress output")
    p.add_argument(
        "-w", "--workdir", metavar="string", help="Working directory inside the container"
    )
    p.add_argument(
        "-u", "--user", metavar="string", help="Username or UID (format: <name|uid>[:<group|gid>])"
    )
    p.add_argument("--hostname", metavar="string", help="Container hostname")
    p.add_argument(
        "--entrypoint", metavar="command", help="Overwrite the default ENTRYPOINT of the image"
    )
    p.add_argument("--limit-cpu", metavar="decimal", help="Limit CPUs")
    p.add_argument("--limit-memory", metavar="bytes", help="Limit Memory")
    p.add_argument(
        "--limit-pids", metavar="int", type=int, help="Limit maximum number of processes"
    )
    p.add_argument("--reserve-cpu", metavar="decimal", help="Reserve CPUs")
    p.add_argument("--reserve-memory", metavar="bytes", help="Reserve Memory")
    p.add_argument(
        "--stop-grace-period",
        metavar="duration",
        help="Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)",
    )
    p.add_argument("--stop-signal", metavar="string", help="Signal to stop the container")
    p.add_argument(
        "--restart-condition",
        metavar="string",
        help='Restart when condition is met ("none", "on-failure", "any") (default "any")',
    )
    p.add_argument(
        "--restart-delay",
        metavar="duration",
        help="Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)",
    )
    p.add_argument(
        "--restart-max-attempts", metavar="uint", help="Maximum number of restarts before giving up"
    )
    p.add_argument(
        "--restart-window",
        metavar="duration",
        help="Window used to evaluate the restart policy (ns|us|ms|s|m|h)",
    )
    for kind, noun in (("update", "update"), ("rollback", "rollback")):
        p.add_argument(
            f"--{kind}-parallelism",
            metavar="uint",
            help=f"Maximum number of tasks {noun}d simultaneously (0 to {noun} all at once)",
        )
        p.add_argument(
            f"--{kind}-delay",
            metavar="duration",
            help=f"Delay between task {noun}s (ns|us|ms|s|m|h)",
        )
        p.add_argument(
            f"--{kind}-monitor",
            metavar="duration",
            help=f"Duration after each task {noun} to monitor for failure (ns|us|ms|s|m|h)",
        )
        choices = '"pause", "continue", "rollback"' if kind == "update" else '"pause", "continue"'
        p.add_argument(
            f"--{kind}-failure-action",
            metavar="string",
            help=f"Action on {noun} failure ({choices})",
        )
        p.add_argument(
            f"--{kind}-max-failure-ratio",
            metavar="float",
            help=f"Failure rate to tolerate during a {noun}",
        )
        p.add_argument(
            f"--{kind}-order",
            metavar="string",
            help=f'{noun.capitalize()} order ("start-first", "stop-first")',
        )
    p.add_argument("--health-cmd", metavar="string", help="Command to run to check health")
    p.add_argument(
        "--health-interval", metavar="duration", help="Time between running the check (ms|s|m|h)"
    )
    p.add_argument(
        "--health-timeout",
        metavar="duration",
        help="Maximum time to allow one check to run (ms|s|m|h)",
    )
    p.add_argument(
        "--health-retries",
        metavar="int",
        type=int,
        help="Consecutive failures needed to report unhealthy",
    )
    p.add_argument(
        "--health-start-period",
        metavar="duration",
        help="Start period for the container to initialize before counting retries (ms|s|m|h)",
    )
    p.flag("--no-healthcheck", help="Disable any container-specified HEALTHCHECK", unset=None)
    p.flag(
        "--init",
        help="Use an init inside each service container to forward signals and reap processes",
        unset=None,
    )
    p.flag("--read-only", help="Mount the container's root filesystem as read only", unset=None)
    p.flag("-t", "--tty", help="Allocate a pseudo-TTY", unset=None)
    p.add_argument("--log-driver", metavar="string", help="Logging driver for service")
    p.many("--log-opt", dest="log_opts", help="Logging driver options")
    p.add_argument("--endpoint-mode", metavar="string", help="Endpoint mode (vip or dnsrr)")
    p.flag(
        "--no-resolve-image",
        help="Do not query the registry to resolve image digest (Dockhand never does)",
    )


def service_create(p: DockerArgumentParser) -> None:
    _settings(p)
    p.add_argument("--name", metavar="string", help="Service name")
    p.add_argument(
        "--mode",
        metavar="string",
        help='Service mode ("replicated", "global") (default "replicated")',
    )
    p.add_argument("--replicas", metavar="uint", help="Number of tasks")
    p.many("-e", "--env", dest="env", help="Set environment variables (NAME=value)")
    p.many("-l", "--label", dest="labels", help="Service labels")
    p.many("--container-label", dest="container_labels", help="Container labels")
    p.many("--mount", dest="mounts", help="Attach a filesystem mount to the service")
    p.many("--network", dest="networks", help="Network attachments")
    p.many("-p", "--publish", dest="publish", help="Publish a port as a node port")
    p.many("--constraint", dest="constraints", help="Placement constraints")
    p.many("--cap-add", dest="cap_add", help="Add Linux capabilities")
    p.many("--cap-drop", dest="cap_drop", help="Drop Linux capabilities")
    p.many("--sysctl", dest="sysctls", help="Sysctl options")
    p.many("--dns", help="Set custom DNS servers")
    p.many("--dns-search", dest="dns_search", help="Set custom DNS search domains")
    p.many("--dns-option", dest="dns_options", help="Set DNS options")
    p.many("--host", dest="hosts", help="Set one or more custom host-to-IP mappings (host:ip)")
    p.many("--group", dest="groups", help="Set one or more supplementary user groups")
    _refuse(p, _REFUSED)
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def service_update(p: DockerArgumentParser) -> None:
    _settings(p)
    p.add_argument("--image", metavar="string", help="Service image tag")
    p.add_argument("--args", metavar="command", help="Service command args")
    p.add_argument("--replicas", metavar="uint", help="Number of tasks")
    p.flag("--force", help="Force update even if no changes require it")
    p.flag("--rollback", help="Rollback to previous specification")
    for name, dest, what in (
        ("env", "env", "environment variable"),
        ("label", "label", "service label"),
        ("container-label", "container_label", "container label"),
        ("mount", "mount", "mount (by target path for -rm)"),
        ("network", "network", "network"),
        ("publish", "publish", "published port"),
        ("constraint", "constraint", "placement constraint"),
        ("sysctl", "sysctl", "sysctl option"),
    ):
        p.many(f"--{name}-add", dest=f"{dest}_add", help=f"Add or update a {what}")
        p.many(f"--{name}-rm", dest=f"{dest}_rm", help=f"Remove a {what}")
    p.many("--cap-add", dest="cap_add", help="Add Linux capabilities")
    p.many("--cap-drop", dest="cap_drop", help="Drop Linux capabilities")
    _refuse(p, {**_REFUSED, **_REFUSED_UPDATE})
    p.add_argument("service", metavar="SERVICE")


def service_ls(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.flag("-q", "--quiet", help="Only display IDs")
    p.add_argument(
        "--format", help="Format output: 'table', 'table TEMPLATE', 'json' or a Go template"
    )


def service_ps(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.flag("--no-resolve", help="Do not map IDs to Names")
    p.flag("--no-trunc", help="Do not truncate output")
    p.flag("-q", "--quiet", help="Only display task IDs")
    p.add_argument(
        "--format", help="Format output: 'table', 'table TEMPLATE', 'json' or a Go template"
    )
    p.add_argument("services", nargs="+", metavar="SERVICE")


def swarm_inspect(p: DockerArgumentParser) -> None:
    p.add_argument("-f", "--format", help="Format output using a Go template ({{.Field.Path}})")
    p.flag("--pretty", help="Print the information in a human friendly format (not here)")
    p.add_argument("names", nargs="+", metavar="NAME")


def service_logs(p: DockerArgumentParser) -> None:
    p.flag("-f", "--follow", dest="follow_", help="Follow log output (not in chat)")
    p.add_argument(
        "-n",
        "--tail",
        metavar="string",
        help='Number of lines to show from the end of the logs (default "all")',
    )
    p.add_argument(
        "--since", metavar="string", help="Show logs since timestamp or relative (e.g. 42m)"
    )
    p.flag("-t", "--timestamps", help="Show timestamps")
    p.flag("--no-task-ids", help="Do not include task IDs in output")
    p.flag("--no-trunc", help="Do not truncate output")
    p.flag("--raw", help="Do not neatly format logs")
    p.flag("--details", dest="details_", help="Show extra details provided to logs (not here)")
    p.add_argument("service", metavar="SERVICE")


def _logs_fields(ns: argparse.Namespace) -> dict[str, object]:
    found = fields(ns)
    from handlers.errors import UsageError

    if found.pop("follow_", False):
        raise UsageError(
            "`-f` is not available in chat: a reply cannot follow a stream", token="-f"
        )
    if found.pop("details_", False):
        raise UsageError("`--details` is not available here", token="--details")
    return found


def service_scale(p: DockerArgumentParser) -> None:
    p.flag("-d", "--detach", help="Exit immediately instead of waiting for the service to converge")
    p.add_argument("scales", nargs="+", metavar="SERVICE=REPLICAS")


def service_rollback(p: DockerArgumentParser) -> None:
    p.flag("-d", "--detach", help="Exit immediately instead of waiting for the service to converge")
    p.flag("-q", "--quiet", help="Suppress progress output")
    p.add_argument("service", metavar="SERVICE")


def service_rm(p: DockerArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="SERVICE")


def node_ls(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.flag("-q", "--quiet", help="Only display IDs")
    p.add_argument(
        "--format", help="Format output: 'table', 'table TEMPLATE', 'json' or a Go template"
    )


def node_update(p: DockerArgumentParser) -> None:
    p.add_argument(
        "--availability",
        metavar="string",
        help='Availability of the node ("active", "pause", "drain")',
    )
    p.add_argument("--role", metavar="string", help='Role of the node ("worker", "manager")')
    p.many("--label-add", dest="label_add", help="Add or update a node label (key=value)")
    p.many("--label-rm", dest="label_rm", help="Remove a node label if exists")
    p.add_argument("node", metavar="NODE")


SWARM_SPECS: tuple[Spec, ...] = (
    Spec(
        "service create",
        "Create a new service",
        "[OPTIONS] IMAGE [COMMAND] [ARG...]",
        service_create,
        fields,
        s.CreateService,
        intermixed=False,
    ),
    Spec(
        "service ls",
        "List services",
        "[OPTIONS]",
        service_ls,
        fields,
        s.ListServices,
        aliases=("service list",),
    ),
    Spec(
        "service ps",
        "List the tasks of one or more services",
        "[OPTIONS] SERVICE [SERVICE...]",
        service_ps,
        fields,
        s.ServiceTasks,
    ),
    Spec(
        "service inspect",
        "Display detailed information on one or more services",
        "[OPTIONS] SERVICE [SERVICE...]",
        swarm_inspect,
        with_verb("service:inspect"),
        s.InspectSwarmObjects,
    ),
    Spec(
        "service logs",
        "Fetch the logs of a service",
        "[OPTIONS] SERVICE",
        service_logs,
        _logs_fields,
        s.ServiceLogs,
    ),
    Spec(
        "service scale",
        "Scale one or multiple replicated services",
        "SERVICE=REPLICAS [SERVICE=REPLICAS...]",
        service_scale,
        fields,
        s.ScaleServices,
    ),
    Spec(
        "service update",
        "Update a service",
        "[OPTIONS] SERVICE",
        service_update,
        fields,
        s.UpdateService,
    ),
    Spec(
        "service rollback",
        "Revert changes to a service's configuration",
        "[OPTIONS] SERVICE",
        service_rollback,
        fields,
        s.RollbackService,
    ),
    Spec(
        "service rm",
        "Remove one or more services",
        "SERVICE [SERVICE...]",
        service_rm,
        fields,
        s.RemoveServices,
        aliases=("service remove",),
    ),
    Spec(
        "node ls",
        "List nodes in the swarm",
        "[OPTIONS]",
        node_ls,
        fields,
        s.ListNodes,
        aliases=("node list",),
    ),
    Spec(
        "node inspect",
        "Display detailed information on one or more nodes",
        "[OPTIONS] self|NODE [NODE...]",
        swarm_inspect,
        with_verb("node:inspect"),
        s.InspectSwarmObjects,
    ),
    Spec(
        "node update",
        "Update a node",
        "[OPTIONS] NODE",
        node_update,
        fields,
        s.UpdateNode,
    ),
)
