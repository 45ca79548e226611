"""Wave 4's new surfaces attacked as a non-admin typing chat text: exec (an operator a policy
gives `container:exec`), many hosts (an operator bound to `staging*` only) and Swarm services.
Each escape is refused and leaves the engine as it was; beside them, the legitimate use of
the same verbs still works. Objects made with the docker CLI stand in for what a host
already has (tests/test_escapes.py does the same for run/create)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.audit import Audit
from bot.confirm import ConfirmStore
from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import load_policy
from handlers.engines import Engines
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, TEST_IMAGE, Engine, Registry, Rig
from tests.swarm_rig import Swarm, start_swarm
from tests.test_escapes import state
from tests.test_image_updates import push

OPERATOR = Requester("U_OP", "C_W4")
PREFIX = "w4-"
CONTAINERS = [
    ("privy", ["--privileged"]),
    ("agent", ["--pid", "host"]),
    ("capped", ["--cap-add", "SYS_ADMIN"]),
    ("redis", ["--label", "dockhand.internal=true"]),
    ("plain", []),
]


@pytest.fixture(scope="module")
def made(engine: Engine) -> Iterator[Engine]:
    for name, args in CONTAINERS:
        # This machine's engine cannot start what needs every capability: made, not started
        # (the check comes before the engine would say it is not running).
        verb = ["create"] if name in ("privy", "capped") else ["run", "-d"]
        engine.cli(*verb, "--name", f"{PREFIX}{name}", *args, TEST_IMAGE, "sleep", "300")
    # The engine's own socket, bound by a container made elsewhere (the rig's socket path).
    socket = engine.url.removeprefix("unix://")
    engine.cli("run", "-d", "--name", f"{PREFIX}sock", "-v", f"{socket}:/var/run/docker.sock",
               TEST_IMAGE, "sleep", "300")  # fmt: skip
    yield engine
    for name in [n for n, _ in CONTAINERS] + ["sock", "env"]:
        engine.cli("rm", "-f", f"{PREFIX}{name}", check=False)


def _pipeline(engine: Engine, tmp_path: Path, policy: str, hosts: list[str]) -> Pipeline:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(policy)
    return Pipeline(
        Engines({host: engine.url for host in hosts}, timeout=60),
        Policy(load_policy(policy_file)),
        audit=Audit(fakeredis.FakeRedis()),
    )


@pytest.fixture
def shell(made: Engine, tmp_path: Path) -> Iterator[Pipeline]:
    """An operator a policy role gives exec, as README's Safety section describes."""
    made_pipeline = _pipeline(
        made,
        tmp_path,
        "bindings:\n  - {role: operator, users: [U_OP]}\n  - {role: shell, users: [U_OP]}\n"
        'roles:\n  shell: ["container:exec"]\n',
        ["local"],
    )
    yield made_pipeline
    made_pipeline.engines.close()


def exec_ids(engine: Engine) -> dict[str, int]:
    """How many execs each container has had: an exec that ran leaves its ID behind."""
    api = engine.client().api
    return {
        c["Names"][0]: len(api.inspect_container(c["Id"]).get("ExecIDs") or [])
        for c in api.containers(all=True)
    }


EXEC_ESCAPES = [
    ("exec w4-privy id", "Privileged"),
    ("exec w4-agent id", "PidMode"),
    ("exec w4-capped id", "CapAdd"),
    ("exec w4-sock id", "socket"),
    ("exec w4-redis id", "dockhand.internal"),
    ("exec --privileged w4-plain id", "Privileged"),
    ("exec -u root --privileged w4-plain id", "Privileged"),
    ("exec -it w4-plain id", "no terminal"),
]


@pytest.mark.parametrize(("text", "said"), EXEC_ESCAPES)
def test_exec_escape_is_refused(shell: Pipeline, made: Engine, text: str, said: str) -> None:
    before = exec_ids(made)
    reply = shell.run(text, OPERATOR, confirmed=True)
    assert not reply.ok and said in reply.text, reply.text
    assert exec_ids(made) == before


@pytest.mark.parametrize(
    "text",
    [
        "exec 'w4-privy/exec?x=' id",
        "exec 'w4-privy/../w4-privy' id",
        "exec 'w4-agent?x=' id",
        "update-image 'w4-privy/json?x='",
        "update-image 'w4-privy?x='",
        "update-image 'w4-redis/../w4-redis'",
    ],
)
def test_exec_target_is_one_path_segment(shell: Pipeline, made: Engine, text: str) -> None:
    before, listed = exec_ids(made), state(made)
    reply = shell.run(text, OPERATOR, confirmed=True)
    assert not reply.ok, reply.text
    assert exec_ids(made) == before and state(made) == listed


@pytest.mark.parametrize(
    "text",
    [
        "exec w4-plain echo hello-w4",
        "exec -u 0 -e A=1 -w / w4-plain sh -c 'echo hello-w4 $A'",
        "exec -d w4-plain sh -c 'echo hello-w4'",
    ],
)
def test_exec_that_is_safe_still_runs(shell: Pipeline, text: str) -> None:
    reply = shell.run(text, OPERATOR, confirmed=True)
    assert reply.ok, reply.text


def test_an_image_label_does_not_make_a_container_dockhands_own(
    shell: Pipeline, made: Engine
) -> None:
    """`-l dockhand.internal` is refused from chat; an image carrying the label (pushed to an
    allowed registry, or the newer image an update-image recreates on) must be refused as
    well, or the container it makes is one no one may stop or remove from chat."""
    image = "w4/own:1"
    made.import_busybox(image, changes=["LABEL dockhand.internal=true", 'CMD ["/bin/sh"]'])
    before = state(made)
    try:
        reply = shell.run(f"run -d --name w4-own {image} sleep 300", OPERATOR, confirmed=True)
        assert not reply.ok and "dockhand.internal" in reply.text, reply.text
        assert state(made) == before
    finally:
        made.cli("rm", "-f", "w4-own", check=False)
        made.cli("rmi", "-f", image, check=False)


@pytest.mark.parametrize(
    "text",
    [
        f"run -d --mount type=volume,src=w4-lbl,dst=/x,volume-label=dockhand.internal=1 "
        f"{TEST_IMAGE} sleep 300",
        f"create --mount type=volume,dst=/x,volume-label=dockhand.internal {TEST_IMAGE}",
    ],
)
def test_a_mount_cannot_label_its_volume_dockhands_own(
    shell: Pipeline, made: Engine, text: str
) -> None:
    """`volume create --label dockhand.internal` is refused; the volume a --mount creates
    with volume-label= is refused the same (a volume no one could remove from chat)."""
    before = state(made)
    reply = shell.run(text, OPERATOR, confirmed=True)
    assert not reply.ok and "dockhand.internal" in reply.text, reply.text
    assert state(made) == before


def test_a_mount_may_label_its_volume(shell: Pipeline, made: Engine) -> None:
    reply = shell.run(
        f"run -d --name w4-vlabel --mount type=volume,src=w4-labelled,dst=/x,volume-label=team=a "
        f"{TEST_IMAGE} sleep 300",
        OPERATOR,
    )
    try:
        assert reply.ok, reply.text
    finally:
        made.cli("rm", "-f", "w4-vlabel", check=False)
        made.cli("volume", "rm", "-f", "w4-labelled", check=False)


VIEWER = Requester("U_VIEW", "C_W4")


@pytest.mark.parametrize(
    "text",
    [
        "inspect w4-env",
        "container inspect w4-env",
        "inspect --format '{{json .Config.Env}}' w4-env",
        "inspect -f '{{index .Config.Env 0}}' w4-env",
        "inspect -f '{{range .Config.Env}}{{.}} {{end}}' w4-env",
        "inspect -f '{{json .}}' w4-env",
        "inspect -f '{{.Config}}' w4-env",
        "container inspect --format '{{printf \"%v\" .Config.Env}}' w4-env",
        "ps -a --filter name=w4-env --format '{{json .}}'",
        "ps -a --no-trunc --filter name=w4-env",
        "logs w4-env",
        "top w4-env -ef",
    ],
)
def test_a_viewer_never_reads_a_containers_env_values(
    made: Engine, tmp_path: Path, text: str
) -> None:
    made.cli("run", "-d", "--name", "w4-env", "-e", "W4_TOKEN=w4-sekrit-value", TEST_IMAGE,
             "sleep", "300", check=False)  # fmt: skip
    pipeline = _pipeline(made, tmp_path, "default_role: viewer\nbindings: []\n", ["local"])
    try:
        reply = pipeline.run(text, VIEWER)
        assert reply.ok, reply.text  # answered, only without the value
        assert "w4-sekrit-value" not in reply.text + str(reply.blocks), reply.text
    finally:
        pipeline.engines.close()


# --- many hosts: an operator bound to staging only -----------------------------------------

STAGING_ONLY = (
    "default_role: viewer\nbindings:\n  - {role: operator, users: [U_OP], hosts: ['staging*']}\n"
)


@pytest.fixture
def fleet(made: Engine, tmp_path: Path) -> Iterator[Pipeline]:
    # Both names are the same engine: what reaches it as prod is what matters.
    made_pipeline = _pipeline(made, tmp_path, STAGING_ONLY, ["staging", "prod"])
    yield made_pipeline
    made_pipeline.run("use --unset", OPERATOR)
    made_pipeline.engines.close()


@pytest.mark.parametrize(
    "text",
    [
        "-H prod stop -t 1 w4-plain",
        "--host=prod stop -t 1 w4-plain",
        "-H all stop -t 1 w4-plain",
        "-H 'p*' stop -t 1 w4-plain",
        "-H '*' stop -t 1 w4-plain",
        "-H '[ps]*' stop -t 1 w4-plain",
        f"-H prod run -d --name w4-new {TEST_IMAGE} sleep 1",
        "-H prod volume create w4-vol",
        "-H prod network create w4-net",
    ],
)
def test_staging_operator_cannot_change_prod(fleet: Pipeline, made: Engine, text: str) -> None:
    before = state(made)
    reply = fleet.run(text, OPERATOR, confirmed=True)
    assert not reply.ok, reply.text
    assert state(made) == before


def test_use_prod_does_not_lend_staging_rights(fleet: Pipeline, made: Engine) -> None:
    """Whatever `use prod` answers, a command that names no host then runs on prod and is
    judged there."""
    fleet.run("use prod", OPERATOR)
    before = state(made)
    for text in ("stop -t 1 w4-plain", f"run -d --name w4-new {TEST_IMAGE} sleep 1"):
        reply = fleet.run(text, OPERATOR, confirmed=True)
        assert not reply.ok, reply.text
    assert state(made) == before


def test_use_points_a_channel_only_at_a_host_one_may_use(made: Engine, tmp_path: Path) -> None:
    """`use prod` sends everyone's next command in the channel to prod: it is judged on
    prod, not on the host the channel was on (here local, where the operator may use it)."""
    pipeline = _pipeline(
        made,
        tmp_path,
        "bindings:\n  - {role: operator, users: [U_OP], hosts: ['staging*', local]}\n",
        ["local", "staging", "prod"],
    )
    try:
        refused = pipeline.run("use prod", OPERATOR)
        assert not refused.ok, refused.text
        assert pipeline.run("use", OPERATOR).text.count("prod") == 0
        fine = pipeline.run("use staging", OPERATOR)
        assert fine.ok, fine.text
    finally:
        pipeline.run("use --unset", OPERATOR)
        pipeline.engines.close()


def test_a_confirmation_acts_on_the_host_its_preview_was_computed_on(
    made: Engine, rig: Rig, tmp_path: Path
) -> None:
    """`stop web` in a channel pointed at staging shows staging's web; if the channel is
    pointed at prod before the click, the click must still stop staging's, not prod's
    (which no one was shown)."""
    prod = rig.engine("w4-prod")
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text("bindings:\n  - {role: operator, users: [U_OP]}\n")
    pipeline = Pipeline(
        Engines({"staging": made.url, "prod": prod.url}, timeout=60),
        Policy(load_policy(policy_file)),
        confirmations=ConfirmStore(fakeredis.FakeRedis()),
    )
    try:
        prod.import_busybox(TEST_IMAGE)
        prod.cli("run", "-d", "--name", "w4-plain", TEST_IMAGE, "sleep", "300")
        assert pipeline.run("use staging", OPERATOR).ok
        asked = pipeline.run("stop -t 1 w4-plain", OPERATOR)
        assert asked.pending, asked.text
        assert pipeline.run("use prod", OPERATOR).ok  # anyone in the channel, meanwhile
        done, _ = pipeline.confirm(asked.pending, OPERATOR)
        assert done.ok, done.text
        running = prod.client().api.inspect_container("w4-plain")["State"]["Running"]
        assert running, "the click stopped prod's w4-plain, which the preview never showed"
        assert not made.client().api.inspect_container("w4-plain")["State"]["Running"]
    finally:
        pipeline.run("use --unset", OPERATOR)
        pipeline.engines.close()
        made.cli("start", "w4-plain", check=False)
        prod.stop()


def test_staging_operator_still_works_on_staging(fleet: Pipeline, made: Engine) -> None:
    made_name = f"{PREFIX}staged"
    reply = fleet.run(
        f"-H staging run -d --name {made_name} -m 64m {TEST_IMAGE} sleep 300",
        OPERATOR,
        confirmed=True,
    )
    try:
        assert reply.ok, reply.text
        assert fleet.run("-H all ps -a", OPERATOR).ok  # reads may fan out over both
        prod_read = fleet.run(f"-H prod inspect {made_name}", OPERATOR)
        assert prod_read.ok, prod_read.text  # viewer on prod
    finally:
        made.cli("rm", "-f", made_name, check=False)


def test_a_quoted_command_stays_one(shell: Pipeline) -> None:
    # shlex round trip of a hostile argument: it is the command's argument, not a flag.
    reply = shell.run(shlex.join(["exec", "w4-plain", "echo", "--privileged"]), OPERATOR)
    assert reply.ok and "--privileged" in reply.text, reply.text


# --- Swarm: the check sees the manager, tasks run on any node ------------------------------


@pytest.fixture(scope="module")
def swarm(rig: Rig) -> Iterator[Swarm]:
    made_swarm = start_swarm(rig)
    try:
        yield made_swarm
    finally:
        made_swarm.remove_services()
        made_swarm.leave()
        made_swarm.worker.stop()
        made_swarm.manager.stop()


@pytest.fixture(scope="module")
def ops(swarm: Swarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    made_pipeline = _pipeline(
        swarm.manager,
        tmp_path_factory.mktemp("w4-swarm"),
        "bindings:\n  - {role: operator, users: [U_OP]}\n",
        ["local"],
    )
    yield made_pipeline
    made_pipeline.engines.close()


def services(swarm: Swarm) -> list[str]:
    return sorted(s["Spec"]["Name"] for s in swarm.manager.client().api.services())


def test_a_service_cannot_mount_a_workers_bind_volume(swarm: Swarm, ops: Pipeline) -> None:
    swarm.worker.cli("volume", "create", "-o", "type=none", "-o", "o=bind", "-o",
                     "device=/etc", "w4-etc")  # fmt: skip
    try:
        before = services(swarm)
        reply = ops.run(
            "service create -d --name w4-etc --constraint node.role==worker "
            f"--mount src=w4-etc,dst=/x {TEST_IMAGE} sleep 300",
            OPERATOR,
            confirmed=True,
        )
        assert not reply.ok and "w4-etc" in reply.text, reply.text
        assert services(swarm) == before
    finally:
        swarm.remove_services()
        swarm.worker.cli("volume", "rm", "-f", "w4-etc", check=False)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        ("--mount type=bind,src=/,dst=/host", "`/`"),
        ("--mount type=bind,source=/var/run/docker.sock,target=/s", "docker.sock"),
        (
            "--mount type=volume,dst=/x,volume-opt=type=none,volume-opt=o=bind,"
            "volume-opt=device=/etc",
            "/etc",
        ),
        ("--cap-add SYS_ADMIN", "SYS_ADMIN"),
        ("--cap-add ALL", "ALL"),
        ("--network host", "host"),
        ("--sysctl kernel.core_pattern=x", "kernel.core_pattern"),
        ("--container-label dockhand.internal=1", "dockhand.internal"),
        ("--label dockhand.internal=1", "dockhand.internal"),
        ("--generic-resource gpu=1", "generic-resource"),
        ("--log-driver syslog", "syslog"),
        ("--with-registry-auth", "with-registry-auth"),
        ("--credential-spec file://x", "credential-spec"),
        ("--mode global --cap-add NET_ADMIN", "NET_ADMIN"),
    ],
)
def test_service_escape_is_refused(swarm: Swarm, ops: Pipeline, flags: str, said: str) -> None:
    before = services(swarm)
    reply = ops.run(f"service create -d --name w4-bad {flags} {TEST_IMAGE} sleep 300", OPERATOR)
    assert not reply.ok and said in reply.text, reply.text
    assert services(swarm) == before


def test_service_update_and_rollback_cannot_swap_in_an_unchecked_spec(
    swarm: Swarm, ops: Pipeline
) -> None:
    """Made elsewhere with SYS_ADMIN, then changed elsewhere to a harmless spec: its
    PreviousSpec is the refused one, so an operator's rollback is refused; so are updates
    that keep what the service has."""
    manager = swarm.manager
    manager.cli("service", "create", "-d", "--name", "w4-svc", "--replicas", "0",
                "--cap-add", "SYS_ADMIN", TEST_IMAGE, "sleep", "300")  # fmt: skip
    try:
        refused = ops.run("service update -d --args 'sleep 1' w4-svc", OPERATOR)
        assert not refused.ok and "SYS_ADMIN" in refused.text, refused.text
        manager.cli("service", "update", "-d", "--cap-drop", "SYS_ADMIN", "w4-svc")  # fmt: skip
        spec = manager.client().api.inspect_service("w4-svc")
        assert "CapabilityAdd" in spec["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]
        for text in ("service rollback -d w4-svc", "service update -d --rollback w4-svc"):
            before = manager.client().api.inspect_service("w4-svc")["Version"]
            reply = ops.run(text, OPERATOR, confirmed=True)
            assert not reply.ok and "SYS_ADMIN" in reply.text, reply.text
            assert manager.client().api.inspect_service("w4-svc")["Version"] == before
        fine = ops.run("service update -d --env-add A=1 w4-svc", OPERATOR)
        assert fine.ok, fine.text
    finally:
        swarm.remove_services()


def test_a_plain_service_still_runs(swarm: Swarm, ops: Pipeline) -> None:
    reply = ops.run(
        f"service create -d --name w4-ok --replicas 1 --mount type=volume,dst=/data "
        f"--env A=1 --limit-memory 64m {TEST_IMAGE} sleep 300",
        OPERATOR,
    )
    try:
        assert reply.ok, reply.text
        assert ops.run("service scale -d w4-ok=2", OPERATOR).ok
    finally:
        swarm.remove_services()


# --- update-image: the newer image is judged too -------------------------------------------


def test_update_image_onto_an_image_labelled_dockhand_internal_is_refused(
    made: Engine, registry: Registry, tmp_path: Path
) -> None:
    """The recreated body is the container's own; the newer image's labels are merged in by
    the engine: one labelled dockhand.internal would make the updated container Dockhand's
    own (no one may stop or remove it from chat). Nothing changes on the refusal."""
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(
        "bindings:\n  - {role: operator, users: [U_OP]}\n"
        f"guards:\n  registries: [{registry.address}]\n"
    )
    logins = {registry.address: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}}
    credentials = Credentials(
        fakeredis.FakeRedis(), SecretStr(Fernet.generate_key().decode()), logins
    )
    pipeline = Pipeline(
        Engines({"local": made.url}, timeout=60), Policy(load_policy(policy_file)), credentials
    )
    pipeline.host_credentials = False
    made.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
    reference = f"{registry.address}/w4/upd:1"
    push(made, reference, b"w4-1")
    made.cli("run", "-d", "--name", "w4-upd", reference)
    try:
        push(made, reference, b"w4-2", "LABEL dockhand.internal=true")
        before = state(made)
        reply = pipeline.run("update-image w4-upd", OPERATOR, confirmed=True)
        assert not reply.ok and "dockhand.internal" in reply.text, reply.text
        assert state(made) == before
    finally:
        made.cli("rm", "-f", "w4-upd", check=False)
        pipeline.engines.close()


def test_a_service_cannot_mount_dockhands_own_volume_on_the_manager(
    swarm: Swarm, ops: Pipeline
) -> None:
    manager = swarm.manager
    manager.cli("create", "--name", "w4-redis", "--label", "dockhand.internal=true", "-v",
                "w4-redisdata:/data", TEST_IMAGE, "true")  # fmt: skip
    try:
        before = services(swarm)
        for mount in ("src=w4-redisdata,dst=/x", "type=volume,source=w4-redisdata,target=/x,ro"):
            reply = ops.run(
                f"service create -d --name w4-steal --mount {mount} {TEST_IMAGE}", OPERATOR
            )
            assert not reply.ok and "part of Dockhand" in reply.text, reply.text
        assert services(swarm) == before
    finally:
        swarm.remove_services()
        manager.cli("rm", "-f", "w4-redis", check=False)
        manager.cli("volume", "rm", "-f", "w4-redisdata", check=False)


@pytest.mark.parametrize(
    "text",
    [
        "service inspect w4-envsvc",
        "service inspect -f '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' w4-envsvc",
        "service inspect -f '{{json .}}' w4-envsvc",
        "service inspect -f '{{json .PreviousSpec}}' w4-envsvc",
        "service ls --format '{{json .}}'",
        "service ps --no-trunc --format '{{json .}}' w4-envsvc",
    ],
)
def test_a_viewer_never_reads_a_services_env_values(
    swarm: Swarm, tmp_path: Path, text: str
) -> None:
    api = swarm.manager.client().api
    if not api.services(filters={"name": ["w4-envsvc"]}):
        swarm.manager.cli("service", "create", "-d", "--name", "w4-envsvc", "--replicas", "0",
                          "-e", "W4_TOKEN=w4-sekrit-value", TEST_IMAGE, "sleep", "300")  # fmt: skip
        swarm.manager.cli("service", "update", "-d", "--env-add", "W4_OTHER=1", "w4-envsvc")
    pipeline = _pipeline(swarm.manager, tmp_path, "default_role: viewer\nbindings: []\n", ["local"])
    try:
        reply = pipeline.run(text, VIEWER)
        assert reply.ok, reply.text
        assert "w4-sekrit-value" not in reply.text + str(reply.blocks), reply.text
    finally:
        pipeline.engines.close()
