"""The pure parts of image updates: a create body read back from inspect, digests and
references, the maintenance window, the words and buttons of a check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import docker.errors
import pytest
import requests

from bot import slack_limits as limits
from bot.render import RUN_ACTION, reply_for
from bot.update_messages import check_summary, update_summary
from handlers.image_update import ImageUpdate
from handlers.recreate import inherited_changes, recreate_body
from handlers.updates import (
    ImageStatus,
    UpdateCheck,
    _why,
    image_created,
    is_image_id,
    is_pinned,
    pulled_digests,
    registry_base,
    repository_name,
    update_mode,
)
from jobs.updates import in_window, parse_window

OWN_ID = "abcdef123456" + "0" * 52
IMAGE = {
    "Config": {
        "Cmd": ["serve"],
        "Entrypoint": ["/entry"],
        "Env": ["PATH=/bin", "MODE=image"],
        "Labels": {"origin": "image"},
        "ExposedPorts": {"80/tcp": {}},
        "WorkingDir": "/app",
        "User": "app",
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD", "check"], "Interval": 30_000_000_000},
    }
}


def container(**config: Any) -> dict[str, Any]:
    """An inspect as the engine gives it: the image's defaults merged in."""
    merged = {**IMAGE["Config"], "Hostname": OWN_ID[:12], "Image": "reg.example/app:1"}
    merged.update(config)
    return {
        "Id": OWN_ID,
        "Name": "/web",
        "Image": "sha256:" + "1" * 64,
        "Config": merged,
        "HostConfig": {
            "NetworkMode": "default",
            "PortBindings": {},
            "MaskedPaths": ["/proc/kcore"],
            "ReadonlyPaths": ["/proc/sys"],
            "ContainerIDFile": "",
            "Links": None,
        },
        "Mounts": [{"Type": "volume", "Name": "v" * 64, "Destination": "/data", "RW": True}],
        "NetworkSettings": {"Networks": {"bridge": {"Aliases": None, "IPAMConfig": None}}},
    }


def test_defaults_of_the_old_image_are_left_to_the_new_one() -> None:
    body = recreate_body(container(), IMAGE).body
    for key in ("Cmd", "Entrypoint", "WorkingDir", "User", "Healthcheck", "Hostname"):
        assert key not in body, key
    assert body["Env"] is None and body["Labels"] == {} and body["ExposedPorts"] is None
    assert body["Volumes"] is None
    # the image's volume keeps its data: the same volume, by name
    assert body["HostConfig"]["Binds"] == [f"{'v' * 64}:/data"]
    assert "MaskedPaths" not in body["HostConfig"] and "ContainerIDFile" not in body["HostConfig"]
    assert "NetworkingConfig" not in body


def test_what_was_given_stays() -> None:
    given = container(
        Cmd=["serve", "--fast"],
        Env=["PATH=/bin", "MODE=prod", "EXTRA=1"],
        Labels={"origin": "image", "team": "web"},
        ExposedPorts={"80/tcp": {}, "9000/tcp": {}},
        WorkingDir="/srv",
        Healthcheck={"Test": ["CMD", "check"], "Interval": 5_000_000_000},
        Hostname="web01",
    )
    body = recreate_body(given, IMAGE).body
    assert body["Cmd"] == ["serve", "--fast"] and "Entrypoint" not in body
    assert body["Env"] == ["MODE=prod", "EXTRA=1"]
    assert body["Labels"] == {"team": "web"}
    assert body["ExposedPorts"] == {"9000/tcp": {}}
    assert body["WorkingDir"] == "/srv" and body["Hostname"] == "web01"
    assert body["Healthcheck"] == {"Interval": 5_000_000_000}  # the rest from the new image


def test_an_entrypoint_given_or_reset_is_kept() -> None:
    body = recreate_body(container(Entrypoint=["/other"], Cmd=None), IMAGE).body
    assert body["Entrypoint"] == ["/other"] and body["Cmd"] is None
    body = recreate_body(container(Entrypoint=None, Cmd=["ls"]), IMAGE).body
    assert body["Entrypoint"] == [""] and body["Cmd"] == ["ls"]  # null would inherit


def test_a_published_port_stays_exposed_and_unconfined_paths_stay_empty() -> None:
    found = container()
    found["HostConfig"]["PortBindings"] = {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    found["HostConfig"]["MaskedPaths"] = []
    found["HostConfig"]["ReadonlyPaths"] = []
    body = recreate_body(found, IMAGE).body
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert body["HostConfig"]["MaskedPaths"] == [] and body["HostConfig"]["ReadonlyPaths"] == []


def test_networks_links_and_the_hostname_of_a_shared_namespace() -> None:
    found = container()
    found["HostConfig"]["NetworkMode"] = "appnet"
    found["HostConfig"]["Links"] = ["/db:/web/database"]
    found["NetworkSettings"]["Networks"] = {
        "appnet": {"Aliases": ["api", OWN_ID[:12]], "IPAMConfig": {"IPv4Address": "10.1.0.5"}},
        "backnet": {"Aliases": ["cache"], "IPAMConfig": {}},
    }
    made = recreate_body(found, IMAGE)
    assert made.body["HostConfig"]["Links"] == ["db:database"]
    assert made.body["NetworkingConfig"] == {
        "EndpointsConfig": {
            "appnet": {"Aliases": ["api"], "IPAMConfig": {"IPv4Address": "10.1.0.5"}}
        }
    }
    assert made.connects == {"backnet": {"Aliases": ["cache"], "IPAMConfig": {}}}
    found["HostConfig"]["NetworkMode"] = "container:" + "f" * 64
    assert "Hostname" not in recreate_body(found, IMAGE).body


def test_only_inherited_defaults_count_as_changes() -> None:
    new = {"Config": {**IMAGE["Config"], "Cmd": ["serve", "--v2"], "ExposedPorts": {"81/tcp": {}}}}
    changes = {c.field: (c.old, c.new) for c in inherited_changes(container(), IMAGE, new)}
    assert changes == {
        "Cmd": (["serve"], ["serve", "--v2"]),
        "ExposedPorts": ({"80/tcp": {}}, {"81/tcp": {}}),
    }
    own_cmd = container(Cmd=["mine"])
    assert "Cmd" not in {c.field for c in inherited_changes(own_cmd, IMAGE, new)}


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        ("nginx:1.27", "nginx"),
        ("docker.io/library/nginx", "nginx"),
        ("library/nginx:1", "nginx"),
        ("docker.io/team/app:1", "team/app"),
        ("127.0.0.1:5000/app:2", "127.0.0.1:5000/app"),
        ("reg.example/app@sha256:" + "a" * 64, "reg.example/app"),
    ],
)
def test_repositories_as_the_engine_records_them(reference: str, repository: str) -> None:
    assert repository_name(reference) == repository


def test_pulled_digests_match_the_repository_only() -> None:
    digests = ["nginx@sha256:aa", "reg.example/nginx@sha256:bb", "nginx@sha256:cc"]
    assert pulled_digests("docker.io/library/nginx:1.27", digests) == ["sha256:aa", "sha256:cc"]
    assert pulled_digests("reg.example/nginx:1", digests) == ["sha256:bb"]


def test_pinned_image_ids_and_labels() -> None:
    assert is_pinned("app@sha256:" + "a" * 64) and not is_pinned("app:1")
    assert is_image_id("3f2a1b0c9d8e", "sha256:3f2a1b0c9d8e" + "0" * 52)
    assert not is_image_id("app:1", "sha256:" + "a" * 64)
    assert update_mode({"dockhand.update": " AUTO "}) == "auto"
    assert update_mode({"dockhand.update": "bogus"}) == update_mode(None) == "notify"


def test_a_rate_limit_is_said_per_image() -> None:
    response = requests.Response()
    response.status_code = 429
    error = docker.errors.APIError("x", response=response, explanation="toomanyrequests: slow")
    assert _why(error) == ("error", "rate limited: toomanyrequests: slow")


@pytest.mark.parametrize(
    ("window", "at", "inside"),
    [
        ("02:00-04:00", "02:00", True),
        ("02:00-04:00", "03:59", True),
        ("02:00-04:00", "04:00", False),
        ("22:00-02:00", "23:30", True),
        ("22:00-02:00", "01:59", True),
        ("22:00-02:00", "12:00", False),
        ("00:00-24:00", "23:59", True),
    ],
)
def test_maintenance_window(window: str, at: str, inside: bool) -> None:
    assert in_window(window, datetime.fromisoformat(f"2026-11-29T{at}:30")) is inside


@pytest.mark.parametrize("text", ["2-4", "02:00-02:00", "25:00-26:00", "02:60-03:00", ""])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


def test_config_blob_times_and_registry_addresses() -> None:
    assert image_created({"created": "2026-11-29T06:50:00.123456789Z"}) == pytest.approx(
        datetime.fromisoformat("2026-11-29T06:50:00.123456+00:00").timestamp()
    )
    assert image_created({}) is None and image_created({"created": "soon"}) is None
    assert registry_base("nginx:1") == "https://registry-1.docker.io/v2/library/nginx"
    assert registry_base("127.0.0.1:5000/team/app:1") == "http://127.0.0.1:5000/v2/team/app"


def _status(name: str, state: str, mode: str = "notify") -> ImageStatus:
    return ImageStatus(
        container=name * 12,
        name=name,
        image="reg.example/app:1",
        state=state,  # type: ignore[arg-type]
        current="sha256:" + "1" * 64,
        latest="sha256:" + "2" * 64,
        created=1_000.0,
        mode=mode,
    )


def test_a_check_has_one_update_button_a_stale_container() -> None:
    check = UpdateCheck(
        host="prod",
        images=[_status("web", "stale"), _status("api", "stale"), _status("db", "current")],
        checked_at=1_000.0 + 7200,
    )
    reply = reply_for(check, ephemeral=False)
    elements = [e for b in reply.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(e["text"]["text"], e["value"]) for e in elements] == [
        ("Update web", "-H prod update-image web"),
        ("Update api", "-H prod update-image api"),
    ]
    assert len({e["action_id"] for e in elements}) == 2
    assert all(e["action_id"].startswith(RUN_ACTION) for e in elements)
    assert not limits.problems(reply.chat_text, reply.blocks)
    assert "2 containers of 3 on prod have a newer image" in reply.text
    assert "2 hours ago" in reply.text and "222222222222" in reply.text


def test_many_stale_containers_stay_within_slack_limits() -> None:
    check = UpdateCheck(images=[_status(f"c{n:03d}" + "x" * 200, "stale") for n in range(60)])
    reply = reply_for(check, ephemeral=False)
    assert not limits.problems(reply.chat_text, reply.blocks)


def test_outcomes_in_words() -> None:
    base = {"container": "web", "image": "app:1", "new_digest": "sha256:" + "9" * 64}
    rolled = ImageUpdate(
        **base,
        outcome="rolled-back",
        health="exited",
        exit_code=3,
        restored=True,
        failed_name="web-failed-abc",
        logs="boom",
    )
    said = update_summary(rolled)
    assert "rolled back" in said and "exited with code 3" in said
    assert "running again" in said and "web-failed-abc" in said
    assert rolled.failed() and rolled.body() == "boom"
    fine = ImageUpdate(**base, outcome="updated", health="healthy", waited=2.5)
    assert "healthy after 2.5 s" in update_summary(fine) and not fine.failed()
    lost = ImageUpdate(**base, outcome="rolled-back", health="unhealthy", restored=False)
    assert "could NOT be started again" in update_summary(lost)
    assert "nothing to update" in update_summary(ImageUpdate(**base, outcome="current"))
    empty = UpdateCheck(images=[])
    assert check_summary(empty) == "no containers to check on local"


def test_the_preview_in_words() -> None:
    from bot.update_messages import preview_words
    from handlers.preview import PreviewItem
    from handlers.recreate import ConfigChange
    from handlers.updates import UpdatePreview

    shown = UpdatePreview(
        verb="container:update-image",
        container="web",
        image="app:1",
        current="sha256:" + "1" * 64,
        latest="sha256:" + "2" * 64,
        changes=[ConfigChange(field="Cmd", old=["a"], new=["b"])],
        config_known=True,
        items=[PreviewItem(kind="container", id=OWN_ID, name="web")],
    )
    summary, lines = preview_words(shown)
    assert summary == "would recreate web on the image app:1 serves now"
    assert lines == ["digest  111111111111 -> 222222222222", "Cmd: ['a'] -> ['b']"]
    shown.items = []
    assert preview_words(shown) == ("web: app:1 is up to date, nothing to update", [])


def test_what_cannot_be_updated_in_place_is_refused_first() -> None:
    from handlers.errors import UsageError
    from handlers.updates import check_updatable

    paused = container()
    paused["State"] = {"Running": True, "Paused": True}
    with pytest.raises(UsageError, match="paused"):
        check_updatable(paused)
    removed = container()
    removed["HostConfig"]["AutoRemove"] = True
    with pytest.raises(UsageError, match="--rm"):
        check_updatable(removed)
    with pytest.raises(UsageError, match="pinned by digest"):
        check_updatable(container(Image="app@sha256:" + "a" * 64))


def test_dockhands_own_containers_are_reported_never_updated() -> None:
    from bot.safety import INTERNAL_LABEL
    from handlers.errors import UsageError
    from handlers.updates import OWN_LABEL, check_updatable

    assert OWN_LABEL == INTERNAL_LABEL
    assert update_mode({OWN_LABEL: "", "dockhand.update": "auto"}) == "internal"
    with pytest.raises(UsageError, match="Dockhand's own"):
        check_updatable(container(Labels={OWN_LABEL: "bot"}))
    check = UpdateCheck(images=[_status("bot", "stale", mode="internal"), _status("web", "stale")])
    reply = reply_for(check, ephemeral=False)
    values = [e["value"] for b in reply.blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == ["update-image web"]


def test_a_shutdown_ends_the_trial_in_favour_of_the_old_container() -> None:
    from handlers.image_update import wait_healthy

    class Engine:
        def inspect_container(self, container_id: str) -> dict[str, Any]:
            return {"Config": {}, "State": {"Running": True}, "RestartCount": 0}

    answer = wait_healthy(Engine(), "c", timeout=60, grace=60, stop=lambda: True)  # type: ignore[arg-type]
    assert answer == ("interrupted", None)
    said = update_summary(
        ImageUpdate(container="web", image="app:1", outcome="rolled-back", health="interrupted")
    )
    assert "shut down" in said
