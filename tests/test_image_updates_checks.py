"""Image updates through the pipeline on the rig's registry: each image of a check answers for
itself (a stale one, a pinned one, one the allow-list refuses, one whose registry is down), the
recreated container meets the same safety check as `run`, protected containers are admins',
and a stopped container is updated without being started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot import terminal
from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.policy import PolicyDocument
from handlers.engines import Engines
from handlers.image_update import ImageUpdate
from handlers.updates import UpdateCheck
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, TEST_IMAGE, Engine, Registry, Rig
from tests.test_image_updates import push

ADMIN = Requester("UADMIN", "C1", "slack")
OPS = Requester("UOPS", "C1", "slack")


@pytest.fixture
def others(rig: Rig, tmp_path: Path) -> Iterator[tuple[Registry, Registry]]:
    """Two more registries: one the allow-list leaves out, one that will be gone."""
    made = (Registry(tmp_path / "unlisted"), Registry(tmp_path / "gone"))
    for each in made:
        each.start()
    yield made
    for each in made:
        each.stop()


@pytest.fixture
def pipeline(
    clean_engine: Engine, registry: Registry, others: tuple[Registry, Registry]
) -> Iterator[Pipeline]:
    document = PolicyDocument.model_validate(
        {
            "bindings": [
                {"role": "admin", "users": [ADMIN.user]},
                {"role": "operator", "users": [OPS.user]},
            ],
            "guards": {"registries": [registry.address, others[1].address]},
        }
    )
    credentials = Credentials(
        fakeredis.FakeRedis(),
        SecretStr(Fernet.generate_key().decode()),
        {registry.address: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}},
    )
    made = Pipeline(Engines({"local": clean_engine.url}, timeout=30), Policy(document), credentials)
    made.host_credentials = False  # as `serve`: only the logins Dockhand keeps
    for address in (registry.address, others[0].address, others[1].address):
        clean_engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, address)
    yield made
    made.engines.close()


def test_each_image_answers_for_itself(
    clean_engine: Engine,
    registry: Registry,
    others: tuple[Registry, Registry],
    pipeline: Pipeline,
) -> None:
    engine = clean_engine
    unlisted, gone = others
    reference = f"{registry.address}/dh-checks/web:1"
    first = push(engine, reference, b"c1")
    engine.cli("run", "-d", "--name", "stale", reference)
    engine.cli("run", "-d", "--name", "pinned", f"{registry.address}/dh-checks/web@{first}")
    # Imported here, never pulled: no registry is asked (its name says Docker Hub).
    engine.cli("run", "-d", "--name", "hub", TEST_IMAGE, "sleep", "3600")
    push(engine, f"{unlisted.address}/dh/unlisted:1", b"u1")  # pushed: it has a digest
    engine.cli("run", "-d", "--name", "unlisted", f"{unlisted.address}/dh/unlisted:1")
    push(engine, f"{gone.address}/dh/dead:1", b"d1")
    engine.cli("run", "-d", "--name", "dead", f"{gone.address}/dh/dead:1")
    gone.stop()
    engine.cli("run", "-d", "--name", "skipped", "-l", "dockhand.update=off", reference)
    second = push(engine, reference, b"c2")

    reply = pipeline.run("updates", OPS)
    check = reply.result
    assert isinstance(check, UpdateCheck), reply.text
    states = {s.name: (s.state, s.latest) for s in check.images}
    assert states["stale"] == ("stale", second)
    assert states["pinned"][0] == "pinned"
    assert states["hub"][0] == "local"
    assert states["unlisted"][0] == "refused"
    assert states["dead"][0] == "error"
    assert "skipped" not in states
    assert check.images[0].name == "stale"  # what needs doing first

    # The terminal prints the table alone, as a listing.
    outcome = terminal.run(pipeline, "updates", OPS)
    printed = terminal.stdout_text(outcome.reply)
    assert printed.splitlines()[0].split()[:3] == ["CONTAINER", "IMAGE", "STATUS"]
    assert terminal.exit_status(outcome) == 0


def test_the_recreated_container_meets_the_safety_check(
    clean_engine: Engine, registry: Registry, pipeline: Pipeline
) -> None:
    engine = clean_engine
    reference = f"{registry.address}/dh-checks/capped:1"
    push(engine, reference, b"s1")
    engine.cli("run", "-d", "--name", "capped", "--cap-add", "SYS_ADMIN", reference)
    before = engine.client().api.inspect_container("capped")
    push(engine, reference, b"s2")
    reply = pipeline.run("update-image capped", ADMIN, confirmed=True)
    assert not reply.ok and "cap-add" in reply.text, reply.text
    after = engine.client().api.inspect_container("capped")
    assert after["Id"] == before["Id"] and after["State"]["Running"]
    assert [c["Names"] for c in engine.client().api.containers(all=True)] == [["/capped"]]


def test_protected_containers_need_an_admin(
    clean_engine: Engine, registry: Registry, pipeline: Pipeline
) -> None:
    engine = clean_engine
    reference = f"{registry.address}/dh-checks/guarded:1"
    push(engine, reference, b"p1")
    engine.cli(
        "run",
        "-d",
        "--name",
        "guarded",
        "--stop-timeout",
        "1",
        "-l",
        "dockhand.protected=true",
        reference,
    )
    push(engine, reference, b"p2")
    refused = pipeline.run("update-image guarded", OPS, confirmed=True)
    assert not refused.ok and "protected" in refused.text
    done = pipeline.run("update-image --grace 1 guarded", ADMIN, confirmed=True)
    assert isinstance(done.result, ImageUpdate) and done.result.outcome == "updated", done.text


def test_a_stopped_container_is_updated_and_stays_stopped(
    clean_engine: Engine, registry: Registry, pipeline: Pipeline
) -> None:
    engine = clean_engine
    api = engine.client().api
    reference = f"{registry.address}/dh-checks/idle:1"
    push(engine, reference, b"i1")
    engine.cli("create", "--name", "idle", "-e", "KEEP=1", reference)
    old = api.inspect_container("idle")["Id"]
    push(engine, reference, b"i2")
    reply = pipeline.run("update-image idle", OPS, confirmed=True)
    update = reply.result
    assert isinstance(update, ImageUpdate) and update.outcome == "updated", reply.text
    found = api.inspect_container("idle")
    assert found["Id"] != old and found["State"]["Status"] == "created"
    assert found["Image"] == api.inspect_image(reference)["Id"]
    assert "KEEP=1" in found["Config"]["Env"]
    again = pipeline.run("update-image idle", OPS, confirmed=True)
    assert isinstance(again.result, ImageUpdate) and again.result.outcome == "current"


def test_networks_aliases_and_a_fixed_address_survive_an_update(
    clean_engine: Engine, registry: Registry, pipeline: Pipeline
) -> None:
    engine = clean_engine
    api = engine.client().api
    reference = f"{registry.address}/dh-checks/netted:1"
    push(engine, reference, b"n1")
    engine.cli("network", "create", "--subnet", "10.98.0.0/24", "dh-upd-front")
    engine.cli("network", "create", "dh-upd-back")
    try:
        engine.cli(
            "run",
            "-d",
            "--name",
            "netted",
            "--stop-timeout",
            "1",
            "--network",
            "dh-upd-front",
            "--ip",
            "10.98.0.9",
            "--network-alias",
            "api",
            reference,
        )
        engine.cli("network", "connect", "--alias", "db", "dh-upd-back", "netted")
        push(engine, reference, b"n2")
        reply = pipeline.run("update-image --grace 1 netted", OPS, confirmed=True)
        assert isinstance(reply.result, ImageUpdate) and reply.result.outcome == "updated", (
            reply.text
        )
        found = api.inspect_container("netted")
        assert found["State"]["Running"]
        networks = found["NetworkSettings"]["Networks"]
        assert networks["dh-upd-front"]["IPAddress"] == "10.98.0.9"
        assert "api" in networks["dh-upd-front"]["Aliases"]
        assert "db" in networks["dh-upd-back"]["Aliases"]
    finally:
        engine.remove_all_containers()
        engine.cli("network", "rm", "dh-upd-front", "dh-upd-back")


def test_a_new_image_that_will_not_start_is_rolled_back(
    clean_engine: Engine, registry: Registry, pipeline: Pipeline
) -> None:
    engine = clean_engine
    api = engine.client().api
    reference = f"{registry.address}/dh-checks/broken:1"
    push(engine, reference, b"b1")
    engine.cli("run", "-d", "--name", "broken", "--stop-timeout", "1", reference)
    old = api.inspect_container("broken")["Id"]
    engine.import_busybox(reference, extra=b"b2", changes=['CMD ["/no/such/binary"]'])
    engine.cli("push", reference)
    reply = pipeline.run("update-image broken", OPS, confirmed=True)
    update = reply.result
    assert isinstance(update, ImageUpdate), reply.text
    assert (update.outcome, update.health, update.restored) == ("rolled-back", "not-started", True)
    assert "/no/such/binary" in update.logs  # the engine's own words
    assert "would not start" in reply.text and not reply.ok
    found = api.inspect_container("broken")
    assert found["Id"] == old and found["State"]["Running"]


def test_an_image_never_pulled_is_not_looked_up(clean_engine: Engine, pipeline: Pipeline) -> None:
    # Its name says Docker Hub; asking for it would leave loopback. Preview and update both
    # answer from what the engine holds.
    clean_engine.cli("run", "-d", "--name", "here", TEST_IMAGE, "sleep", "3600")
    for confirmed in (False, True):
        reply = pipeline.run("update-image here", ADMIN, confirmed=confirmed)
        assert not reply.ok and "never pulled" in reply.text, reply.text
    assert clean_engine.cli("inspect", "-f", "{{.State.Running}}", "here").stdout.strip() == "true"
