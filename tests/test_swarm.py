"""Swarm on a two-node swarm of the rig's own engines (tests/swarm_rig.py), with the docker
CLI as the oracle: the same flags into `docker service create/update` and into Dockhand give
the same ServiceSpec; listings, logs, scale, rollback, rm and node update print what the CLI
prints; the safety check refuses what it refuses for containers; service health findings
for a task that keeps failing and a drained node, and the alert they make in the channel."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import terminal
from bot.messages import finding_line
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import PolicyDocument
from handlers.engines import Engines
from handlers.health import Finding
from handlers.service_health import service_pass
from tests.fake_slack import FakeSlack
from tests.helpers import signed_headers, slash_body, start_bot
from tests.rig import TEST_IMAGE, RedisServer, Rig, wait_for
from tests.swarm_rig import Swarm, start_swarm

ME = Requester("cli", "cli", "cli")


@pytest.fixture(scope="module")
def swarm(rig: Rig) -> Iterator[Swarm]:
    made = start_swarm(rig)
    try:
        yield made
    finally:
        made.remove_services()
        made.leave()
        made.worker.stop()
        made.manager.stop()


@pytest.fixture(scope="module")
def pipeline(swarm: Swarm) -> Pipeline:
    # The guards as shipped, but for two capabilities the comparisons add.
    document = PolicyDocument.model_validate(
        {
            "bindings": [{"role": "admin", "users": [ME.user]}],
            "guards": {
                "allow": {
                    "capabilities": ["CHOWN", "NET_BIND_SERVICE"],
                    # the CLI's own flag sets name volumes; each node's are its own here
                    "service_volumes": True,
                }
            },
        }
    )
    made = Pipeline(Engines({"local": swarm.manager.url}, timeout=30), Policy(document))
    made.run_wait = 20
    return made


def do(pipeline: Pipeline, text: str) -> tuple[int, str, str]:
    """`dockhand do TEXT` in process: exit status, stdout, stderr as the terminal prints."""
    outcome = terminal.run(pipeline, text, ME, confirmed=True)
    return (
        terminal.exit_status(outcome),
        terminal.stdout_text(outcome.reply),
        terminal.stderr_text(outcome.reply),
    )


def spec(swarm: Swarm, name: str) -> dict[str, Any]:
    found = json.loads(swarm.manager.cli("service", "inspect", name).stdout)[0]["Spec"]
    found.pop("Name")
    env = found["TaskTemplate"]["ContainerSpec"].get("Env")
    if env:  # the CLI's update rebuilds Env from a Go map: its order is random
        found["TaskTemplate"]["ContainerSpec"]["Env"] = sorted(env)
    return dict(found)


def remove(swarm: Swarm, *names: str) -> None:
    swarm.manager.cli("service", "rm", *names, check=False)


def poll(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


# --- service create and update, field by field ---------------------------------------------

CREATE_FLAGS = [
    "-e A=1 -e B=two -l team=web -l tier --container-label c=1 -w /tmp -u 1000:1000 "
    "--hostname h1 --entrypoint 'sh -c'",
    "--limit-cpu 0.5 --limit-memory 64m --reserve-cpu 0.25 --reserve-memory 32m --limit-pids 100",
    "--restart-condition on-failure --restart-max-attempts 3 --restart-delay 2s "
    "--restart-window 1m",
    "--update-parallelism 2 --update-delay 5s --update-failure-action rollback "
    "--update-order start-first --update-monitor 10s --update-max-failure-ratio 0.5 "
    "--rollback-parallelism 0 --rollback-order stop-first --rollback-delay 1s",
    "--health-cmd true --health-interval 5s --health-retries 2 --health-timeout 2s "
    "--health-start-period 1s",
    "--no-healthcheck --stop-grace-period 3s --stop-signal SIGUSR1 -t --init --read-only",
    "--mount type=tmpfs,dst=/cache,tmpfs-size=1m --mount type=volume,src=svc-data,dst=/data,ro",
    "-p 80 -p 81/udp -p target=82,mode=host --constraint node.role==manager",
    "--endpoint-mode dnsrr --dns 10.0.0.1 --dns-search example.com --dns-option ndots:2 "
    "--host db:10.0.0.2 --group 100 --cap-drop NET_RAW --sysctl net.ipv4.ip_forward=0",
    "--log-driver json-file --log-opt max-size=1m --network svc-net",
    "--mode global",
]


@pytest.mark.parametrize("flags", CREATE_FLAGS, ids=range(len(CREATE_FLAGS)))
def test_service_create_gives_the_cli_spec(swarm: Swarm, pipeline: Pipeline, flags: str) -> None:
    if "svc-net" in flags:
        swarm.manager.cli("network", "create", "-d", "overlay", "svc-net", check=False)
    replicas = [] if "global" in flags else ["--replicas", "0"]
    args = [*shlex.split(flags), *replicas, TEST_IMAGE, "sleep", "600"]
    try:
        swarm.manager.cli("service", "create", "-d", "--name", "cli-made", *args)
        status, out, err = do(
            pipeline, shlex.join(["service", "create", "-d", "--name", "dh-made", *args])
        )
        assert status == 0, err
        assert re.fullmatch(r"[0-9a-z]{25}\n", out), out  # the service ID, as the CLI prints
        assert spec(swarm, "dh-made") == spec(swarm, "cli-made")
    finally:
        remove(swarm, "cli-made", "dh-made")


UPDATE_FLAGS = [
    "--image test/busybox:1.0 --no-resolve-image --env-add B=2 --env-rm A --label-add y=2 "
    "--label-rm x --args 'sleep 100'",
    "--limit-memory 32m --reserve-cpu 0.1 --constraint-add node.role==worker --publish-add 90 "
    "--restart-condition none --force",
    "--mount-add type=tmpfs,dst=/t --mount-rm /data --container-label-add k=v "
    "--update-parallelism 3 --rollback-failure-action continue --health-cmd true",
    "--cap-add NET_BIND_SERVICE --cap-drop CHOWN --sysctl-add net.ipv4.tcp_syncookies=1 "
    "--publish-rm 80 --replicas 2 --user nobody --workdir /srv --hostname h2 --init "
    "--publish-add published=9191,target=91,mode=host --publish-add 92/udp",
]


@pytest.mark.parametrize("flags", UPDATE_FLAGS, ids=range(len(UPDATE_FLAGS)))
def test_service_update_gives_the_cli_spec(swarm: Swarm, pipeline: Pipeline, flags: str) -> None:
    made = [
        "--replicas", "0", "-e", "A=1", "-l", "x=1", "-p", "80",
        "--mount", "type=volume,src=vol,dst=/data", "--cap-add", "CHOWN",
        TEST_IMAGE, "sleep", "600",
    ]  # fmt: skip
    try:
        for name in ("cli-up", "dh-up"):
            swarm.manager.cli("service", "create", "-d", "--name", name, *made)
        swarm.manager.cli("service", "update", "-d", *shlex.split(flags), "cli-up")
        status, out, err = do(pipeline, f"service update -d {flags} dh-up")
        assert (status, out) == (0, "dh-up\n"), err
        assert spec(swarm, "dh-up") == spec(swarm, "cli-up")
    finally:
        remove(swarm, "cli-up", "dh-up")


def test_scale_rollback_and_rm_print_what_the_cli_prints(swarm: Swarm, pipeline: Pipeline) -> None:
    try:
        for name in ("cli-s", "dh-s"):
            swarm.manager.cli("service", "create", "-d", "--name", name, "--replicas", "0",
                              "-e", "A=1", TEST_IMAGE, "sleep", "600")  # fmt: skip
        for verb in ("scale -d {}=3", "update -d --env-add Z=1 {}", "rollback -d {}"):
            theirs = swarm.manager.cli("service", *shlex.split(verb.format("cli-s")))
            status, out, err = do(pipeline, "service " + verb.format("dh-s"))
            assert status == 0, err
            assert out == theirs.stdout.replace("cli-s", "dh-s"), verb
            assert spec(swarm, "dh-s") == spec(swarm, "cli-s"), verb
        assert spec(swarm, "dh-s")["Mode"] == {"Replicated": {"Replicas": 3}}
        assert "Z=1" not in spec(swarm, "dh-s")["TaskTemplate"]["ContainerSpec"]["Env"]
        theirs = swarm.manager.cli("service", "rm", "cli-s", "nope", check=False)
        status, out, err = do(pipeline, "service rm dh-s nope")
        assert (status, out) == (theirs.returncode, "dh-s\n")
        assert "service nope not found" in err and "service nope not found" in theirs.stderr
        status, _, err = do(pipeline, "service scale web-nope=2")
        assert status == 1 and "web-nope" in err
    finally:
        remove(swarm, "cli-s", "dh-s")


# --- listings ------------------------------------------------------------------------------

_AGO = re.compile(r"(About an? \w+|Less than a second|\d+ \w+) ago")


def _steady(text: str) -> str:
    return re.sub(r" {2,}", "  ", _AGO.sub("T ago", text))


@pytest.fixture(scope="module")
def running(swarm: Swarm) -> Iterator[str]:
    swarm.manager.cli(
        "service", "create", "-d", "--name", "web", "--replicas", "2", "-l", "tier=front",
        TEST_IMAGE, "sh", "-c", "echo hello from $HOSTNAME; echo second; sleep 600",
    )  # fmt: skip

    def converged() -> bool:
        found = swarm.manager.client().api.services(filters={"name": ["web"]}, status=True)
        status = found[0].get("ServiceStatus") or {}
        return bool(status.get("RunningTasks") == 2)

    poll(converged, 60, "web running 2/2")
    yield "web"
    remove(swarm, "web")


LISTINGS = [
    "service ls",
    "service ls -q",
    "service ls --format '{{.Name}} {{.Mode}} {{.Replicas}}'",
    "service ls --filter name=web",
    "service ps web",
    "service ps -q web",
    "service ps --no-trunc web",
    "service ps --format '{{.Name}} {{.DesiredState}}' web",
    "service ps --filter desired-state=running web",
    "service inspect web",
    "service inspect -f '{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}' web",
    "node ls",
    "node ls -q",
    "node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'",
    "node inspect self",
    "service logs --no-task-ids web",
    "service logs web",
    "service logs --raw web",
]


@pytest.mark.parametrize("text", LISTINGS)
def test_listings_print_what_the_cli_prints(
    swarm: Swarm, pipeline: Pipeline, running: str, text: str
) -> None:
    if "logs" in text:
        poll(
            lambda: swarm.manager.cli("service", "logs", "web").stdout.count("second") == 2,
            30,
            "both tasks' logs",
        )
    theirs = swarm.manager.cli(*shlex.split(text))
    status, out, err = do(pipeline, text)
    assert status == 0, err
    if "inspect" in text and "-f" not in text:
        # The CLI decodes and re-encodes the engine's answer (its own field order): the
        # same JSON values.
        assert json.loads(out) == json.loads(theirs.stdout)
    elif text.startswith("node ls") or "logs" in text:
        # Two nodes with one host name, tasks' lines interleaved: the CLI's own order is
        # not stable between runs there; the lines are compared as a whole.
        mine_lines, their_lines = out.splitlines(), theirs.stdout.splitlines()
        if text == "node ls":
            assert mine_lines[0] == their_lines[0]
        assert sorted(mine_lines) == sorted(their_lines)
    else:
        assert _steady(out) == _steady(theirs.stdout)


def test_listings_cost_a_fixed_number_of_requests(
    swarm: Swarm, pipeline: Pipeline, running: str
) -> None:
    """`service ps` of two services with tasks on two nodes: the same requests as for one."""
    api = swarm.manager.client().api
    counted: list[str] = []
    client = pipeline.engines.client("local")
    original = client.api.send

    def counting(request: Any, **kwargs: Any) -> Any:
        counted.append(request.path_url)
        return original(request, **kwargs)

    swarm.manager.cli("service", "create", "-d", "--name", "other", "--replicas", "3",
                      TEST_IMAGE, "sleep", "600")  # fmt: skip
    try:
        client.api.send = counting  # type: ignore[method-assign]
        do(pipeline, "service ps web")
        one = len(counted)
        counted.clear()
        do(pipeline, "service ps web other")
        assert len(counted) == one <= 5, counted
        counted.clear()
        do(pipeline, "service ls")
        assert len(counted) == 1, counted
    finally:
        client.api.send = original  # type: ignore[method-assign]
        remove(swarm, "other")
    assert api.services(filters={"name": ["web"]})


# --- nodes ---------------------------------------------------------------------------------


def test_node_update_availability_and_labels_as_the_cli(swarm: Swarm, pipeline: Pipeline) -> None:
    worker = swarm.node_ids()["worker"]

    def node_spec() -> dict[str, Any]:
        return dict(swarm.manager.client().api.inspect_node(worker)["Spec"])

    try:
        status, out, err = do(
            pipeline, f"node update --availability drain --label-add zone=a {worker}"
        )
        assert (status, out) == (0, f"{worker}\n"), err
        mine = node_spec()
        swarm.manager.cli("node", "update", "--availability", "active", worker)
        swarm.manager.cli(
            "node", "update", "--availability", "drain", "--label-add", "zone=a", worker
        )
        assert node_spec() == mine == {**mine, "Availability": "drain", "Labels": {"zone": "a"}}
        status, out, err = do(
            pipeline, f"node update --label-rm zone --availability active {worker}"
        )
        assert status == 0, err
        assert node_spec()["Availability"] == "active" and node_spec()["Labels"] == {}
    finally:
        swarm.manager.cli("node", "update", "--availability", "active", worker, check=False)


# --- the safety check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        ("--mount type=bind,src=/,dst=/host", "--mount `/`"),
        ("--cap-add SYS_ADMIN", "CAP_SYS_ADMIN is not allowed"),
        ("--network host", "host shares the host's network"),
    ],
)
def test_refused_services_are_never_created(
    swarm: Swarm, pipeline: Pipeline, flags: str, said: str
) -> None:
    status, out, err = do(pipeline, f"service create -d --name bad {flags} {TEST_IMAGE}")
    assert status != 0 and out == "" and "refused by policy" in err and said in err, err
    assert swarm.manager.client().api.services(filters={"name": ["bad"]}) == []


def test_an_update_into_a_refused_spec_is_refused(swarm: Swarm, pipeline: Pipeline) -> None:
    swarm.manager.cli("service", "create", "-d", "--name", "plain", "--replicas", "0", TEST_IMAGE)
    try:
        before = spec(swarm, "plain")
        status, _, err = do(
            pipeline, "service update -d --mount-add type=bind,src=/etc,dst=/e plain"
        )
        assert status != 0 and "refused by policy" in err and "/etc" in err
        status, _, err = do(pipeline, "service update -d --cap-add SYS_ADMIN plain")
        assert status != 0 and "CAP_SYS_ADMIN" in err
        assert spec(swarm, "plain") == before
        # A service made elsewhere with what Dockhand refuses: scaling it is refused too.
        swarm.manager.cli("service", "update", "-d", "--cap-add", "SYS_ADMIN", "plain")
        status, _, err = do(pipeline, "service scale -d plain=2")
        assert status != 0 and "CAP_SYS_ADMIN" in err
    finally:
        remove(swarm, "plain")


# --- health --------------------------------------------------------------------------------


def test_failing_tasks_and_a_drained_node_are_found_once(swarm: Swarm, pipeline: Pipeline) -> None:
    client = swarm.manager.client()
    worker = swarm.node_ids()["worker"]
    swarm.manager.cli("service", "create", "-d", "--name", "crash", "--restart-delay", "100ms",
                      TEST_IMAGE, "sh", "-c", "exit 3")  # fmt: skip
    state: dict[str, Any] = {}
    found: list[Finding] = []

    def a_pass() -> list[Finding]:
        nonlocal state
        news, state = service_pass(client, state, loop_seconds=0)
        found.extend(news)
        return news

    try:
        # The passes start once a task has failed: a pass that came while the first task was
        # still starting (a slow machine) would rightly say "degraded", then "recovered" while
        # it ran for a moment, and the crash loop's one spell would be its second.
        poll(
            lambda: bool(
                swarm.manager.cli(
                    "service", "ps", "-q", "--filter", "desired-state=shutdown", "crash"
                ).stdout.strip()
            ),
            40,
            "a failed task",
        )
        poll(lambda: any(f.kind == "task-failing" for f in a_pass()), 40, "task-failing")
        failing = next(f for f in found if f.kind == "task-failing")
        assert failing.name == "crash" and failing.exit_code == 3
        assert failing.restart_count is not None and failing.restart_count >= 2
        assert "keeps failing" in finding_line(failing) and "exit code 3" in finding_line(failing)
        # Other tests' services (the module's `web`) may dip while nodes change: only
        # what this test made is judged here.
        degraded = [f for f in found if f.kind == "service-degraded" and f.name == "crash"]
        assert len(degraded) == 1 and degraded[0].desired == 1
        a_pass()
        assert [(f.kind, f.name) for f in found].count(("task-failing", "crash")) == 1
        status, _, err = do(pipeline, f"node update --availability drain {worker}")
        assert status == 0, err
        drained = a_pass()
        assert [(f.kind, f.container) for f in drained if f.kind.startswith("node")] == [
            ("node-drained", worker)
        ]
        assert "is drained" in finding_line(drained[-1])
        assert not [f for f in a_pass() if f.kind.startswith("node")]
        do(pipeline, f"node update --availability active {worker}")
        assert [f.kind for f in a_pass() if f.kind.startswith("node")] == ["node-ready"]
    finally:
        remove(swarm, "crash")
        swarm.manager.cli("node", "update", "--availability", "active", worker, check=False)


def test_service_findings_reach_the_channel(
    swarm: Swarm, rig: Rig, fake_slack: FakeSlack, log_dir: Path
) -> None:
    """`dockhand serve` on the manager: the scheduled health check posts a task that keeps
    failing and a drained node in the schedule's channel; the event watcher posts the
    drain in the alert channel as it happens."""
    redis_server = RedisServer(rig.root / f"redis-swarm-{time.monotonic_ns()}")
    redis_server.start()
    worker = swarm.node_ids()["worker"]
    swarm.manager.cli("service", "create", "-d", "--name", "crash2", "--restart-delay", "100ms",
                      TEST_IMAGE, "sh", "-c", "exit 4")  # fmt: skip
    bot = start_bot(
        log_dir,
        DOCKER_HOST=swarm.manager.url,
        REDIS_URL=redis_server.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_RESTART_LOOP_SECONDS="1",
        DOCKHAND_SHUTDOWN_GRACE="1",
        DOCKHAND_ALERT_CHANNEL="C_ALERTS",
    )
    try:
        body = slash_body("schedule health --every 1s", fake_slack.response_url("add"))
        assert bot.post(body, signed_headers(body)).status_code == 200

        def said(words: str) -> Callable[[Any], bool]:
            return lambda c: c.method == "chat.postMessage" and words in json.dumps(c.body)

        failing = fake_slack.wait_for(said("service crash2 keeps failing"), 40)
        assert failing.body["channel"] == "C1" and "exit code 4" in json.dumps(failing.body)
        swarm.manager.cli("node", "update", "--availability", "drain", worker)
        # At once from the manager's event stream, in the alert channel; and from the
        # next health pass, in the schedule's.
        alert = fake_slack.wait_for(
            lambda c: said("is drained")(c) and c.body.get("channel") == "C_ALERTS", 20
        )
        assert "node " in json.dumps(alert.body)
        fake_slack.wait_for(lambda c: said("is drained")(c) and c.body.get("channel") == "C1", 20)
    finally:
        bot.stop()
        redis_server.stop()
        remove(swarm, "crash2")
        swarm.manager.cli("node", "update", "--availability", "active", worker, check=False)
    wait_for(
        lambda: not swarm.manager.client().api.services(filters={"name": ["crash2"]}), 10, "rm"
    )


# --- policy: confirmation and protection ---------------------------------------------------


def test_rm_and_scale_to_zero_are_confirmed_and_protected_services_left_to_admins(
    swarm: Swarm,
) -> None:
    import fakeredis

    from bot.confirm import ConfirmStore

    document = PolicyDocument.model_validate(
        {
            "bindings": [
                {"role": "operator", "users": ["UOP"]},
                {"role": "admin", "users": ["UADMIN"]},
            ]
        }
    )
    ops = Pipeline(
        Engines({"local": swarm.manager.url}, timeout=30),
        Policy(document),
        confirmations=ConfirmStore(fakeredis.FakeRedis()),
    )
    operator, admin = Requester("UOP", "C1"), Requester("UADMIN", "C1")
    for name, labels in (("keep", []), ("guarded", ["-l", "dockhand.protected=true"])):
        swarm.manager.cli("service", "create", "-d", "--name", name, "--replicas", "0",
                          *labels, TEST_IMAGE, "sleep", "600")  # fmt: skip
    try:
        asked = ops.run("service rm keep", operator)
        assert asked.pending and "keep" in json.dumps(asked.blocks), asked.text
        assert ops.run("service scale -d keep=0", operator).pending
        scaled = ops.run("service scale -d keep=2", operator)  # no removal: no question
        assert scaled.ok and not scaled.pending, scaled.text
        assert spec(swarm, "keep")["Mode"] == {"Replicated": {"Replicas": 2}}
        refused = ops.run("service update -d --env-add A=1 guarded", operator)
        assert not refused.ok and "guarded is protected" in refused.text
        assert ops.run("service update -d --env-add A=1 guarded", admin).ok
        assert not ops.run("node update --availability drain self", operator).ok
    finally:
        remove(swarm, "keep", "guarded")


@pytest.mark.parametrize(
    "text",
    [
        "service inspect nope",
        "service update -d --replicas 2 nope",
        "service rollback -d nope",
        "service logs nope",
        "service ps nope",
        "node inspect nope",
        "node update --availability drain nope",
    ],
)
def test_unknown_objects_are_said_in_the_cli_words(
    swarm: Swarm, pipeline: Pipeline, text: str
) -> None:
    theirs = swarm.manager.cli(*shlex.split(text), check=False)
    status, out, err = do(pipeline, text)
    assert status == theirs.returncode == 1 and out == ""
    said = theirs.stderr.strip().removeprefix("Error response from daemon: ")
    assert said in err, (err, theirs.stderr)


def test_a_paused_update_is_found_once(swarm: Swarm) -> None:
    """An update whose tasks fail: the swarm pauses it (the default failure action) and
    waits for a person. (A paused rollback is the same finding with its own kind; the
    swarm reaches it only by a race here, so tests/unit/test_service_health.py covers it.)"""
    client = swarm.manager.client()
    swarm.manager.cli(
        "service", "create", "-d", "--name", "flip", "--update-monitor", "20s",
        TEST_IMAGE, "sleep", "600",
    )  # fmt: skip
    try:
        state: dict[str, Any] = {}
        _, state = service_pass(client, state, loop_seconds=0)
        swarm.manager.cli("service", "update", "-d", "--args", "sh -c 'sleep 1; exit 2'", "flip")
        found: list[Finding] = []

        def paused() -> bool:
            nonlocal state
            news, state = service_pass(client, state, loop_seconds=0)
            found.extend(news)
            return any(f.kind == "update-paused" for f in news)

        try:
            poll(paused, 30, "update-paused")
        except AssertionError:
            status = client.api.inspect_service("flip").get("UpdateStatus")
            raise AssertionError((status, [f.kind for f in found])) from None
        finding = next(f for f in found if f.kind == "update-paused")
        assert finding.name == "flip" and "paused" in (finding.reason or "")
        assert "the update of service flip is paused" in finding_line(finding)
        news, state = service_pass(client, state, loop_seconds=0)
        assert not [f for f in news if f.kind == "update-paused"]
    finally:
        remove(swarm, "flip")


def test_without_detach_create_waits_for_convergence(swarm: Swarm, pipeline: Pipeline) -> None:
    short = Pipeline(pipeline.engines, pipeline.policy, run_wait=2)
    try:
        started = time.monotonic()
        status, out, err = do(short, f"service create --name steady {TEST_IMAGE} sleep 600")
        assert status == 0 and err == "", err
        status_now = swarm.manager.client().api.services(filters={"name": ["steady"]}, status=True)
        assert status_now[0]["ServiceStatus"]["RunningTasks"] == 1  # converged when it returned
        status, out, err = do(short, f"service create --name never {TEST_IMAGE} sh -c 'exit 1'")
        assert status == 0 and re.fullmatch(r"[0-9a-z]{25}\n", out)
        assert "never: 0/1 tasks running after 2 s; still converging" in err
        assert time.monotonic() - started < 15
    finally:
        remove(swarm, "steady", "never")


def test_hosts_by_name_and_an_engine_that_is_no_manager(swarm: Swarm) -> None:
    """`-H NAME` picks the manager among the configured hosts; a worker (or any engine
    outside a swarm) answers the verbs with the engine's reason, and a health pass there
    finds nothing and costs one request."""
    fleet = Pipeline(
        Engines(
            {"local": "unix:///nonexistent/dockhand.sock", "prod": swarm.manager.url,
             "edge": swarm.worker.url},
            timeout=10,
        ),
        Policy(None),
    )  # fmt: skip
    status, out, err = do(fleet, "-H prod node ls -q")
    assert status == 0 and sorted(out.split()) == sorted(swarm.node_ids().values()), err
    status, out, err = do(fleet, "-H edge service ls")
    assert status == 1 and out == "" and "not a swarm manager" in err, err
    assert service_pass(swarm.worker.client(), {}) == ([], {})
