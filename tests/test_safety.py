"""Safety against the rig's engine: protected containers, create-then-start, confirmations
(who, once, in time) and previews that list exactly what the prune then removes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
import redis

from bot.audit import Audit
from bot.confirm import KEY, ConfirmStore
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import load_policy
from handlers.results import PruneResult
from tests.rig import TEST_IMAGE, Engine, RedisServer

ADMIN = Requester("U_ADMIN", "C1")
OPERATOR = Requester("U_OP", "C1")
OTHER_OPERATOR = Requester("U_OP2", "C1")
VIEWER = Requester("U_VIEW", "C1")


def make_pipeline(
    engine: Engine, tmp_path: Path, extra: str = "", store: redis.Redis | None = None
) -> Pipeline:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(
        "bindings:\n"
        "  - {role: admin, users: [U_ADMIN]}\n"
        "  - {role: operator, users: [U_OP, U_OP2]}\n"
        "  - {role: viewer, users: [U_VIEW]}\n" + extra
    )
    shared = store or fakeredis.FakeRedis()
    from handlers.engines import Engines

    return Pipeline(
        Engines({"local": engine.url}, timeout=60),
        Policy(load_policy(policy_file)),
        audit=Audit(shared),
        confirmations=ConfirmStore(shared),
    )


@pytest.fixture
def pipeline(clean_engine: Engine, tmp_path: Path) -> Iterator[Pipeline]:
    made = make_pipeline(clean_engine, tmp_path, "confirm:\n  two_person: [system:prune]\n")
    yield made
    made.engines.close()


def running(engine: Engine, name: str) -> bool:
    return bool(engine.client().api.inspect_container(name)["State"]["Running"])


def test_protected_container_only_admins(pipeline: Pipeline, clean_engine: Engine) -> None:
    clean_engine.cli(
        "run", "-d", "--name", "db", "-l", "dockhand.protected=true", TEST_IMAGE, "sleep", "300"
    )
    denied = pipeline.run("stop -t 1 db", OPERATOR, confirmed=True)
    assert not denied.ok and "db is protected" in denied.text
    assert not pipeline.run("update --memory 64m db", OPERATOR).ok
    assert not pipeline.run("rm -f db", OPERATOR, confirmed=True).ok
    assert running(clean_engine, "db")
    assert pipeline.run("stop -t 1 db", ADMIN, confirmed=True).ok
    assert not running(clean_engine, "db")
    assert pipeline.audit is not None
    assert any(e.rule == "protected dockhand.protected" for e in pipeline.audit.query(limit=20))


def test_create_elsewhere_then_start_is_refused(pipeline: Pipeline, clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "sneaky", "--privileged", TEST_IMAGE, "sleep", "300")
    reply = pipeline.run("start sneaky", OPERATOR)
    assert not reply.ok and "sneaky: --privileged (HostConfig.Privileged)" in reply.text
    assert not running(clean_engine, "sneaky")


def test_viewer_cannot_stop_and_operator_cannot_prune_when_policy_says(
    clean_engine: Engine, tmp_path: Path
) -> None:
    strict = make_pipeline(
        clean_engine, tmp_path, 'roles:\n  operator: ["container:*", "image:ls", "!*:prune"]\n'
    )
    clean_engine.cli("run", "-d", "--name", "svc", TEST_IMAGE, "sleep", "300")
    assert "may not run `container:stop`" in strict.run("stop svc", VIEWER).text
    assert "may not run `image:prune`" in strict.run("image prune -f", OPERATOR).text
    assert "may not run `container:ls`" in strict.run("ps", Requester("U_NONE", "C9")).text
    assert strict.audit is not None
    denied = {
        (e.user, e.verb or e.text) for e in strict.audit.query(limit=10) if e.decision == "denied"
    }
    assert {u for u, _ in denied} == {"U_VIEW", "U_OP", "U_NONE"}


def test_confirmation_by_someone_else_twice_or_late_does_nothing(
    pipeline: Pipeline, clean_engine: Engine
) -> None:
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    asked = pipeline.run("rm -f web", OPERATOR)
    assert asked.pending and not asked.ok
    assert "would remove 1 container" in asked.text and "web (running)" in asked.text
    assert running(clean_engine, "web")

    by_other, _ = pipeline.confirm(asked.pending, OTHER_OPERATOR)
    assert "Only <@U_OP> can confirm" in by_other.text and running(clean_engine, "web")

    done, _ = pipeline.confirm(asked.pending, OPERATOR)
    assert done.ok, done.text
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""

    again, _ = pipeline.confirm(asked.pending, OPERATOR)
    assert "expired or was already used" in again.text

    clean_engine.cli("run", "-d", "--name", "web2", TEST_IMAGE, "sleep", "300")
    late = pipeline.run("stop web2", OPERATOR)
    assert late.pending
    assert pipeline.confirmations is not None
    key = KEY.format(late.pending)
    data = json.loads(pipeline.confirmations.store.get(key))
    data["expires"] = time.time() - 1
    pipeline.confirmations.store.set(key, json.dumps(data))
    expired, _ = pipeline.confirm(late.pending, OPERATOR)
    assert "expired" in expired.text and running(clean_engine, "web2")


def test_two_person_rule(pipeline: Pipeline, clean_engine: Engine) -> None:
    clean_engine.cli("create", "--name", "old", TEST_IMAGE)
    asked = pipeline.run("system prune -f", OPERATOR)
    assert asked.pending and not asked.ephemeral  # posted where a second person sees it
    own, _ = pipeline.confirm(asked.pending, OPERATOR)
    assert "second person" in own.text
    viewer, _ = pipeline.confirm(asked.pending, VIEWER)
    assert "may not approve" in viewer.text
    approved, _ = pipeline.confirm(asked.pending, OTHER_OPERATOR)
    assert approved.ok, approved.text
    assert clean_engine.cli("ps", "-aq").stdout.strip() == ""


def test_two_person_verb_outside_the_confirm_list_still_needs_two(
    clean_engine: Engine, tmp_path: Path
) -> None:
    strict = make_pipeline(
        clean_engine,
        tmp_path,
        "confirm:\n  verbs: []\n  two_person: [container:restart, container:rm]\n"
        "  force_skips: [container:rm]\n",
    )
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    started = clean_engine.cli("inspect", "-f", "{{.State.StartedAt}}", "web").stdout
    asked = strict.run("restart -t 0 web", OPERATOR)
    assert asked.pending and not asked.ok, asked.text
    forced = strict.run("rm -f web", OPERATOR)  # force_skips does not skip a second person
    assert forced.pending and running(clean_engine, "web")
    assert clean_engine.cli("inspect", "-f", "{{.State.StartedAt}}", "web").stdout == started
    approved, _ = strict.confirm(asked.pending, OTHER_OPERATOR)
    assert approved.ok, approved.text
    assert clean_engine.cli("inspect", "-f", "{{.State.StartedAt}}", "web").stdout != started
    strict.engines.close()


@pytest.mark.parametrize(
    "text",
    [
        "image prune -a -f",
        "image prune -f",
        "container prune -f",
        "system prune -a -f",
        "system prune -f --volumes",
        "volume prune -a -f",
        "network prune -f",
    ],
)
def test_prune_preview_lists_exactly_what_is_removed(
    clean_engine: Engine, tmp_path: Path, text: str
) -> None:
    pipeline = make_pipeline(clean_engine, tmp_path)
    clean_engine.import_busybox("test/unused:1.0", extra=b"u" * 20_000)
    clean_engine.import_busybox("test/dangling:1.0", extra=b"a" * 30_000)
    clean_engine.import_busybox("test/dangling:1.0", extra=b"b" * 40_000)
    clean_engine.cli("create", "--name", "stopped", "test/unused:1.0")
    clean_engine.cli("run", "-d", "--name", "live", TEST_IMAGE, "sleep", "300")
    clean_engine.cli("volume", "create", "loose")
    clean_engine.cli("network", "create", "idle-net")
    images_before = {
        i.removeprefix("sha256:")[:12]
        for i in clean_engine.cli("images", "-aq", "--no-trunc").stdout.split()
    }
    try:
        asked = pipeline.run(text, ADMIN)
        assert asked.pending, asked.text
        listed: dict[str, set[str]] = {}
        for line in asked.text.splitlines()[1:]:
            words = line.split()
            if len(words) >= 2 and words[0] in {"container", "image", "volume", "network"}:
                listed.setdefault(words[0], set()).add(words[1])
        done, _ = pipeline.confirm(asked.pending, ADMIN)
        assert isinstance(done.result, PruneResult), done.text
        removed: dict[str, set[str]] = {}
        for entry in done.result.deleted:
            kind, _, ident = entry.partition(" ")
            short = ident.removeprefix("sha256:")[:12]
            if kind == "deleted":
                if short in images_before:
                    removed.setdefault("image", set()).add(short)
            elif kind in {"container", "volume", "network"}:
                removed.setdefault(kind, set()).add(short)
        assert listed == removed
        assert listed, "the setup must leave something to prune"
    finally:
        pipeline.engines.close()
        clean_engine.remove_all_containers()
        clean_engine.cli("rmi", "-f", "test/unused:1.0", "test/dangling:1.0", check=False)
        clean_engine.cli("volume", "rm", "loose", check=False)
        clean_engine.cli("network", "rm", "idle-net", check=False)


def test_audit_survives_a_restart_and_hides_secrets(redis_server: RedisServer) -> None:
    first = Audit(redis.Redis.from_url(redis_server.url))
    first.record(
        user="U1",
        channel="C1",
        host="local",
        verb="registry:login",
        text="login -u ops -p hunter2 reg.example.com",
        decision="invalid",
        rule="usage",
        outcome="refused",
    )
    first.record(
        user="U1",
        channel="C1",
        host="local",
        verb="container:run",
        text="run -e DB_PASSWORD=hunter2 -e MODE=prod app",
        decision="allowed",
        rule="role admin: *",
        outcome="ok",
        duration_ms=12,
    )
    first.store.close()
    again = Audit(redis.Redis.from_url(redis_server.url))  # a new process would do the same
    entries = again.query(user="U1", limit=10)
    texts = [e.text for e in entries]
    assert "run -e DB_PASSWORD=*** -e MODE=prod app" in texts
    assert "login -u ops -p *** reg.example.com" in texts
    assert all("hunter2" not in t for t in texts)


@pytest.mark.parametrize("text", ["container prune -f", "system prune -f"])
def test_a_prune_by_an_operator_spares_protected_containers(
    pipeline: Pipeline, clean_engine: Engine, text: str
) -> None:
    clean_engine.cli("create", "--name", "db", "-l", "dockhand.protected=yes", TEST_IMAGE)
    clean_engine.cli("create", "--name", "scratch", TEST_IMAGE)
    asked = pipeline.run(text, OPERATOR)
    listed = [line.split()[-1] for line in asked.text.splitlines() if line.startswith("container")]
    assert asked.pending and listed == ["scratch"], asked.text
    # system prune is a two-person verb in this fixture; container prune the requester's own.
    approver = OTHER_OPERATOR if text.startswith("system") else OPERATOR
    done, _ = pipeline.confirm(asked.pending, approver)
    assert done.ok, done.text
    left = clean_engine.cli("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert left == ["db"]
    own = pipeline.run("container prune -f --filter label!=team=web", OPERATOR)
    assert not own.ok and "label!=" in own.text
