"""Ways to reach the host through /docker, tried against the rig's engine: each is refused,
names the field that refused it, leaves the engine as it was (nothing created, started,
or attached) and is in the audit as denied with its rule.

Objects made outside Dockhand (with the docker CLI) stand in for what a host already has:
a monitoring agent in the host's namespaces, a volume that binds /etc, a privileged
container waiting to be started."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fakeredis
import pytest

from bot.audit import Audit
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import load_policy
from handlers.engines import Engines
from tests.rig import TEST_IMAGE, Engine

OPERATOR = Requester("U_OP", "C1")
PREFIX = "esc-"
# Made with the CLI, outside Dockhand, once for the module: (name, docker create arguments).
CONTAINERS = [
    ("agent", ["--pid", "host", "--uts", "host"]),
    ("netagent", ["--network", "host"]),
    ("relay", ["--network", "container:esc-netagent"]),
    ("via", ["--pid", "container:esc-agent"]),
    ("privy", ["--privileged"]),
    ("sysp", ["--security-opt", "systempaths=unconfined"]),
    ("unconf", ["--security-opt", "seccomp=unconfined"]),
    ("armor", ["--security-opt", "apparmor=unconfined"]),
    ("capped", ["--cap-add", "SYS_ADMIN"]),
    ("devd", ["--device", "/dev/null:/dev/host-null"]),
    ("rules", ["--device-cgroup-rule", "c 1:3 rwm"]),
    ("oomneg", ["--oom-score-adj", "-500"]),
    ("cgp", ["--cgroup-parent", "/dockhand-escape"]),
    ("logsys", ["--log-driver", "syslog", "--log-opt", "syslog-address=udp://127.0.0.1:9"]),
    ("volmount", ["-v", "esc-etcvol:/x"]),
    ("from", ["--volumes-from", "esc-volmount"]),
    ("userns", ["--userns", "host"]),
    ("plain", ["--ipc", "shareable", "--security-opt", "no-new-privileges"]),
    ("redis", ["--label", "dockhand.internal=true", "-v", "esc-redisdata:/data"]),
]
VOLUMES = [
    ("etcvol", ["-o", "type=none", "-o", "o=bind", "-o", "device=/etc"]),
    ("rootvol", ["-o", "type=none", "-o", "o=bind", "-o", "device=/"]),
    ("ramvol", ["-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m"]),
]


@dataclass(frozen=True)
class Escape:
    text: str
    field: str  # what the reply must name
    rule: str


def _img(flags: str) -> str:
    return f"{flags} {TEST_IMAGE} sleep 300"


ESCAPES = [
    # Namespaces shared by reference: the referenced container is judged as a whole.
    Escape(f"run -d {_img('--pid container:esc-agent')}", "HostConfig.PidMode", "pid-host"),
    Escape(f"create {_img('--pid container:esc-agent')}", "HostConfig.PidMode", "pid-host"),
    Escape(f"run -d {_img('--ipc container:esc-agent')}", "HostConfig.PidMode", "pid-host"),
    Escape(f"run -d {_img('--network container:esc-netagent')}", "NetworkMode", "network-host"),
    Escape(f"run -d {_img('--network container:esc-relay')}", "esc-netagent", "network-host"),
    Escape(f"run -d {_img('--pid container:esc-via')}", "esc-agent", "pid-host"),
    Escape(f"run -d {_img('--pid container:esc-privy')}", "Privileged", "privileged"),
    Escape(f"run -d {_img('--ipc container:esc-sysp')}", "MaskedPaths", "systempaths"),
    Escape(f"run -d {_img('--network container:esc-capped')}", "CapAdd", "cap-add"),
    Escape(f"run -d {_img('--pid container:esc-logsys')}", "LogConfig", "log-driver"),
    # Named volumes are inspected, whoever made them.
    Escape(f"run -d {_img('-v esc-etcvol:/x')}", "/etc", "bind-path"),
    Escape(f"run -d {_img('-v esc-etcvol:/x:ro')}", "/etc", "bind-path"),
    Escape(f"run -d {_img('--mount source=esc-etcvol,target=/x')}", "/etc", "bind-path"),
    Escape(f"run -d {_img('--mount type=volume,src=esc-etcvol,dst=/x,ro')}", "/etc", "bind-path"),
    Escape(f"run -d {_img('-v esc-rootvol:/x')}", "Docker socket", "docker-socket"),
    Escape(
        "run -d --mount type=volume,src=esc-new,dst=/x,volume-opt=type=overlay,"
        f"volume-opt=o=lowerdir=/etc {_img('')}",
        "overlay",
        "volume-options",
    ),
    Escape(
        "run -d --mount type=volume,dst=/x,volume-opt=type=nfs,volume-opt=o=addr=127.0.0.1,"
        f"volume-opt=device=:/ {_img('')}",
        "nfs",
        "volume-options",
    ),
    Escape(
        "run -d --mount type=volume,src=esc-new2,dst=/x,volume-opt=type=none,volume-opt=o=bind,"
        f"volume-opt=device=/root {_img('')}",
        "/root",
        "bind-path",
    ),
    Escape(
        f"run -d {_img('--mount type=volume,dst=/x,volume-driver=rexray')}",
        "rexray",
        "volume-driver",
    ),
    Escape("volume create -o type=overlay -o o=lowerdir=/etc esc-ovl", "overlay", "volume-options"),
    Escape(
        "volume create -o type=nfs -o o=addr=127.0.0.1 -o device=:/srv esc-nfs",
        "nfs",
        "volume-options",
    ),
    Escape("volume create -o type=none -o o=bind -o device=/etc esc-etc2", "/etc", "bind-path"),
    Escape("volume create -o type=ext4 -o device=/dev/sda1 esc-blk", "/dev/sda1", "bind-path"),
    Escape("volume create -o o=bind,rshared -o device=/srv esc-rsh", "rshared", "volume-options"),
    Escape("volume create -o foo=bar esc-foo", "foo", "volume-options"),
    Escape("volume create -d rexray esc-plug", "rexray", "volume-driver"),
    # Log drivers that make the engine connect from the host, and options that smuggle.
    Escape(
        f"run -d {_img('--log-driver syslog --log-opt syslog-address=udp://127.0.0.1:9')}",
        "syslog",
        "log-driver",
    ),
    Escape(f"run -d {_img('--log-driver gelf')}", "gelf", "log-driver"),
    Escape(f"run -d {_img('--log-driver fluentd')}", "fluentd", "log-driver"),
    Escape(f"run -d {_img('--log-driver splunk')}", "splunk", "log-driver"),
    Escape(f"run -d {_img('--log-driver=awslogs')}", "awslogs", "log-driver"),
    Escape(f"run -d {_img('--log-opt fluentd-address=127.0.0.1:9')}", "fluentd-address", "log-opt"),
    Escape(
        f"run -d {_img('--log-driver json-file --log-opt syslog-address=udp://127.0.0.1:9')}",
        "syslog-address",
        "log-opt",
    ),
    Escape("run -d --log-opt 'tag=a\nFLUSHALL' " + _img(""), "control characters", "log-opt"),
    # seccomp, AppArmor, SELinux and the masked system paths.
    Escape(
        'run -d --security-opt \'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}\' ' + _img(""),
        "SecurityOpt",
        "security-opt",
    ),
    Escape(
        'run -d --security-opt \'seccomp:{"defaultAction":"SCMP_ACT_ALLOW"}\' ' + _img(""),
        "SecurityOpt",
        "security-opt",
    ),
    Escape(f"run -d {_img('--security-opt apparmor=unconfined')}", "SecurityOpt", "security-opt"),
    Escape(f"run -d {_img('--security-opt label=type:spc_t')}", "SecurityOpt", "security-opt"),
    # Sent as the CLI sends it: empty MaskedPaths and ReadonlyPaths.
    Escape(f"run -d {_img('--security-opt systempaths=unconfined')}", "MaskedPaths", "systempaths"),
    Escape(f"run -d {_img('--security-opt seccomp=unconfined')}", "SecurityOpt", "security-opt"),
    # Containers made elsewhere, started (or restarted, or started among others) here.
    Escape("start esc-privy", "esc-privy: --privileged", "privileged"),
    Escape("restart esc-privy", "esc-privy: --privileged", "privileged"),
    Escape("start esc-plain esc-privy", "esc-privy", "privileged"),
    Escape("start esc-sysp", "MaskedPaths", "systempaths"),
    Escape("start esc-unconf", "seccomp=unconfined", "security-opt"),
    Escape("start esc-armor", "apparmor=unconfined", "security-opt"),
    Escape("start esc-capped", "CapAdd", "cap-add"),
    Escape("start esc-devd", "/dev/null", "device"),
    Escape("start esc-rules", "DeviceCgroupRules", "device"),
    Escape("start esc-oomneg", "OomScoreAdj", "oom-score-adj"),
    Escape("start esc-cgp", "CgroupParent", "cgroup-parent"),
    Escape("start esc-logsys", "syslog", "log-driver"),
    Escape("start esc-volmount", "/etc", "bind-path"),
    Escape("start esc-from", "VolumesFrom", "volumes-from"),
    Escape("start esc-agent", "PidMode", "pid-host"),
    Escape("start esc-netagent", "NetworkMode", "network-host"),
    Escape("start esc-via", "esc-agent", "pid-host"),
    Escape("start esc-userns", "UsernsMode", "userns-host"),
    # A restart policy lets the engine start it again later, on its own.
    Escape("update --restart always esc-agent", "PidMode", "pid-host"),
    Escape("update --restart=on-failure:3 --memory 64m esc-privy", "Privileged", "privileged"),
    # Networks on the host's own segment, or the host's own bridge.
    Escape("network create -d macvlan -o parent=eth0 esc-lan", "macvlan", "network-driver"),
    Escape("network create -d ipvlan -o parent=eth0 esc-lan2", "ipvlan", "network-driver"),
    Escape("network create --driver=host esc-h", "host", "network-host"),
    Escape(
        "network create -o com.docker.network.bridge.name=docker0 esc-br",
        "com.docker.network.bridge.name",
        "network-options",
    ),
    Escape("network connect host esc-plain", "host", "network-host"),
    # The host's network by its ID (or a prefix of it): judged by the driver, not the word.
    Escape(f"run -d {_img('--network {hostnet}')}", "host driver", "network-host"),
    Escape(f"run -d {_img('--network {hostnet12}')}", "host driver", "network-host"),
    Escape("network connect {hostnet} esc-plain", "host driver", "network-host"),
    # Host paths, propagation and the rest of HostConfig.
    Escape(f"run -d {_img('-v /proc:/p')}", "/proc", "bind-path"),
    Escape(f"run -d {_img('-v {allowed}/etc-link:/x')}", "outside the allowed", "bind-path"),
    # A link that stays inside today can be flipped before the engine mounts it.
    Escape(f"run -d {_img('-v {allowed}/inner-link:/x')}", "symbolic link", "bind-path"),
    Escape(f"run -d {_img('-v {allowed}/etc-link/shadow:/x')}", "/etc", "bind-path"),
    Escape(f"run -d {_img('-v {engine}:/x')}", "socket", "docker-socket"),
    Escape(f"run -d {_img('-v {engine}/docker.sock:/s')}", "socket", "docker-socket"),
    # The exec-root: containerd's socket and the running containers' state.
    Escape(f"run -d {_img('-v {engine}/exec:/x')}", "holds a socket", "docker-socket"),
    # The engine's data root holds every container's files: inside it, or holding it.
    Escape(f"run -d {_img('-v {engine}/data/volumes:/x')}", "engine's data", "engine-data"),
    Escape(f"run -d {_img('-v {allowed}:/x:rshared')}", "propagate", "bind-propagation"),
    # Write access above another bind's source: a link put there is followed at the next
    # mount (a restart the engine does on its own needs no command at all).
    Escape(
        "run -d --restart always -v {allowed}:/a -v {allowed}/sub:/y " + _img(""),
        "could write to",
        "bind-overlap",
    ),
    Escape(
        "run -d --mount type=bind,src={allowed}/sub,dst=/y -v {allowed}:/a " + _img(""),
        "could write to",
        "bind-overlap",
    ),
    Escape(
        f"run -d {_img('--mount type=bind,src={allowed},dst=/x,bind-propagation=shared')}",
        "Propagation",
        "bind-propagation",
    ),
    Escape(f"run -d {_img('--oom-score-adj -1000')}", "OomScoreAdj", "oom-score-adj"),
    # Dockhand's own Redis (its job store) and network: labelled dockhand.internal.
    Escape(f"run -d {_img('--network container:esc-redis')}", "part of Dockhand", "internal"),
    Escape(f"run -d {_img('--pid container:esc-redis')}", "part of Dockhand", "internal"),
    Escape("network create --subnet 192.168.77.0/24 esc-lan3", "192.168.77.0/24", "subnet"),
    # rbind is a bind too: an rbind volume above another bind's source is the same flip.
    Escape(
        "run -d --mount type=volume,dst=/a,volume-opt=type=none,volume-opt=o=rbind,"
        "volume-opt=device={allowed} -v {allowed}/sub:/y " + _img(""),
        "could write to",
        "bind-overlap",
    ),
    # Dockhand's Redis data (its job store) and its label.
    Escape(f"run -d {_img('-v esc-redisdata:/x')}", "part of Dockhand", "internal"),
    Escape(f"run -d {_img('--mount src=esc-redisdata,dst=/x')}", "part of Dockhand", "internal"),
    Escape(f"run -d {_img('-l dockhand.internal=true')}", "dockhand.internal", "internal"),
    Escape("volume create --label dockhand.internal=1 esc-fake", "dockhand.internal", "internal"),
    Escape("top esc-plain e", "must start with a dash", "top-args"),
    Escape("top esc-plain -o pid,args e", "must start with a dash", "top-args"),
    # One quoted argument is split again by the engine: '-ef e' is `-ef` and `e`.
    Escape("top esc-plain '-ef e'", "must start with a dash", "top-args"),
    Escape("top esc-plain '-o pid,args e'", "must start with a dash", "top-args"),
    Escape(f"run -d {_img('--oom-kill-disable')}", "OomKillDisable", "oom-kill-disable"),
    Escape(f"run -d {_img('--cap-add SYS_PTRACE')}", "CapAdd", "cap-add"),
    Escape(f"run -d {_img('--device /dev/null')}", "/dev/null", "device"),
    Escape(f"run -d {_img('--volumes-from esc-plain')}", "VolumesFrom", "volumes-from"),
    Escape(f"run -d {_img('--userns host')}", "UsernsMode", "userns-host"),
    Escape(f"run -d {_img('--network=Host')}", "NetworkMode", "network-host"),
]


@pytest.fixture(scope="module")
def made_elsewhere(engine: Engine) -> Iterator[Engine]:
    for name, args in VOLUMES:
        engine.cli("volume", "create", *args, f"{PREFIX}{name}")
    for name, args in CONTAINERS:
        engine.cli("create", "--name", f"{PREFIX}{name}", *args, TEST_IMAGE, "sleep", "300")
    yield engine
    engine.remove_all_containers()
    for name, _ in VOLUMES:
        engine.cli("volume", "rm", "-f", f"{PREFIX}{name}", check=False)


@pytest.fixture(scope="module")
def allowed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("escape-allowed")
    os.symlink("/etc", base / "etc-link")
    (base / "sub").mkdir()
    os.symlink(base / "sub", base / "inner-link")
    return base


@pytest.fixture
def pipeline(made_elsewhere: Engine, tmp_path: Path, allowed_dir: Path) -> Iterator[Pipeline]:
    policy_file = tmp_path / "policy.yml"
    # The engine's own root is an allowed bind path, so only the socket rule can refuse it.
    policy_file.write_text(
        "bindings:\n  - {role: operator, users: [U_OP]}\n"
        f"guards:\n  bind_paths: [{allowed_dir}, {made_elsewhere.root}]\n"
        # Opened here so the references themselves are judged (container:X as a whole);
        # closed by default: test_namespace_sharing_is_closed_by_default.
        "  allow: {namespace_sharing: true}\n"
    )
    made = Pipeline(
        Engines({"local": made_elsewhere.url}, timeout=60),
        Policy(load_policy(policy_file)),
        audit=Audit(fakeredis.FakeRedis()),
    )
    yield made
    made.engines.close()


def state(engine: Engine) -> dict[str, str]:
    """What the engine has: every container with its state, every network and volume."""
    api = engine.client().api
    found = {c["Names"][0]: c["State"] for c in api.containers(all=True)}
    found |= {f"network {n['Name']}": "" for n in api.networks()}
    found |= {f"volume {v['Name']}": "" for v in api.volumes().get("Volumes") or []}
    return found


def test_there_are_at_least_sixty() -> None:
    assert len(ESCAPES) >= 60
    assert len({e.text for e in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize("escape", ESCAPES, ids=[e.text[:70] for e in ESCAPES])
def test_escape_is_refused_naming_the_field(
    pipeline: Pipeline, made_elsewhere: Engine, allowed_dir: Path, escape: Escape
) -> None:
    text = escape.text.replace("{allowed}", str(allowed_dir))
    text = text.replace("{engine}", str(made_elsewhere.root))
    host_network = made_elsewhere.client().api.inspect_network("host")["Id"]
    text = text.replace("{hostnet}", host_network).replace("{hostnet12}", host_network[:12])
    before = state(made_elsewhere)
    reply = pipeline.run(text, OPERATOR, confirmed=True)
    assert not reply.ok, reply.text
    assert "refused by policy" in reply.text and escape.field in reply.text, reply.text
    assert state(made_elsewhere) == before
    assert pipeline.audit is not None
    entry = pipeline.audit.query(limit=1)[0]
    assert (entry.user, entry.decision, entry.rule) == ("U_OP", "denied", f"guard {escape.rule}")


BENIGN = [
    "run -d --name esc-web -m 256m --cpus 0.5 -p 127.0.0.1:8080:80 --restart on-failure:3 "
    f"{TEST_IMAGE} sleep 300",
    f"run -d --name esc-ipc --ipc container:esc-plain {TEST_IMAGE} sleep 300",
    f"run -d --name esc-ram -v esc-ramvol:/x -v esc-anon:/y {TEST_IMAGE} sleep 300",
    f"run -d --name esc-bind -v {{allowed}}:/data:ro {TEST_IMAGE} sleep 300",
    f"run -d --name esc-nnp --security-opt no-new-privileges --log-opt max-size=1m {TEST_IMAGE} "
    "sleep 300",
    "start esc-plain",
    "volume create esc-fine",
    "network create esc-net",
]


@pytest.mark.parametrize("text", BENIGN)
def test_what_is_safe_still_runs(
    pipeline: Pipeline, made_elsewhere: Engine, allowed_dir: Path, text: str
) -> None:
    if "container:esc-plain" in text:
        made_elsewhere.cli("start", f"{PREFIX}plain")  # a namespace is joined while it runs
    reply = pipeline.run(text.replace("{allowed}", str(allowed_dir)), OPERATOR, confirmed=True)
    assert reply.ok, reply.text
    assert "waived" not in reply.text


def test_the_check_runs_again_when_the_command_runs(
    pipeline: Pipeline, made_elsewhere: Engine
) -> None:
    """Passing before the ack is not enough: the reference is judged against the engine
    as it is when the command runs (here the agent appears between the two)."""
    name = f"{PREFIX}late"
    prepared = pipeline.prepare(
        shlex.join(["run", "-d", "--pid", f"container:{name}", TEST_IMAGE]), OPERATOR
    )
    made_elsewhere.cli("create", "--name", name, "--pid", "host", TEST_IMAGE, "sleep", "300")
    before = state(made_elsewhere)
    reply = pipeline.finish(prepared)
    assert not reply.ok and "pid-host" not in reply.text and "PidMode" in reply.text
    assert state(made_elsewhere) == before


@pytest.mark.parametrize(
    "text",
    [
        "restart 'esc-agent/restart?x='",
        "restart -t 1 'esc-agent/restart?x='",
        "start 'esc-agent/start?x='",
        "start 'esc-agent/../esc-agent'",
        "unpause 'esc-agent/unpause?x='",
        "update --restart always 'esc-agent/update?x='",
        "network connect 'host/connect?x=' esc-plain",
    ],
)
def test_a_name_is_one_path_segment(pipeline: Pipeline, made_elsewhere: Engine, text: str) -> None:
    """The engine acts on exactly what was looked up: a name that smuggles a path or a
    query acts on nothing (it named no container) instead of on esc-agent unchecked."""
    before = state(made_elsewhere)
    reply = pipeline.run(text, OPERATOR, confirmed=True)
    assert not reply.ok, reply.text
    assert state(made_elsewhere) == before


def test_no_write_access_above_what_another_container_binds(
    pipeline: Pipeline, made_elsewhere: Engine, allowed_dir: Path
) -> None:
    """Across containers, both ways round: a writer above an existing bind, or a new bind
    below an existing writer; read-only is fine."""
    engine, allowed = made_elsewhere, str(allowed_dir)
    engine.cli("create", "--name", "esc-writer", "-v", f"{allowed}:/a", TEST_IMAGE, "true")
    try:
        before = state(engine)
        below = pipeline.run(f"run -d -v {allowed}/sub:/y {TEST_IMAGE} sleep 300", OPERATOR)
        assert not below.ok and "esc-writer could write to" in below.text, below.text
        assert state(engine) == before
    finally:
        engine.cli("rm", "-f", "esc-writer")
    engine.cli("create", "--name", "esc-reader", "-v", f"{allowed}/sub:/y:ro", TEST_IMAGE, "true")
    try:
        before = state(engine)
        above = pipeline.run(f"run -d -v {allowed}:/a {TEST_IMAGE} sleep 300", OPERATOR)
        assert not above.ok and "esc-reader binds" in above.text, above.text
        assert state(engine) == before
        fine = pipeline.run(
            f"run -d --name esc-ro -v {allowed}:/a:ro {TEST_IMAGE} sleep 300", OPERATOR
        )
        assert fine.ok, fine.text
    finally:
        engine.cli("rm", "-f", "esc-reader", "esc-ro")


def test_dockhand_itself_cannot_be_stopped_from_chat(
    pipeline: Pipeline, made_elsewhere: Engine
) -> None:
    made_elsewhere.cli("start", f"{PREFIX}redis")
    for text in ("stop -t 1 esc-redis", "rm -f esc-redis", "restart -t 1 esc-redis"):
        reply = pipeline.run(text, OPERATOR, confirmed=True)
        assert not reply.ok and "dockhand.internal" in reply.text, reply.text
    assert made_elsewhere.client().api.inspect_container("esc-redis")["State"]["Running"]
    made_elsewhere.cli("rm", "-f", f"{PREFIX}redis")


def test_namespace_sharing_is_closed_by_default(made_elsewhere: Engine, tmp_path: Path) -> None:
    """Even with a harmless X: its processes' environment and files, and its loopback, are
    more than inspect shows anyone but an admin."""
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text("bindings:\n  - {role: operator, users: [U_OP]}\n")
    strict = Pipeline(
        Engines({"local": made_elsewhere.url}, timeout=60),
        Policy(load_policy(policy_file)),
        audit=Audit(fakeredis.FakeRedis()),
    )
    made_elsewhere.cli("start", f"{PREFIX}plain")
    for flag in ("--pid", "--ipc", "--network"):
        before = state(made_elsewhere)
        reply = strict.run(f"run -d {flag} container:esc-plain {TEST_IMAGE} sleep 300", OPERATOR)
        assert not reply.ok and "shares another container's namespace" in reply.text, reply.text
        assert state(made_elsewhere) == before
    strict.engines.close()
