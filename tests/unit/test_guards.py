"""Attempts to get root on the host through /docker, each denied with its reason and audited.

Policy work is engine-free, so this runs without any server: the guards see the parsed
model, whatever spelling reached it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest

from bot.audit import Audit
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import load_policy
from handlers.commands import RunContainer
from handlers.engines import Engines
from handlers.errors import NotAllowed, UsageError

OPERATOR = Requester("U_OP", "C_OPS")
VIEWER = Requester("U_VIEW", "C_OPS")
STRANGER = Requester("U_NOBODY", "C_RANDOM")
IMAGE = "busybox:1.36"


@pytest.fixture(scope="module")
def allowed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("allowed")
    (base / "data").mkdir()
    os.symlink("/etc", base / "data" / "etc-link")
    return base / "data"


@pytest.fixture
def pipeline(tmp_path: Path, allowed_dir: Path) -> Iterator[Pipeline]:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(f"""
bindings:
  - role: admin
    users: [U_ADMIN]
  - role: operator
    users: [U_OP]
  - role: viewer
    users: [U_VIEW]
guards:
  bind_paths: [{allowed_dir}]
  registries: [docker.io, "127.0.0.1:5055"]
  max_memory: 1g
  max_cpus: 2
  max_pids: 512
  default_memory: 256m
""")
    made = Pipeline(
        Engines({"local": "unix:///nonexistent.sock"}, timeout=1),
        Policy(load_policy(policy_file)),
        audit=Audit(fakeredis.FakeRedis()),
    )
    yield made


BYPASSES: list[tuple[str, str]] = [
    (f"run --privileged {IMAGE}", "privileged"),
    (f"run --privileged=true {IMAGE}", "privileged"),
    (f"run —privileged {IMAGE}", "privileged"),
    (f"container run --privileged {IMAGE}", "privileged"),
    (f"create --privileged {IMAGE}", "privileged"),
    (f"RUN --privileged {IMAGE}", "privileged"),
    (f"run -d --rm --privileged=1 {IMAGE} sh", "privileged"),
    (f"run -v /:/host {IMAGE}", "docker-socket"),
    (f"run --volume=/var/run/docker.sock:/s {IMAGE}", "docker-socket"),
    (f"run -v /run/docker.sock:/s {IMAGE}", "docker-socket"),
    (f"run -v /var/run:/r {IMAGE}", "docker-socket"),
    (f"run --mount type=bind,source=/,target=/h {IMAGE}", "docker-socket"),
    (f"run --mount type=bind,src=/etc,dst=/h,readonly {IMAGE}", "bind-path"),
    # A relative -v (../etc:/h, ./data:/h) is a usage error for everyone, exempt roles too,
    # before any guard is asked: tests/unit/test_syntax_before_ack.py.
    (f"run -v {{allowed}}/../../etc:/h {IMAGE}", "bind-path"),
    (f"run -v {{allowed}}/etc-link:/h {IMAGE}", "bind-path"),
    (f"run -v /etc:/h:ro {IMAGE}", "bind-path"),
    (f"run --net=host {IMAGE}", "network-host"),
    (f"run --network host {IMAGE}", "network-host"),
    (f"run --network=HOST {IMAGE}", "network-host"),
    (f"run --pid=host {IMAGE}", "pid-host"),
    (f"run --pid host {IMAGE}", "pid-host"),
    (f"run --ipc=host {IMAGE}", "ipc-host"),
    (f"run --uts=host {IMAGE}", "uts-host"),
    (f"run --userns=host {IMAGE}", "userns-host"),
    (f"run --cap-add ALL {IMAGE}", "cap-add"),
    (f"run --cap-add=SYS_ADMIN {IMAGE}", "cap-add"),
    (f"run --cap-add net_admin {IMAGE}", "cap-add"),
    (f"run --security-opt seccomp=unconfined {IMAGE}", "security-opt"),
    (f"run --security-opt apparmor=unconfined {IMAGE}", "security-opt"),
    (f"run --security-opt label=disable {IMAGE}", "security-opt"),
    (f"run --device /dev/sda {IMAGE}", "device"),
    (f"run -m 4g {IMAGE}", "max-memory"),
    (f"run --memory=2g {IMAGE}", "max-memory"),
    (f"run --cpus 8 {IMAGE}", "max-cpus"),
    (f"run --pids-limit -1 {IMAGE}", "max-pids"),
    (f"run --pids-limit 100000 {IMAGE}", "max-pids"),
    ("run evil.example.com/miner:1", "registry"),
    ("pull evil.example.com/miner:1", "registry"),
    (f"run --volumes-from builder {IMAGE}", "volumes-from"),
    (f"run --cpu-quota 400000 {IMAGE}", "max-cpus"),
    (f"run --cpu-period 50000 --cpu-quota 200000 {IMAGE}", "max-cpus"),
    (f"run --cpu-quota -1 {IMAGE}", "max-cpus"),
    ("update --memory 8g web", "max-memory"),
    ("update --cpus 16 web", "max-cpus"),
    ("update --pids-limit 0 web", "max-pids"),
    ("volume create -o type=none -o o=bind -o device=/ rootvol", "docker-socket"),
    (
        f"run --mount type=volume,src=v,dst=/x,volume-opt=type=none,volume-opt=o=bind,"
        f"volume-opt=device=/etc {IMAGE}",
        "bind-path",
    ),
]


def test_there_are_at_least_forty() -> None:
    assert len(BYPASSES) >= 40


@pytest.mark.parametrize(("text", "rule"), BYPASSES, ids=[t for t, _ in BYPASSES])
def test_bypass_is_denied_with_reason_and_audited(
    pipeline: Pipeline, allowed_dir: Path, text: str, rule: str
) -> None:
    text = text.replace("{allowed}", str(allowed_dir))
    with pytest.raises(NotAllowed) as caught:
        pipeline.prepare(text, OPERATOR)
    assert caught.value.rule == f"guard {rule}"
    assert caught.value.message.startswith("refused by policy: ")
    assert pipeline.audit is not None
    entry = pipeline.audit.query(limit=1)[0]
    assert (entry.user, entry.decision, entry.rule) == ("U_OP", "denied", f"guard {rule}")


def test_allowed_paths_and_defaults_pass(pipeline: Pipeline, allowed_dir: Path) -> None:
    prepared = pipeline.prepare(f"run -d -v {allowed_dir}:/data:ro --cpus 1 {IMAGE}", OPERATOR)
    assert isinstance(prepared.command, RunContainer)
    assert prepared.command.memory == 256 * 1024 * 1024  # the policy's default
    assert prepared.command.cpus == 1_000_000_000


def test_roles(pipeline: Pipeline) -> None:
    with pytest.raises(NotAllowed, match="do not allow container:stop"):
        pipeline.prepare("stop web", VIEWER)
    pipeline.prepare("ps -a", VIEWER)
    with pytest.raises(NotAllowed, match="no role"):
        pipeline.prepare("ps", STRANGER)
    with pytest.raises(NotAllowed, match="do not allow audit"):
        pipeline.prepare("audit", OPERATOR)
    pipeline.prepare("audit --since 1h", Requester("U_ADMIN", "C_OPS"))
    assert pipeline.audit is not None
    decisions = [(e.user, e.decision) for e in pipeline.audit.query(limit=10)]
    assert ("U_VIEW", "denied") in decisions and ("U_NOBODY", "denied") in decisions


def test_usage_errors_are_audited_too(pipeline: Pipeline) -> None:
    with pytest.raises(UsageError):
        pipeline.prepare("run -it busybox", OPERATOR)
    assert pipeline.audit is not None
    assert pipeline.audit.query(limit=1)[0].decision == "invalid"


def test_exempt_role_is_said_not_silent(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yml"
    policy_file.write_text(
        "bindings:\n  - role: admin\n    users: [U_ADMIN]\nguards:\n  exempt_roles: [admin]\n"
    )
    policy = Policy(load_policy(policy_file))
    command, decision = policy.authorize(
        RunContainer(image=IMAGE, privileged=True), Requester("U_ADMIN", "C")
    )
    assert decision.waived and "guard privileged waived for admin" in decision.waived[0]
    assert isinstance(command, RunContainer) and command.privileged


def test_cpu_quota_within_the_cap_passes_without_a_default_cpus(pipeline: Pipeline) -> None:
    prepared = pipeline.prepare(f"run -d --cpu-quota 150000 {IMAGE}", OPERATOR)
    assert isinstance(prepared.command, RunContainer)
    # A default --cpus beside a quota would make the engine refuse the pair.
    assert prepared.command.cpus is None and prepared.command.cpu_quota == 150000
