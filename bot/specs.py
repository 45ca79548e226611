"""Every /docker command: its docker path and aliases, its flags (spelled as the docker CLI
spells them, with its help texts) and the model its parsed flags become."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.argparsing import DockerArgumentParser, Spec, add_filter, parse_filters
from handlers import commands as c
from handlers.hosts import ListHosts, UseHost

Options = Callable[[DockerArgumentParser], None]


def fields(ns: argparse.Namespace) -> dict[str, object]:
    """Parsed flags whose dest is the model's field name; unset ones take the model default."""
    out = {k: v for k, v in vars(ns).items() if k != "help" and v is not None}
    if "filter" in out:
        out["filters"] = parse_filters(out.pop("filter"))
    return out


def with_verb(verb: str) -> Callable[[argparse.Namespace], dict[str, object]]:
    return lambda ns: {**fields(ns), "verb": verb}


def options(*adders: Options) -> Options:
    def add(parser: DockerArgumentParser) -> None:
        for adder in adders:
            adder(parser)

    return add


def positional(name: str, metavar: str, nargs: str | None = None) -> Options:
    def add(parser: DockerArgumentParser) -> None:
        parser.add_argument(name, metavar=metavar, nargs=nargs)

    return add


def none(parser: DockerArgumentParser) -> None:
    pass


# --- listings ---------------------------------------------------------------------------


def ps(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all", help="Show all containers (default shows just running)")
    add_filter(p)
    p.add_argument(
        "-n",
        "--last",
        type=int,
        metavar="INT",
        help="Show n last created containers (includes all states)",
    )
    p.flag("-l", "--latest", help="Show the latest created container (includes all states)")
    p.flag("--no-trunc", help="Don't truncate output")
    p.flag("-q", "--quiet", help="Only display container IDs")
    p.flag("-s", "--size", help="Display total file sizes")
    listing_format(p)


def images(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all", help="Show all images (default hides intermediate images)")
    p.flag("--digests", help="Show digests")
    add_filter(p)
    p.flag("--no-trunc", help="Don't truncate output")
    p.flag("-q", "--quiet", help="Only show image IDs")
    listing_format(p)
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def listing_format(p: DockerArgumentParser) -> None:
    p.add_argument(
        "--format",
        metavar="STRING",
        help="Format output: 'table', 'table TEMPLATE', 'json' or a Go template",
    )


def template_format(p: DockerArgumentParser) -> None:
    p.add_argument("-f", "--format", help="Format output using a Go template ({{.Field.Path}})")


# --- run and create ---------------------------------------------------------------------


def run_options(run: bool) -> Options:
    def add(p: DockerArgumentParser) -> None:
        if run:
            p.flag("-d", "--detach", help="Run container in background and print container ID")
        p.add_argument("--name", help="Assign a name to the container")
        p.flag("--rm", dest="auto_remove", help="Automatically remove the container when it exits")
        p.many("-e", "--env", dest="env", help="Set environment variables (NAME=value)")
        p.many("-l", "--label", dest="labels", help="Set meta data on a container")
        p.add_argument("-w", "--workdir", help="Working directory inside the container")
        p.add_argument("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
        p.add_argument("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
        p.add_argument("--restart", help="Restart policy to apply when a container exits")
        p.many("--add-host", dest="add_hosts", help="Add a custom host-to-IP mapping (host:ip)")
        p.many("--dns", help="Set custom DNS servers")
        p.many("--expose", help="Expose a port or a range of ports")
        p.add_argument("--mac-address", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
        p.many(
            "--network",
            "--net",
            dest="networks",
            metavar="NETWORK",
            help="Connect a container to a network (a name, or name=NET,alias=A,ip=...)",
        )
        p.many("--link", dest="links", help="Add link to another container")
        p.many(
            "--link-local-ip",
            dest="link_local_ips",
            help="Container IPv4/IPv6 link-local addresses",
        )
        p.add_argument("-h", "--hostname", help="Container host name")
        p.many("-p", "--publish", dest="publish", help="Publish a container's port(s) to the host")
        p.flag(
            "-P",
            "--publish-all",
            dest="publish_all",
            help="Publish all exposed ports to random ports",
        )
        p.add_argument("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
        p.add_argument("--cpus", help="Number of CPUs")
        p.add_argument("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
        p.add_argument("-m", "--memory", help="Memory limit")
        p.add_argument(
            "--memory-swap",
            help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
        )
        p.add_argument("--memory-reservation", help="Memory soft limit")
        p.add_argument("--shm-size", help="Size of /dev/shm")
        p.add_argument(
            "--pids-limit", type=int, help="Tune container pids limit (-1 for unlimited)"
        )
        p.many("-v", "--volume", dest="volumes", help="Bind mount a volume")
        p.many("--mount", dest="mounts", help="Attach a filesystem mount to the container")
        p.many("--tmpfs", help="Mount a tmpfs directory")
        p.flag("--read-only", help="Mount the container's root filesystem as read only")
        p.flag("--init", help="Run an init inside the container", unset=None)
        p.add_argument("--stop-signal", help="Signal to stop the container")
        p.add_argument("--stop-timeout", type=int, help="Timeout (in seconds) to stop a container")
        p.add_argument("--health-cmd", help="Command to run to check health")
        p.add_argument("--health-interval", help="Time between running the check (ms|s|m|h)")
        p.add_argument(
            "--health-retries", type=int, help="Consecutive failures needed to report unhealthy"
        )
        p.add_argument("--health-timeout", help="Maximum time to allow one check to run (ms|s|m|h)")
        p.add_argument(
            "--health-start-period", help="Start period for the container to initialize (ms|s|m|h)"
        )
        p.flag("--no-healthcheck", help="Disable any container-specified HEALTHCHECK")
        p.flag("--privileged", help="Give extended privileges to this container")
        p.many("--cap-add", help="Add Linux capabilities")
        p.many("--cap-drop", help="Drop Linux capabilities")
        p.many("--device", dest="devices", help="Add a host device to the container")
        p.many(
            "--device-cgroup-rule",
            dest="device_cgroup_rules",
            help="Add a rule to the cgroup allowed devices list",
        )
        p.many("--gpus", help="GPU devices to add to the container ('all' to pass all GPUs)")
        p.add_argument(
            "--blkio-weight",
            type=int,
            help="Block IO (relative weight), between 10 and 1000, or 0 to disable",
        )
        p.many(
            "--blkio-weight-device",
            dest="blkio_weight_devices",
            help="Block IO weight (relative device weight)",
        )
        p.many("--device-read-bps", help="Limit read rate (bytes per second) from a device")
        p.many("--device-write-bps", help="Limit write rate (bytes per second) to a device")
        p.many("--device-read-iops", help="Limit read rate (IO per second) from a device")
        p.many("--device-write-iops", help="Limit write rate (IO per second) to a device")
        p.add_argument("--cgroupns", help="Cgroup namespace to use (host|private)")
        p.add_argument("--cgroup-parent", help="Optional parent cgroup for the container")
        p.add_argument("--runtime", help="Runtime to use for this container")
        p.add_argument("--isolation", help="Container isolation technology")
        p.many("--storage-opt", dest="storage_opts", help="Storage driver options")
        p.add_argument("--volume-driver", help="Optional volume driver for the container")
        p.add_argument("--kernel-memory", help="Kernel memory limit")
        p.add_argument(
            "--cpu-rt-period", type=int, help="Limit CPU real-time period in microseconds"
        )
        p.add_argument(
            "--cpu-rt-runtime", type=int, help="Limit CPU real-time runtime in microseconds"
        )
        p.many(
            "--annotation",
            dest="annotations",
            help="Add an annotation to the container (passed through to the OCI runtime)",
        )
        p.many("--security-opt", help="Security Options")
        p.add_argument("--pid", help="PID namespace to use")
        p.add_argument("--ipc", help="IPC mode to use")
        p.add_argument("--uts", help="UTS namespace to use")
        p.add_argument("--userns", help="User namespace to use")
        p.many("--group-add", help="Add additional groups to join")
        p.add_argument("--platform", help="Set platform if server is multi-platform capable")
        p.add_argument("--pull", help='Pull image before running ("always", "missing", "never")')
        p.add_argument("--log-driver", help="Logging driver for the container")
        p.many("--log-opt", dest="log_opts", help="Log driver options")
        p.many("--ulimit", dest="ulimits", help="Ulimit options")
        p.many("--sysctl", dest="sysctls", help="Sysctl options")
        p.many("--dns-search", help="Set custom DNS search domains")
        p.many("--dns-option", "--dns-opt", dest="dns_options", help="Set DNS options")
        p.add_argument("--domainname", help="Container NIS domain name")
        p.many(
            "--network-alias",
            "--net-alias",
            dest="network_aliases",
            help="Add network-scoped alias for the container",
        )
        p.add_argument("--ip", help="IPv4 address (e.g., 172.30.100.104)")
        p.add_argument("--ip6", help="IPv6 address (e.g., 2001:db8::33)")
        p.many("--volumes-from", help="Mount volumes from the specified container(s)")
        p.flag("--oom-kill-disable", help="Disable OOM Killer", unset=None)
        p.add_argument("--oom-score-adj", type=int, help="Tune host's OOM preferences")
        p.add_argument(
            "--memory-swappiness", type=int, help="Tune container memory swappiness (0 to 100)"
        )
        p.add_argument("--cpu-period", type=int, help="Limit CPU CFS period")
        p.add_argument("--cpu-quota", type=int, help="Limit CPU CFS quota")
        p.add_argument("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
        no_terminal = "chat has no terminal to attach"
        p.refuse("-i", "--interactive", reason=no_terminal)
        p.refuse("-t", "--tty", reason=no_terminal)
        p.refuse("-a", "--attach", reason=no_terminal, takes_value=True)
        p.refuse(
            "--env-file",
            "--label-file",
            takes_value=True,
            reason="the file would be read on the bot's machine; pass -e NAME=value",
        )
        p.refuse(
            "--cidfile", takes_value=True, reason="the reply carries the full container ID instead"
        )
        windows = "it is for Windows containers; this engine runs Linux ones"
        for windows_flag in ("--cpu-count", "--cpu-percent", "--io-maxbandwidth", "--io-maxiops"):
            p.refuse(windows_flag, takes_value=True, reason=windows)
        p.refuse(
            "--use-api-socket",
            reason="it would hand the container the engine's socket (the whole host)",
        )
        p.refuse(
            "--health-start-interval",
            takes_value=True,
            reason="it needs Engine API 1.44, newer than the one Dockhand speaks (1.41)",
        )
        p.flag(
            "--disable-content-trust",
            dest="content_trust_",
            help="Skip image verification (Dockhand does not verify: always)",
        )
        if run:
            p.refuse("--detach-keys", reason=no_terminal, takes_value=True)
            p.refuse("--sig-proxy", reason=no_terminal)
        else:
            p.flag("-q", "--quiet", dest="quiet_", help="Suppress the pull output")
        p.add_argument("image", metavar="IMAGE")
        p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")

    return add


def run_fields(verb: str) -> Callable[[argparse.Namespace], dict[str, object]]:
    def make(ns: argparse.Namespace) -> dict[str, object]:
        found = {**fields(ns), "verb": verb}
        # Nothing to do for these in chat: no content trust, and pulls report one way.
        found.pop("content_trust_", None)
        found.pop("quiet_", None)
        return found

    return make


# --- container verbs --------------------------------------------------------------------


def stop_time(p: DockerArgumentParser) -> None:
    p.add_argument("-t", "--time", type=int, help="Seconds to wait before killing the container")


def kill_signal(p: DockerArgumentParser) -> None:
    p.add_argument("-s", "--signal", help="Signal to send to the container")


def rm_options(p: DockerArgumentParser) -> None:
    p.flag("-f", "--force", help="Force the removal of a running container (uses SIGKILL)")
    p.flag("-v", "--volumes", help="Remove anonymous volumes associated with the container")


def containers_arg(p: DockerArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def logs(p: DockerArgumentParser) -> None:
    p.flag("-t", "--timestamps", help="Show timestamps")
    p.add_argument("-n", "--tail", help='Number of lines to show from the end ("all")')
    p.add_argument("--since", help="Show logs since timestamp or relative (e.g. 42m)")
    p.add_argument("--until", help="Show logs before a timestamp or relative (e.g. 42m)")
    p.refuse(
        "-f", "--follow", reason="a chat message cannot follow a stream; use --tail or --since"
    )
    p.add_argument("container", metavar="CONTAINER")


def inspect(p: DockerArgumentParser) -> None:
    template_format(p)
    p.add_argument("names", nargs="+", metavar="NAME")


def stats(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all", help="Show all containers (default shows just running)")
    p.flag("--no-stream", dest="no_stream_", help="Disable streaming stats (always, in chat)")
    p.flag("--no-trunc", help="Do not truncate output")
    listing_format(p)
    p.add_argument("containers", nargs="*", metavar="CONTAINER")


def top(p: DockerArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("ps_args", nargs=argparse.REMAINDER, metavar="[ps OPTIONS]")


def update(p: DockerArgumentParser) -> None:
    p.add_argument("--cpus", help="Number of CPUs")
    p.add_argument("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
    p.add_argument("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    p.add_argument("-m", "--memory", help="Memory limit")
    p.add_argument("--memory-swap", help="Swap limit equal to memory plus swap")
    p.add_argument("--memory-reservation", help="Memory soft limit")
    p.add_argument("--pids-limit", type=int, help="Tune container pids limit (-1 for unlimited)")
    p.add_argument("--restart", help="Restart policy to apply when a container exits")
    containers_arg(p)


def updates(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all", help="Check stopped containers too (default: running ones)")
    p.many(
        "--filter",
        dest="filter",
        metavar="FILTER",
        help="Only containers matching, as ps filters them (label=team=web)",
    )


def update_image(p: DockerArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=int,
        help="Seconds to wait for the new container to be healthy (default 300)",
    )
    p.add_argument(
        "--grace",
        type=int,
        help="Seconds a container without a healthcheck must keep running (default 10)",
    )
    p.add_argument("container", metavar="CONTAINER")


def schedule_updates(p: DockerArgumentParser) -> None:
    p.many(
        "--filter",
        dest="filter",
        metavar="FILTER",
        help="Only containers matching, e.g. label=team=web",
    )
    p.add_argument("--cron", help='Crontab schedule, e.g. "0 */6 * * *"')
    p.add_argument(
        "--window",
        help="Maintenance window (HH:MM-HH:MM, schedules' time zone) in which containers "
        "labelled dockhand.update=auto are updated, one at a time",
    )
    schedule_common(p)


def exec_options(p: DockerArgumentParser) -> None:
    p.flag("-d", "--detach", help="Detached mode: run command in the background")
    p.many("-e", "--env", dest="env", help="Set environment variables (NAME=value)")
    p.add_argument("-u", "--user", help='Username or UID (format: "<name|uid>[:<group|gid>]")')
    p.add_argument("-w", "--workdir", help="Working directory inside the container")
    p.flag("--privileged", help="Give extended privileges to the command (always refused)")
    no_terminal = "chat has no terminal to attach; the output comes back when it ends"
    p.refuse("-i", "--interactive", reason=no_terminal)
    p.refuse("-t", "--tty", reason=no_terminal)
    p.refuse("--detach-keys", reason=no_terminal, takes_value=True)
    p.refuse(
        "--env-file",
        takes_value=True,
        reason="the file would be read on the bot's machine; pass -e NAME=value",
    )
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def port(p: DockerArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("port", nargs="?", metavar="PRIVATE_PORT[/PROTO]")


def events(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.add_argument(
        "--format", help="Format output using a custom template ('json' or a Go template)"
    )
    p.add_argument("--since", help="Show all events created since timestamp (default 10m)")
    p.add_argument("--until", help="Show events until this timestamp (default now)")


def prune(all_help: str | None = None, volumes: bool = False) -> Options:
    def add(p: DockerArgumentParser) -> None:
        if all_help:
            p.flag("-a", "--all", help=all_help)
        if volumes:
            p.flag("--volumes", help="Prune anonymous volumes")
        p.flag("-f", "--force", help="Do not prompt for confirmation")
        # prune has no -f for --filter: -f is --force there.
        p.many("--filter", dest="filter", metavar="FILTER", help="Provide filter values")

    return add


def no_stream(ns: argparse.Namespace) -> dict[str, object]:
    found = fields(ns)
    found.pop("no_stream_", None)  # chat never streams: every stats call is --no-stream
    return found


# --- images -----------------------------------------------------------------------------


def pull(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all-tags", dest="all_tags", help="Download all tagged images in the repository")
    p.add_argument("--platform", help="Set platform if server is multi-platform capable")
    p.flag("-q", "--quiet", dest="quiet_", help="Suppress verbose output")
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")


def push(p: DockerArgumentParser) -> None:
    p.flag("-a", "--all-tags", dest="all_tags", help="Push all tags of an image to the repository")
    p.flag("-q", "--quiet", dest="quiet_", help="Suppress verbose output")
    p.add_argument("name", metavar="NAME[:TAG]")


def drop_quiet(ns: argparse.Namespace) -> dict[str, object]:
    found = fields(ns)
    found.pop("quiet_", None)  # progress is one edited message either way
    return found


def image_rm(p: DockerArgumentParser) -> None:
    p.flag("-f", "--force", help="Force removal of the image")
    p.flag("--no-prune", help="Do not delete untagged parents")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def history(p: DockerArgumentParser) -> None:
    p.flag("--no-trunc", help="Don't truncate output")
    p.flag("-q", "--quiet", help="Only show image IDs")
    p.flag("-H", "--human", help="Print sizes and dates in human readable format", unset=True)
    listing_format(p)
    p.add_argument("image", metavar="IMAGE")


def search(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.add_argument("--limit", type=int, help="Max number of search results")
    p.flag("--no-trunc", help="Don't truncate output")
    p.add_argument("term", metavar="TERM")


def login(p: DockerArgumentParser) -> None:
    p.add_argument("-u", "--username", help="Username")
    reason = "a password typed in a channel is a leaked password; run `/docker login` alone"
    p.refuse("-p", "--password", reason=reason, takes_value=True)
    p.refuse("--password-stdin", reason=reason)
    p.add_argument("server", nargs="?", metavar="SERVER")


# --- networks, volumes, system ---------------------------------------------------------


def network_create(p: DockerArgumentParser) -> None:
    p.add_argument("-d", "--driver", help='Driver to manage the Network (default "bridge")')
    p.many("--subnet", dest="subnets", help="Subnet in CIDR format")
    p.many("--gateway", dest="gateways", help="IPv4 or IPv6 Gateway for the master subnet")
    p.many("--ip-range", dest="ip_ranges", help="Allocate container ip from a sub-range")
    p.flag("--internal", help="Restrict external access to the network")
    p.flag("--attachable", help="Enable manual container attachment")
    p.flag("--ipv6", help="Enable IPv6 networking")
    p.many("--label", dest="labels", help="Set metadata on a network")
    p.many("-o", "--opt", dest="options", help="Set driver specific options")
    p.add_argument("name", metavar="NETWORK")


def network_ls(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.flag("--no-trunc", help="Do not truncate the output")
    p.flag("-q", "--quiet", help="Only display network IDs")
    listing_format(p)


def network_connect(p: DockerArgumentParser) -> None:
    p.many("--alias", dest="aliases", help="Add network-scoped alias for the container")
    p.add_argument("--ip", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")


def network_disconnect(p: DockerArgumentParser) -> None:
    p.flag("-f", "--force", help="Force the container to disconnect from a network")
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")


def names_arg(metavar: str, force: str | None = None) -> Options:
    def add(p: DockerArgumentParser) -> None:
        if force:
            p.flag("-f", "--force", help=force)
        p.add_argument("names", nargs="+", metavar=metavar)

    return add


def volume_create(p: DockerArgumentParser) -> None:
    p.add_argument("-d", "--driver", help='Specify volume driver name (default "local")')
    p.many("--label", dest="labels", help="Set metadata for a volume")
    p.many("-o", "--opt", dest="options", help="Set driver specific options")
    p.add_argument("name", nargs="?", metavar="VOLUME")


def volume_ls(p: DockerArgumentParser) -> None:
    add_filter(p)
    p.flag("-q", "--quiet", help="Only display volume names")
    listing_format(p)


def df(p: DockerArgumentParser) -> None:
    p.flag("-v", "--verbose", help="Show detailed information on space usage")
    listing_format(p)


def audit(p: DockerArgumentParser) -> None:
    p.add_argument("--user", help="Only this user's attempts (a Slack user ID or @mention)")
    p.add_argument("--since", help="Only since this long ago (e.g. 1h, 30m)")
    p.add_argument("--verb", dest="filter_verb", help="Only this verb (e.g. container:stop)")
    p.add_argument("-n", "--limit", type=int, help="At most this many entries (default 50)")


def audit_fields(ns: argparse.Namespace) -> dict[str, object]:
    found = fields(ns)
    if isinstance(found.get("user"), str):
        found["user"] = str(found["user"]).strip("<>@").split("|")[0].lstrip("@")
    return found


def schedule_common(p: DockerArgumentParser) -> None:
    p.add_argument("--every", help="Run at this interval (e.g. 6h, 30m, 1m)")
    p.add_argument("--host", dest="target_host", help="The configured engine to run against")
    p.add_argument("--channel", help="Channel to post results in (default: this one)")


def schedule_prune(p: DockerArgumentParser) -> None:
    p.add_argument("kind", metavar="images|containers|volumes|networks|system")
    p.flag("-a", "--all", help="Prune all unused images (images and system only)")
    p.many("--filter", dest="filter", metavar="FILTER", help="until=24h, label=...")
    p.add_argument("--cron", help='Crontab schedule, e.g. "0 3 * * *"')
    schedule_common(p)


def schedule_health(p: DockerArgumentParser) -> None:
    p.flag("--autoheal", help="Restart unhealthy containers (within a budget, then escalate)")
    p.many(
        "--filter",
        dest="filter",
        metavar="FILTER",
        help="Only containers matching, e.g. label=team=web",
    )
    schedule_common(p)


def schedule_id(p: DockerArgumentParser) -> None:
    p.add_argument("schedule_id", metavar="ID")


def mute(p: DockerArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER|label=KEY[=VALUE]")
    p.add_argument("duration", nargs="?", metavar="DURATION", help="How long (default 1h)")


def host_list(p: DockerArgumentParser) -> None:
    p.flag("-q", "--quiet", help="Only display host names")


def use_host(p: DockerArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="HOST")
    p.flag("--unset", help="Go back to the default host")


def help_topic(p: DockerArgumentParser) -> None:

    p.add_argument("topic", nargs="*", metavar="COMMAND")


# --- the table --------------------------------------------------------------------------


def _action(verb: str, summary: str, extra: Options = none, *aliases: str) -> Spec:
    name = verb.split(":")[1]
    return Spec(
        f"container {name}",
        summary,
        "[OPTIONS] CONTAINER [CONTAINER...]",
        options(extra, containers_arg),
        with_verb(verb),
        c.ContainerAction,
        aliases=(name, *aliases),
    )


SPECS: tuple[Spec, ...] = (
    Spec(
        "help",
        "Show the commands, or one command's usage",
        "[COMMAND]",
        help_topic,
        lambda ns: {"topic": " ".join(ns.topic) or None},
        c.Help,
    ),
    Spec(
        "version",
        "Show the Docker version information",
        "[OPTIONS]",
        template_format,
        fields,
        c.ShowVersion,
        aliases=("system version",),
    ),
    Spec(
        "info",
        "Display system-wide information",
        "[OPTIONS]",
        template_format,
        fields,
        c.ShowInfo,
        aliases=("system info",),
    ),
    # containers
    Spec(
        "container ls",
        "List containers",
        "[OPTIONS]",
        ps,
        fields,
        c.ListContainers,
        aliases=("ps", "container ps", "container list"),
    ),
    Spec(
        "container run",
        "Create and run a new container from an image",
        "[OPTIONS] IMAGE [COMMAND] [ARG...]",
        run_options(run=True),
        run_fields("container:run"),
        c.RunContainer,
        aliases=("run",),
        intermixed=False,
    ),
    Spec(
        "container create",
        "Create a new container",
        "[OPTIONS] IMAGE [COMMAND] [ARG...]",
        run_options(run=False),
        run_fields("container:create"),
        c.RunContainer,
        aliases=("create",),
        intermixed=False,
    ),
    _action("container:start", "Start one or more stopped containers"),
    _action("container:stop", "Stop one or more running containers", stop_time),
    _action("container:restart", "Restart one or more containers", stop_time),
    _action("container:kill", "Kill one or more running containers", kill_signal),
    _action("container:rm", "Remove one or more containers", rm_options, "container remove"),
    _action("container:pause", "Pause all processes within one or more containers"),
    _action("container:unpause", "Unpause all processes within one or more containers"),
    Spec(
        "container rename",
        "Rename a container",
        "CONTAINER NEW_NAME",
        options(positional("container", "CONTAINER"), positional("new_name", "NEW_NAME")),
        fields,
        c.RenameContainer,
        aliases=("rename",),
    ),
    Spec(
        "container logs",
        "Fetch the logs of a container",
        "[OPTIONS] CONTAINER",
        logs,
        fields,
        c.ContainerLogs,
        aliases=("logs",),
    ),
    Spec(
        "container inspect",
        "Display detailed information on one or more containers",
        "[OPTIONS] CONTAINER [CONTAINER...]",
        inspect,
        with_verb("container:inspect"),
        c.Inspect,
    ),
    Spec(
        "inspect",
        "Return low-level information on Docker objects",
        "[OPTIONS] NAME|ID...",
        inspect,
        with_verb("inspect"),
        c.Inspect,
    ),
    Spec(
        "container stats",
        "Display a snapshot of container resource usage statistics",
        "[OPTIONS] [CONTAINER...]",
        stats,
        no_stream,
        c.ContainerStats,
        aliases=("stats",),
    ),
    Spec(
        "container top",
        "Display the running processes of a container",
        "CONTAINER [ps OPTIONS]",
        top,
        fields,
        c.ContainerTop,
        aliases=("top",),
        intermixed=False,
    ),
    Spec(
        "container exec",
        "Execute a command in a running container (no terminal; output when it ends)",
        "[OPTIONS] CONTAINER COMMAND [ARG...]",
        exec_options,
        fields,
        c.ExecContainer,
        aliases=("exec",),
        intermixed=False,
    ),
    Spec(
        "container port",
        "List port mappings or a specific mapping for the container",
        "CONTAINER [PRIVATE_PORT[/PROTO]]",
        port,
        fields,
        c.ContainerPort,
        aliases=("port",),
    ),
    Spec(
        "container diff",
        "Inspect changes to files or directories on a container's filesystem",
        "CONTAINER",
        positional("container", "CONTAINER"),
        fields,
        c.ContainerDiff,
        aliases=("diff",),
    ),
    Spec(
        "container wait",
        "Block until one or more containers stop, then print their exit codes (bounded)",
        "CONTAINER [CONTAINER...]",
        containers_arg,
        fields,
        c.WaitContainers,
        aliases=("wait",),
    ),
    Spec(
        "container update",
        "Update configuration of one or more containers",
        "[OPTIONS] CONTAINER [CONTAINER...]",
        update,
        fields,
        c.UpdateContainers,
        aliases=("update",),
    ),
    Spec(
        "container update-image",
        "Pull the container's image and recreate it on the new one, rolling back on failure",
        "[OPTIONS] CONTAINER",
        update_image,
        fields,
        c.UpdateImage,
        aliases=("update-image",),
    ),
    Spec(
        "updates",
        "Which running containers' registries serve a newer image for their reference",
        "[OPTIONS]",
        updates,
        fields,
        c.CheckUpdates,
    ),
    Spec(
        "container prune",
        "Remove all stopped containers",
        "[OPTIONS]",
        prune(),
        with_verb("container:prune"),
        c.Prune,
    ),
    # images
    Spec(
        "image ls",
        "List images",
        "[OPTIONS] [REPOSITORY[:TAG]]",
        images,
        fields,
        c.ListImages,
        aliases=("images", "image list"),
    ),
    Spec(
        "image pull",
        "Download an image from a registry",
        "[OPTIONS] NAME[:TAG|@DIGEST]",
        pull,
        drop_quiet,
        c.PullImage,
        aliases=("pull",),
    ),
    Spec(
        "image push",
        "Upload an image to a registry",
        "[OPTIONS] NAME[:TAG]",
        push,
        drop_quiet,
        c.PushImage,
        aliases=("push",),
    ),
    Spec(
        "image tag",
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
        "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
        options(positional("source", "SOURCE_IMAGE"), positional("target", "TARGET_IMAGE")),
        fields,
        c.TagImage,
        aliases=("tag",),
    ),
    Spec(
        "image rm",
        "Remove one or more images",
        "[OPTIONS] IMAGE [IMAGE...]",
        image_rm,
        fields,
        c.RemoveImages,
        aliases=("rmi", "image remove"),
    ),
    Spec(
        "image prune",
        "Remove unused images",
        "[OPTIONS]",
        prune("Remove all unused images, not just dangling ones"),
        with_verb("image:prune"),
        c.Prune,
    ),
    Spec(
        "image inspect",
        "Display detailed information on one or more images",
        "[OPTIONS] IMAGE [IMAGE...]",
        inspect,
        with_verb("image:inspect"),
        c.Inspect,
    ),
    Spec(
        "image history",
        "Show the history of an image",
        "[OPTIONS] IMAGE",
        history,
        fields,
        c.ImageHistory,
        aliases=("history",),
    ),
    Spec(
        "search",
        "Search Docker Hub, or a configured registry's catalog, for images",
        "[OPTIONS] TERM",
        search,
        fields,
        c.SearchImages,
    ),
    Spec(
        "login",
        "Log in to a registry (the password is asked privately)",
        "[OPTIONS] [SERVER]",
        login,
        fields,
        c.Login,
    ),
    Spec(
        "logout",
        "Log out from a registry",
        "[SERVER]",
        positional("server", "SERVER", "?"),
        fields,
        c.Logout,
    ),
    # networks
    Spec(
        "network create",
        "Create a network",
        "[OPTIONS] NETWORK",
        network_create,
        fields,
        c.CreateNetwork,
    ),
    Spec(
        "network ls",
        "List networks",
        "[OPTIONS]",
        network_ls,
        fields,
        c.ListNetworks,
        aliases=("network list",),
    ),
    Spec(
        "network inspect",
        "Display detailed information on one or more networks",
        "[OPTIONS] NETWORK [NETWORK...]",
        inspect,
        with_verb("network:inspect"),
        c.Inspect,
    ),
    Spec(
        "network rm",
        "Remove one or more networks",
        "NETWORK [NETWORK...]",
        names_arg("NETWORK"),
        with_verb("network:rm"),
        c.RemoveObjects,
        aliases=("network remove",),
    ),
    Spec(
        "network connect",
        "Connect a container to a network",
        "[OPTIONS] NETWORK CONTAINER",
        network_connect,
        with_verb("network:connect"),
        c.ConnectNetwork,
    ),
    Spec(
        "network disconnect",
        "Disconnect a container from a network",
        "[OPTIONS] NETWORK CONTAINER",
        network_disconnect,
        with_verb("network:disconnect"),
        c.ConnectNetwork,
    ),
    Spec(
        "network prune",
        "Remove all unused networks",
        "[OPTIONS]",
        prune(),
        with_verb("network:prune"),
        c.Prune,
    ),
    # volumes
    Spec(
        "volume create",
        "Create a volume",
        "[OPTIONS] [VOLUME]",
        volume_create,
        fields,
        c.CreateVolume,
    ),
    Spec(
        "volume ls",
        "List volumes",
        "[OPTIONS]",
        volume_ls,
        fields,
        c.ListVolumes,
        aliases=("volume list",),
    ),
    Spec(
        "volume inspect",
        "Display detailed information on one or more volumes",
        "[OPTIONS] VOLUME [VOLUME...]",
        inspect,
        with_verb("volume:inspect"),
        c.Inspect,
    ),
    Spec(
        "volume rm",
        "Remove one or more volumes",
        "[OPTIONS] VOLUME [VOLUME...]",
        names_arg("VOLUME", "Force the removal of one or more volumes"),
        with_verb("volume:rm"),
        c.RemoveObjects,
        aliases=("volume remove",),
    ),
    Spec(
        "volume prune",
        "Remove unused local volumes",
        "[OPTIONS]",
        prune("Remove all unused volumes, not just anonymous ones"),
        with_verb("volume:prune"),
        c.Prune,
    ),
    # system
    Spec("system df", "Show docker disk usage", "[OPTIONS]", df, fields, c.DiskUsage),
    Spec(
        "system events",
        "Show the events of a closed window (--since, default 10m, to --until, default now)",
        "[OPTIONS]",
        events,
        fields,
        c.ShowEvents,
        aliases=("events",),
    ),
    Spec(
        "schedule prune",
        "Prune on a schedule; results go to the channel",
        "KIND [-a] [--filter F] (--cron EXPR | --every D) [--host H] [--channel C]",
        schedule_prune,
        lambda ns: {**fields(ns), "task": "prune"},
        c.SchedulePrune,
    ),
    Spec(
        "schedule health",
        "Restart-policy aware health checks on a schedule",
        "--every D [--autoheal] [--filter F] [--host H] [--channel C]",
        schedule_health,
        lambda ns: {**fields(ns), "task": "health"},
        c.SchedulePrune,
    ),
    Spec(
        "schedule updates",
        "Check for newer images on a schedule; auto-update labelled containers in a window",
        "(--every D | --cron EXPR) [--window HH:MM-HH:MM] [--filter F] [--host H] [--channel C]",
        schedule_updates,
        lambda ns: {**fields(ns), "task": "updates"},
        c.SchedulePrune,
    ),
    Spec(
        "schedule ls",
        "List schedules with their next runs",
        "",
        none,
        fields,
        c.ScheduleList,
        aliases=("schedule list",),
    ),
    Spec(
        "schedule rm",
        "Remove a schedule",
        "ID",
        schedule_id,
        with_verb("schedule:rm"),
        c.ScheduleAction,
    ),
    Spec(
        "schedule pause",
        "Pause a schedule",
        "ID",
        schedule_id,
        with_verb("schedule:pause"),
        c.ScheduleAction,
    ),
    Spec(
        "schedule resume",
        "Resume a paused schedule",
        "ID",
        schedule_id,
        with_verb("schedule:resume"),
        c.ScheduleAction,
    ),
    Spec(
        "schedule run",
        "Run a schedule now",
        "ID",
        schedule_id,
        with_verb("schedule:run"),
        c.ScheduleAction,
    ),
    Spec(
        "hosts",
        "List the configured Docker hosts: reachable, engine version, latency",
        "[-q]",
        host_list,
        fields,
        ListHosts,
        aliases=("host ls", "host list"),
    ),
    Spec(
        "use",
        "Set this channel's default host (-H still wins); alone: show it",
        "[HOST | --unset]",
        use_host,
        fields,
        UseHost,
    ),
    Spec(
        "mute",
        "Mute alerts about a container, or by label, for a while",
        "CONTAINER|label=KEY[=VALUE] [DURATION]",
        mute,
        fields,
        c.Mute,
    ),
    Spec(
        "audit",
        "Show who ran what, allowed or denied (admins)",
        "[OPTIONS]",
        audit,
        audit_fields,
        c.ShowAudit,
    ),
    Spec(
        "system prune",
        "Remove unused data",
        "[OPTIONS]",
        prune("Remove all unused images not just dangling ones", volumes=True),
        with_verb("system:prune"),
        c.Prune,
    ),
)

# Swarm's `service` and `node` commands live in their own module.
from bot.swarm_specs import SWARM_SPECS  # noqa: E402

SPECS = (*SPECS, *SWARM_SPECS)
