"""Recreate against the docker CLI: containers made with `docker create` from the run/create
differential's flag sets, made again by handlers/recreate.py from their inspect, must match
the originals on every field the CLI could set (but ID, name, timestamps and image digest)."""

from __future__ import annotations

import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from handlers.errors import UsageError
from handlers.image_update import create_from
from handlers.recreate import recreate_body
from handlers.updates import check_updatable
from tests.rig import TEST_IMAGE, Engine
from tests.test_run_differential import CASES, POOL, comparable, setting, words_for

__all__ = ["setting"]  # the run differential's network and peer container, shared

#: the original keeps these on another network, connected after create (with aliases)
EXTRA_NETWORK = "dh-recreate-extra"


def _without_own_id(found: dict[str, Any]) -> dict[str, Any]:
    """comparable(), with the short ID the engine adds to a container's aliases left out and
    the anonymous volumes recreate carries over by name set apart (they are compared through
    the Mounts: same volume, same place)."""
    own = comparable(found)
    short = found["Id"][:12]
    own["Networks"] = {
        name: ([a for a in aliases if a != short], ipam)
        for name, (aliases, ipam) in own["Networks"].items()
    }
    volumes = {m["Name"] for m in found.get("Mounts") or [] if m.get("Type") == "volume"}
    own["HostConfig.Binds"] = [
        b
        for b in found["HostConfig"].get("Binds") or []
        if not (len(b.split(":")[0]) == 64 and b.split(":")[0] in volumes)
    ] or None
    own["HostConfig.Mounts"] = [
        {k: v for k, v in m.items() if not (k == "Source" and v in volumes and len(v) == 64)}
        for m in own["HostConfig.Mounts"] or []
    ] or None
    own["Mounts"] = sorted(
        (m.get("Type"), m.get("Name") or m.get("Source"), m.get("Destination"), m.get("RW"))
        for m in found.get("Mounts") or []
    )
    return own


def _accepted_cases(engine: Engine, setting: dict[str, str]) -> list[tuple[str, str]]:
    """(case, container ID) for each case the docker CLI accepts: the run differential's
    cases and its pool of single flags (made a few at a time: most of the time is the CLI's)."""

    def create(numbered: tuple[int, str]) -> tuple[str, str] | None:
        n, case = numbered
        words = words_for(case, setting)
        created = engine.cli("create", "--name", f"dh-rc{n}", *words, check=False)
        return (case, created.stdout.strip()) if created.returncode == 0 else None

    with ThreadPoolExecutor(4) as pool:
        made = pool.map(create, enumerate(dict.fromkeys([*CASES, *POOL])))
        return [m for m in made if m is not None]


def test_recreated_containers_match_the_originals(engine: Engine, setting: dict[str, str]) -> None:
    api = engine.client().api
    engine.cli("network", "create", EXTRA_NETWORK)
    started = time.monotonic()
    made = _accepted_cases(engine, setting)
    # Networks connected after create, the way people add them: with aliases, and a second
    # user network beside the one given at create.
    engine.cli("create", "--name", "dh-rc-multi", "--network", setting["net"], TEST_IMAGE)
    engine.cli(
        "network", "connect", "--alias", "db", "--alias", "cache", EXTRA_NETWORK, "dh-rc-multi"
    )
    made.append(("connected to two networks", "dh-rc-multi"))
    failures = []
    recreated = 0
    try:
        for case, original_id in made:
            original = api.inspect_container(original_id)
            try:
                check_updatable(original)
            except UsageError:
                assert original["HostConfig"]["AutoRemove"], case  # only --rm is refused
                continue
            recreation = recreate_body(original, api.inspect_image(original["Image"]))
            new_id = create_from(api, recreation, f"{original['Name'].lstrip('/')}-new")
            recreated += 1
            ours = _without_own_id(api.inspect_container(new_id))
            theirs = _without_own_id(original)
            differences = {k: (ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k]}
            if differences:
                failures.append(f"{case!r}: {differences}")
    finally:
        for container in api.containers(all=True, filters={"name": "dh-rc"}):
            api.remove_container(container["Id"], force=True, v=True)
        engine.cli("network", "rm", EXTRA_NETWORK)
    elapsed = time.monotonic() - started
    assert recreated >= 30, f"only {recreated} containers recreated"
    assert not failures, "\n".join(failures)
    # About 15 s on a quiet machine (2 cores); the bound only catches a pathological slowdown.
    assert elapsed < 120, f"{recreated} recreations took {elapsed:.1f} s"


def test_new_image_defaults_reach_the_recreated_container(clean_engine: Engine) -> None:
    """What came from the old image is left to the new one; what was given stays."""
    engine = clean_engine
    api = engine.client().api
    reference = "dh-recreate/app:1"
    old_changes = [
        'CMD ["sleep", "1000"]',
        "ENV A=1 KEEP=same",
        "EXPOSE 80",
        "WORKDIR /tmp",
        "LABEL origin=old keep=same",
        "VOLUME /data",
        'HEALTHCHECK --interval=30s CMD ["true"]',
    ]
    engine.import_busybox(reference, changes=old_changes)
    given = shlex.split("-e B=2 -e A=mine -l team=web -p 8080:80 --name dh-defaults")
    engine.cli("create", *given, reference)
    original = api.inspect_container("dh-defaults")
    old_image = api.inspect_image(original["Image"])
    new_changes = [
        'CMD ["sleep", "2000"]',
        "ENV A=2 KEEP=same NEW=yes",
        "EXPOSE 81",
        "WORKDIR /var",
        "LABEL origin=new keep=same",
        "VOLUME /data",
        'HEALTHCHECK --interval=5s CMD ["false"]',
    ]
    engine.import_busybox(reference, extra=b"v2", changes=new_changes)
    recreation = recreate_body(original, old_image)
    new_id = create_from(api, recreation, "dh-defaults-new")
    config = api.inspect_container(new_id)["Config"]
    assert config["Cmd"] == ["sleep", "2000"]
    assert sorted(config["Env"]) == sorted(["A=mine", "B=2", "KEEP=same", "NEW=yes"])
    assert set(config["ExposedPorts"]) == {"80/tcp", "81/tcp"}  # 80 stays: it is published
    assert config["WorkingDir"] == "/var"
    assert config["Labels"] == {"origin": "new", "keep": "same", "team": "web"}
    assert config["Healthcheck"]["Test"] == ["CMD", "false"]
    # the image's anonymous volume is carried over, data and all
    mounts = {m["Destination"]: m["Name"] for m in api.inspect_container(new_id)["Mounts"]}
    assert mounts["/data"] == {m["Destination"]: m["Name"] for m in original["Mounts"]}["/data"]


@pytest.mark.parametrize(
    ("flags", "entrypoint", "cmd"),
    [
        ("", ["/bin/sh", "-c"], ["echo new"]),  # both from the image: the new image's
        ("--entrypoint /bin/echo", ["/bin/echo"], None),  # given: kept, the image's Cmd not used
        ("--entrypoint ''", None, ["ls"]),  # reset: stays reset
    ],
)
def test_entrypoint_and_cmd_as_given(
    clean_engine: Engine, flags: str, entrypoint: list[str] | None, cmd: list[str] | None
) -> None:
    engine = clean_engine
    api = engine.client().api
    reference = "dh-recreate/entry:1"
    engine.import_busybox(reference, changes=['ENTRYPOINT ["/bin/sh", "-c"]', 'CMD ["echo old"]'])
    extra = ["ls"] if "''" in flags else []
    engine.cli("create", "--name", "dh-entry", *shlex.split(flags), reference, *extra)
    original = api.inspect_container("dh-entry")
    old_image = api.inspect_image(original["Image"])
    engine.import_busybox(
        reference, extra=b"v2", changes=['ENTRYPOINT ["/bin/sh", "-c"]', 'CMD ["echo new"]']
    )
    new_id = create_from(api, recreate_body(original, old_image), "dh-entry-new")
    config = api.inspect_container(new_id)["Config"]
    assert (config["Entrypoint"], config["Cmd"]) == (entrypoint, cmd)
