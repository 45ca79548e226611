"""pull, push, login, logout and catalog search against the rig's registry (htpasswd auth)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import fakeredis
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.credentials import Credentials
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.context import RegistryAuth
from handlers.engines import Engines
from handlers.progress import ProgressReport
from handlers.results import ImageList, PullResult, PushResult, SearchResult, TagResult
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, TEST_IMAGE, Engine, Registry

ME = Requester("U1", "C1", "cli")


@pytest.fixture
def pipeline(engine: Engine) -> Iterator[Pipeline]:
    store = fakeredis.FakeRedis()
    credentials = Credentials(store, SecretStr(Fernet.generate_key().decode()))
    made = Pipeline(Engines({"local": engine.url}, timeout=60), Policy(None), credentials)
    yield made
    made.engines.close()


def run(pipeline: Pipeline, text: str, **kwargs):  # type: ignore[no-untyped-def]
    return pipeline.finish(pipeline.prepare(text, ME), **kwargs)


def test_push_login_pull_logout(engine: Engine, registry: Registry, pipeline: Pipeline) -> None:
    target = f"{registry.address}/team/app:1.0"
    tagged = run(pipeline, f"tag {TEST_IMAGE} {target}")
    assert tagged.ok and isinstance(tagged.result, TagResult)
    assert tagged.result.image_id == engine.client().api.inspect_image(TEST_IMAGE)["Id"]

    refused = run(pipeline, f"push {target}")
    assert not refused.ok and "no basic auth credentials" in refused.text

    wrong = RegistryAuth(
        server=registry.address, username=REGISTRY_USER, password=SecretStr("wrong")
    )
    denied = run(pipeline, f"login {registry.address}", login=wrong)
    assert not denied.ok
    assert (
        pipeline.credentials is not None
        and pipeline.credentials.get(registry.address, ME.user) is None
    )

    right = RegistryAuth(
        server=registry.address, username=REGISTRY_USER, password=SecretStr(REGISTRY_PASSWORD)
    )
    accepted = run(pipeline, f"login {registry.address}", login=right)
    assert accepted.ok and "Login Succeeded" in accepted.text
    raw = pipeline.credentials.store.hget(f"dockhand:logins:{ME.user}", registry.address)
    assert raw and REGISTRY_PASSWORD.encode() not in raw  # encrypted at rest
    assert REGISTRY_PASSWORD not in accepted.text + str(accepted.blocks)

    pushed = run(pipeline, f"push {target}")
    assert pushed.ok, pushed.text
    assert isinstance(pushed.result, PushResult) and pushed.result.digest.startswith("sha256:")

    # A second image with a layer of its own, removed locally, so the pull downloads it.
    fresh = f"{registry.address}/team/fresh:2.0"
    engine.import_busybox(fresh, extra=os.urandom(3 << 20))
    assert run(pipeline, f"push {fresh}").ok
    assert run(pipeline, f"rmi {fresh}").ok
    reports: list[ProgressReport] = []
    fetched = pipeline.finish(pipeline.prepare(f"pull {fresh}", ME), progress=reports.append)
    assert fetched.ok, fetched.text
    assert reports and reports[-1].action == f"Pulling {fresh}"
    assert any(r.total > 0 for r in reports) and reports[-1].layers_done == reports[-1].layers
    engine.cli("rmi", fresh)

    assert run(pipeline, f"rmi {target}").ok
    pulled = run(pipeline, f"pull {target}")
    assert pulled.ok, pulled.text
    assert isinstance(pulled.result, PullResult)
    assert pulled.result.digest == pushed.result.digest

    listed = run(pipeline, f"images --digests {registry.address}/team/app")
    assert isinstance(listed.result, ImageList)
    assert pushed.result.digest in listed.text
    cli_digest = engine.cli(
        "images", "--digests", "--format", "{{.Digest}}", f"{registry.address}/team/app"
    ).stdout.strip()
    assert cli_digest == pushed.result.digest

    found = run(pipeline, f"search {registry.address}/team")
    assert isinstance(found.result, SearchResult)
    assert sorted((h.name, h.tags) for h in found.result.hits) == [
        (f"{registry.address}/team/app", ["1.0"]),
        (f"{registry.address}/team/fresh", ["2.0"]),
    ]
    narrowed = run(pipeline, f"search {registry.address}/fre")
    assert [h.name for h in narrowed.result.hits] == [f"{registry.address}/team/fresh"]

    # `run` pulls a missing image the way `image pull` does: with the stored login.
    assert run(pipeline, f"rmi {target}").ok
    ran = pipeline.finish(pipeline.prepare(f"run --rm {target} true", ME))
    assert ran.ok and "(pulled)" in ran.text, ran.text

    missing = run(pipeline, f"pull {registry.address}/team/app:9.9")
    assert not missing.ok and "manifest unknown" in missing.text

    assert run(pipeline, f"logout {registry.address}").ok
    assert pipeline.credentials.get(registry.address, ME.user) is None
    again = run(pipeline, f"push {target}")
    assert not again.ok and "no basic auth credentials" in again.text
    engine.cli("rmi", target)


def test_hub_search_fails_clearly_without_internet(pipeline: Pipeline) -> None:
    reply = run(pipeline, "search nginx --filter stars=1000")
    assert not reply.ok
    assert "Docker Hub search failed" in reply.text
    # The rig's engine reaches the outside only through a closed loopback port.
    assert "127.0.0.1:9" in reply.text

    assert "Traceback" not in reply.text


def test_login_without_credentials_says_how(pipeline: Pipeline, registry: Registry) -> None:
    reply = run(pipeline, f"login {registry.address}")
    assert not reply.ok and "enter them privately" in reply.text


def test_password_flag_is_refused(pipeline: Pipeline) -> None:
    reply = pipeline.run("login -u ops -p secret 127.0.0.1:5000", ME)
    assert not reply.ok and reply.exit_status == 2
    assert "leaked password" in reply.text


def test_the_bot_never_borrows_the_host_users_registry_login(
    engine: Engine,
    registry: Registry,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import base64
    import json as jsonlib

    token = base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()
    (tmp_path / "config.json").write_text(
        jsonlib.dumps({"auths": {registry.address: {"auth": token}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # the docker login of whoever runs us
    target = f"{registry.address}/team/borrowed:1.0"
    engine.cli("tag", TEST_IMAGE, target)
    try:
        for host_credentials, works in ((False, False), (True, True)):
            made = Pipeline(Engines({"local": engine.url}, timeout=60), Policy(None))
            made.host_credentials = host_credentials
            reply = made.run(f"push {target}", ME, confirmed=True)
            made.engines.close()
            assert reply.ok is works, reply.text
            if not works:
                assert "no basic auth credentials" in reply.text
    finally:
        engine.cli("rmi", target)
