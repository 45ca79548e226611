"""Policy applies to every path the same way: schedules, autoheal and registry logins,
against the rig's engine, registry and Redis. Each test is one finding of an attack on the
scheduled and stored paths, which typed commands already closed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.audit import Audit
from bot.confirm import ConfirmStore
from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from bot.render import Reply
from bot.runtime import JobsHost, Runtime
from config.policy import load_policy
from config.settings import Settings
from handlers.context import RegistryAuth
from handlers.engines import Engines
from handlers.results import SearchResult
from jobs import context, tasks
from jobs.schedules import ScheduleRecord, Schedules
from tests.rig import (
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    TEST_IMAGE,
    Engine,
    RedisServer,
    Registry,
    Rig,
)

ADMIN = Requester("U_ADMIN", "C1")
OPERATOR = Requester("U_OP", "C1")
OTHER_OPERATOR = Requester("U_OP2", "C1")
VIEWER = Requester("U_VIEW", "C1")
BINDINGS = (
    "bindings:\n"
    "  - {role: admin, users: [U_ADMIN]}\n"
    "  - {role: operator, users: [U_OP, U_OP2]}\n"
    "  - {role: viewer, users: [U_VIEW]}\n"
)
TWO_PERSON = "confirm:\n  two_person: [system:prune]\n"


def policy(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / f"policy-{time.monotonic_ns()}.yml"
    path.write_text(text)
    return Policy(load_policy(path))


@pytest.fixture(scope="module")
def module_redis(rig: Rig) -> Iterator[RedisServer]:
    """A Redis of this module's own, emptied by each test that uses it."""
    server = RedisServer(rig.root / f"redis-paths-{time.monotonic_ns()}")
    server.start()
    yield server
    server.stop()


@dataclass
class Posted:
    """What jobs said, channel by channel (the Slack side's notifier, recorded)."""

    messages: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, channel: str, reply: Reply, thread_ts: str | None) -> str | None:
        self.messages.append((channel, reply.text))
        return None

    def saying(self, words: str) -> list[str]:
        return [text for _, text in self.messages if words in text]


@dataclass
class Bot:
    runtime: Runtime
    posted: Posted

    @property
    def pipeline(self) -> Pipeline:
        return self.runtime.pipeline

    @property
    def schedules(self) -> Schedules:
        assert self.runtime.schedules is not None
        return self.runtime.schedules

    def schedule(self, text: str, who: Requester) -> str:
        made = self.pipeline.run(text, who)
        assert made.ok, made.text
        return made.text.split("(id ")[1].split(")")[0]

    def paused(self, schedule_id: str) -> bool:
        job = self.schedules.job(schedule_id)
        return job is not None and job.next_run_time is None


@pytest.fixture
def bot(clean_engine: Engine, module_redis: RedisServer, tmp_path: Path) -> Iterator[Bot]:
    """A Dockhand in this process, as `serve` wires it for jobs, with the scheduler paused:
    the tests call the job functions themselves, run by run."""
    store = redis.Redis.from_url(module_redis.url)
    store.flushdb()
    schedules = Schedules(store, participate=False)
    pipeline = Pipeline(
        Engines({"local": clean_engine.url}, timeout=60),
        policy(tmp_path, BINDINGS + TWO_PERSON),
        audit=Audit(store),
        confirmations=ConfirmStore(store),
        store=store,
        schedules=schedules,
    )
    settings = Settings(_env_file=None).model_copy(  # type: ignore[call-arg]
        update={"autoheal_backoff": 0.0, "autoheal_restarts": 5}
    )
    runtime = Runtime(settings, pipeline, store, schedules=schedules)
    posted = Posted()
    runtime.notifier = posted
    JobsHost(runtime).install()
    yield Bot(runtime, posted)
    context.install(None)
    runtime.close()


def exists(engine: Engine, name: str) -> bool:
    return engine.cli("inspect", name, check=False).returncode == 0


def started_at(engine: Engine, name: str) -> str:
    return engine.cli("inspect", "-f", "{{.State.StartedAt}}", name).stdout.strip()


def run_unhealthy(engine: Engine, name: str, *labels: str) -> None:
    """Unhealthy within about a second; SIGKILL on stop, so a restart takes no 10 s."""
    engine.cli(
        "run", "-d", "--name", name, "--stop-signal", "KILL", "--health-cmd", "false",
        "--health-interval", "1s", "--health-retries", "1",
        *[part for label in labels for part in ("-l", label)], TEST_IMAGE, "sleep", "300",
    )  # fmt: skip


# --- two-person verbs ------------------------------------------------------------------


def test_one_person_cannot_get_a_two_person_verb_run_through_a_schedule(
    bot: Bot, clean_engine: Engine
) -> None:
    clean_engine.cli("create", "--name", "leftover", TEST_IMAGE, "true")
    refused = bot.pipeline.run("schedule prune system --every 1h", OPERATOR)
    assert not refused.ok and "confirm.two_person" in refused.text, refused.text
    assert bot.schedules.records() == []
    # Nor an admin alone: the rule asks for two people, whatever their role.
    assert not bot.pipeline.run("schedule prune system --cron '0 3 * * *'", ADMIN).ok

    # One made before the rule held (straight into the store) cannot be run either.
    record = bot.schedules.add(
        ScheduleRecord(
            task="prune", command="system prune -f", user="U_OP", channel="C1", every_seconds=3600
        )
    )
    ran = bot.pipeline.run(f"schedule run {record.id}", OPERATOR)
    assert not ran.ok and "confirm.two_person" in ran.text
    tasks.prune(record.id)  # what the leader would do at its time
    tasks.prune(record.id)
    assert exists(clean_engine, "leftover")  # nothing was pruned
    assert len(bot.posted.saying(f"schedule {record.id}")) == 1  # said once, in its channel
    assert "confirm.two_person" in bot.posted.messages[0][1]
    assert bot.posted.messages[0][0] == "C1"
    assert bot.paused(record.id)


# --- owners' authority at every run ------------------------------------------------------


def test_a_removed_owners_prune_stops_and_says_so_once(
    bot: Bot, clean_engine: Engine, tmp_path: Path
) -> None:
    schedule_id = bot.schedule("schedule prune containers --every 1h", OPERATOR)
    clean_engine.cli("create", "--name", "leftover", TEST_IMAGE, "true")
    # U_OP leaves the operators: the same policy object the pipeline uses now says so.
    bot.runtime.pipeline.policy = policy(
        tmp_path, BINDINGS.replace("[U_OP, U_OP2]", "[U_OP2]") + TWO_PERSON
    )
    for _ in range(3):
        tasks.prune(schedule_id)
    assert exists(clean_engine, "leftover")
    said = bot.posted.saying(f"schedule {schedule_id}")
    assert len(said) == 1 and "stopped" in said[0] and "U_OP" in said[0], bot.posted.messages
    assert bot.paused(schedule_id)
    listed = bot.pipeline.run("schedule ls", ADMIN)
    assert "stopped" in listed.text or "stopped" in json.dumps(listed.blocks)
    assert bot.pipeline.audit is not None
    assert any(
        e.decision == "denied" and e.user == "U_OP" for e in bot.pipeline.audit.query(limit=20)
    )


def test_a_removed_owners_autoheal_restarts_nothing(
    bot: Bot, clean_engine: Engine, tmp_path: Path
) -> None:
    schedule_id = bot.schedule("schedule health --every 1h --autoheal", OPERATOR)
    run_unhealthy(clean_engine, "sick")
    first_start = started_at(clean_engine, "sick")
    bot.runtime.pipeline.policy = policy(
        tmp_path, BINDINGS.replace("[U_OP, U_OP2]", "[U_OP2]") + TWO_PERSON
    )
    for _ in range(4):
        tasks.health(schedule_id)
        time.sleep(1.0)
    assert started_at(clean_engine, "sick") == first_start  # not restarted
    said = bot.posted.saying(f"schedule {schedule_id}")
    assert len(said) == 1 and "stopped" in said[0], bot.posted.messages
    assert bot.paused(schedule_id)


# --- autoheal: protected containers, and the audit -----------------------------------------


def test_autoheal_spares_protected_containers_and_audits_each_restart(
    bot: Bot, clean_engine: Engine
) -> None:
    schedule_id = bot.schedule("schedule health --every 1h --autoheal", OPERATOR)
    run_unhealthy(clean_engine, "plain")
    run_unhealthy(clean_engine, "guarded", "dockhand.protected=yes")  # any value but false
    run_unhealthy(clean_engine, "unguarded", "dockhand.protected=FALSE")
    before = {name: started_at(clean_engine, name) for name in ("plain", "guarded", "unguarded")}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tasks.health(schedule_id)
        if all(started_at(clean_engine, n) != before[n] for n in ("plain", "unguarded")):
            break
        time.sleep(1.0)
    assert started_at(clean_engine, "plain") != before["plain"]
    assert started_at(clean_engine, "unguarded") != before["unguarded"]
    assert started_at(clean_engine, "guarded") == before["guarded"]  # reported, not restarted
    said = "\n".join(text for _, text in bot.posted.messages)
    assert "guarded is protected" in said and "restarted plain" in said
    assert bot.pipeline.audit is not None
    restarts = bot.pipeline.audit.query(verb="container:restart", limit=50)
    by_target = {e.text.split()[1]: e for e in restarts}
    assert by_target["plain"].user == "U_OP" and by_target["plain"].outcome == "ok"
    assert by_target["plain"].decision == "allowed" and "operator" in by_target["plain"].rule
    assert by_target["unguarded"].outcome == "ok"
    assert by_target["guarded"].decision == "denied"
    assert by_target["guarded"].rule == "protected dockhand.protected"


# --- schedules belong to their owner --------------------------------------------------------


def test_only_the_owner_or_an_admin_may_touch_a_schedule(bot: Bot) -> None:
    admins = bot.schedule("schedule prune containers --every 1h", ADMIN)
    mine = bot.schedule("schedule prune images --every 1h", OPERATOR)
    for action in ("run", "pause", "resume", "rm"):
        reply = bot.pipeline.run(f"schedule {action} {admins}", OPERATOR)
        assert not reply.ok and "only its owner or an admin" in reply.text, (action, reply.text)
        reply = bot.pipeline.run(f"schedule {action} {mine}", OTHER_OPERATOR)
        assert not reply.ok, (action, reply.text)
    assert bot.schedules.record(admins) is not None and not bot.paused(admins)
    assert bot.pipeline.run(f"schedule pause {mine}", OPERATOR).ok
    assert bot.pipeline.run(f"schedule resume {mine}", ADMIN).ok
    assert bot.pipeline.run(f"schedule run {mine}", ADMIN).ok
    assert bot.pipeline.run(f"schedule rm {admins}", ADMIN).ok


# --- registry logins are their owner's --------------------------------------------------------


class NotARegistry(BaseHTTPRequestHandler):
    """Some other service on a loopback port, answering JSON to anything."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        NotARegistry.paths.append(self.path)
        body = json.dumps({"repositories": ["internal-secret"], "tags": ["x"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def registry_bot(
    engine: Engine, module_redis: RedisServer, tmp_path: Path
) -> Iterator[tuple[Pipeline, redis.Redis]]:
    store = redis.Redis.from_url(module_redis.url)
    store.flushdb()
    made = Pipeline(
        Engines({"local": engine.url}, timeout=60),
        policy(tmp_path, BINDINGS),
        Credentials(store, SecretStr(Fernet.generate_key().decode())),
        audit=Audit(store),
    )
    made.host_credentials = False  # as `serve`: nobody borrows the bot host's docker login
    yield made, store
    made.engines.close()


def test_a_login_serves_only_the_person_who_entered_it(
    registry_bot: tuple[Pipeline, redis.Redis], registry: Registry, engine: Engine
) -> None:
    pipeline, store = registry_bot
    target = f"{registry.address}/paths/app:1.0"
    login = RegistryAuth(
        server=registry.address, username=REGISTRY_USER, password=SecretStr(REGISTRY_PASSWORD)
    )
    entered = pipeline.finish(pipeline.prepare(f"login {registry.address}", OPERATOR), login=login)
    assert entered.ok, entered.text
    try:
        assert pipeline.run(f"tag {TEST_IMAGE} {target}", OPERATOR).ok
        assert pipeline.run(f"push {target}", OPERATOR).ok
        found = pipeline.run(f"search {registry.address}/paths", OPERATOR)
        assert isinstance(found.result, SearchResult) and found.result.hits, found.text

        # Another person, even with the role, gets nothing of it.
        theirs = pipeline.run(f"search {registry.address}/paths", VIEWER)
        assert not theirs.ok and "wants credentials" in theirs.text, theirs.text
        pushed = pipeline.run(f"push {target}", OTHER_OPERATOR)
        assert not pushed.ok and "no basic auth credentials" in pushed.text, pushed.text

        # A login stored before logins were per person: whose it was is unknown, so nobody's.
        assert pipeline.credentials is not None
        legacy = Credentials(store, None)
        legacy._fernet = pipeline.credentials._fernet
        token = legacy._fernet.encrypt(
            json.dumps({"u": REGISTRY_USER, "p": REGISTRY_PASSWORD}).encode()
        )
        store.set(f"dockhand:credentials:{registry.address}", token)
        again = pipeline.run(f"search {registry.address}/paths", VIEWER)
        assert not again.ok and "wants credentials" in again.text
    finally:
        engine.cli("rmi", target, check=False)


def test_search_goes_only_to_allowed_registries(
    registry_bot: tuple[Pipeline, redis.Redis], registry: Registry, tmp_path: Path
) -> None:
    pipeline, _ = registry_bot
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotARegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    other = f"127.0.0.1:{server.server_address[1]}"
    NotARegistry.paths = []
    try:
        # Any registry allowed: still, only something that answers as a registry is read.
        probed = pipeline.run(f"search {other}/internal", VIEWER)
        assert not probed.ok and "is not a registry" in probed.text, probed.text
        assert NotARegistry.paths == ["/v2/"]

        pipeline.policy = policy(
            tmp_path, BINDINGS + "guards:\n  registries: [registry.example.com]\n"
        )
        NotARegistry.paths = []
        for term in (f"{other}/internal", f"{registry.address}/paths", "nginx"):
            refused = pipeline.run(f"search {term}", VIEWER)
            assert not refused.ok and "not allowed" in refused.text, (term, refused.text)
        assert NotARegistry.paths == []  # refused before anything was sent
    finally:
        server.shutdown()
        server.server_close()
