"""Image updates end to end on the rig's registry (login ops/secret), through `dockhand serve`
and signed Slack requests: push v1 and run it, push v2 under the same tag, the schedule
reports it with an Update button, the button (as Slack sends its click) and Confirm update it;
push a v3 whose healthcheck fails, and the update rolls back with the old container running
again, the story told in the thread of the schedule's message."""

from __future__ import annotations

import json
import time
from pathlib import Path

import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.credentials import Credentials
from handlers.context import RegistryAuth
from tests.fake_slack import Call, FakeSlack
from tests.helpers import Bot, action_body, signed_headers, slash_body, start_bot
from tests.rig import REGISTRY_PASSWORD, REGISTRY_USER, Engine, RedisServer, Registry
from tests.test_scheduler import own_redis

__all__ = ["own_redis"]  # the scheduler tests' Redis of a test's own: its schedule stays here

HEALTHY = 'HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["true"]'
FAILING = 'HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["false"]'


def push(engine: Engine, reference: str, version: bytes, *changes: str) -> str:
    engine.import_busybox(reference, extra=version, changes=['CMD ["sleep", "3600"]', *changes])
    pushed = engine.cli("push", reference)
    return pushed.stdout.strip().rsplit("digest: ", 1)[1].split()[0]


def click(
    bot: Bot, fake: FakeSlack, action: dict[str, str], key: str, message_ts: str = ""
) -> None:
    container = (
        {"type": "message", "is_ephemeral": False, "message_ts": message_ts, "channel_id": "C1"}
        if message_ts
        else {"type": "message", "is_ephemeral": True}
    )
    payload = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"t-{key}",
        "response_url": fake.response_url(key),
        "container": container,
        "message": {"blocks": [], "ts": message_ts or "1.1"},
        "actions": [{**action, "type": "button", "block_id": "b"}],
    }
    body = action_body(payload)
    assert bot.post(body, signed_headers(body)).status_code == 200


def buttons(call: Call) -> list[dict[str, str]]:
    return [
        element
        for block in call.body.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def announcement(fake: FakeSlack, digest: str, after: float) -> Call:
    """The schedule's message naming `digest` as new: in the channel, not in a thread."""
    short = digest.removeprefix("sha256:")[:12]
    return fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and c.wall > after
            and not c.body.get("thread_ts")
            and short in json.dumps(c.body.get("blocks"))
            and any(b["text"]["text"] == "Update web" for b in buttons(c))
        ),
        60,
    )


def update_through_the_button(bot: Bot, fake: FakeSlack, message: Call, key: str) -> Call:
    """Click Update as Slack sends it (on that channel message, whose ts the click carries),
    then Confirm on the preview; the run is told in the message's thread."""
    button = next(b for b in buttons(message) if b["text"]["text"] == "Update web")
    ts = f"{int(message.wall)}.9{key.encode().hex()[:5]}"
    click(bot, fake, {"action_id": button["action_id"], "value": button["value"]}, key, ts)
    preview = fake.wait_for(
        lambda c: (
            any(b.get("action_id") == "dockhand.confirm" for b in buttons(c))
            and c.wall > message.wall
        ),
        60,
    )
    shown = json.dumps(preview.body["blocks"])
    assert "would recreate web" in shown and "digest" in shown, shown
    if key == "v2":  # v2 exposes a port more: a default the container inherits
        assert "ExposedPorts" in shown and "8080/tcp" in shown, shown
    confirm = next(b for b in buttons(preview) if b["action_id"] == "dockhand.confirm")
    click(bot, fake, {"action_id": "dockhand.confirm", "value": confirm["value"]}, f"{key}-ok")
    # A long change is posted in the thread as it starts, then edited with its result.
    started = fake.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and c.body.get("thread_ts") == ts
            and "update-image web" in str(c.body.get("text"))
        ),
        60,
    )
    return fake.wait_for(
        lambda c: (
            c.method == "chat.update"
            and c.wall >= started.wall
            and ("updated web" in json.dumps(c.body) or "rolled back" in json.dumps(c.body))
        ),
        90,
    )


def test_schedule_reports_the_button_updates_and_a_failing_image_rolls_back(
    clean_engine: Engine,
    registry: Registry,
    own_redis: RedisServer,
    fake_slack: FakeSlack,
    log_dir: Path,
) -> None:
    engine = clean_engine
    api = engine.client().api
    reference = f"{registry.address}/dh-updates/web:stable"
    engine.cli("login", "-u", REGISTRY_USER, "-p", REGISTRY_PASSWORD, registry.address)
    push(engine, reference, b"v1", HEALTHY)
    engine.cli(
        "run",
        "-d",
        "--name",
        "web",
        "--stop-timeout",
        "2",
        "-e",
        "MODE=prod",
        "-l",
        "team=web",
        reference,
    )
    first_id = api.inspect_container("web")["Id"]
    v2 = push(engine, reference, b"v2", HEALTHY, "EXPOSE 8080")

    # The requester's own login, kept encrypted as Slack's login form keeps it.
    key = Fernet.generate_key().decode()
    store = redis.Redis.from_url(own_redis.url)
    Credentials(store, SecretStr(key)).put(
        RegistryAuth(
            server=registry.address, username=REGISTRY_USER, password=SecretStr(REGISTRY_PASSWORD)
        ),
        "U1",
    )
    bot = start_bot(
        log_dir,
        DOCKER_HOST=engine.url,
        REDIS_URL=own_redis.url,
        SLACK_API_URL=fake_slack.api_url,
        DOCKHAND_SECRET_KEY=key,
        DOCKHAND_LEASE_TTL="3",
    )
    try:
        started = time.time()
        body = slash_body("schedule updates --every 2s", fake_slack.response_url("add"))
        assert bot.post(body, signed_headers(body)).status_code == 200

        message = announcement(fake_slack, v2, started)
        shown = json.dumps(message.body["blocks"])
        assert "1 container of 1" in shown and "newer image" in shown, shown
        assert "scheduled by <@U1>" in shown
        assert "ago" in shown  # the new image's age, from its config in the registry

        done = update_through_the_button(bot, fake_slack, message, "v2")
        said = json.dumps(done.body)
        assert "updated web" in said and "healthy" in said, said
        second = api.inspect_container("web")
        assert second["Id"] != first_id and second["State"]["Running"]
        assert second["Image"] == api.inspect_image(reference)["Id"]
        assert (
            "MODE=prod" in second["Config"]["Env"] and second["Config"]["Labels"]["team"] == "web"
        )
        assert not api.containers(all=True, filters={"id": first_id})  # the old one is gone

        # v3's healthcheck fails: the update rolls back, and the thread says so.
        after_v2 = time.time()
        v3 = push(engine, reference, b"v3", FAILING)
        message = announcement(fake_slack, v3, after_v2)
        done = update_through_the_button(bot, fake_slack, message, "v3")
        said = json.dumps(done.body)
        assert "rolled back" in said and "unhealthy" in said, said
        assert "the old container is running again" in said
        restored = api.inspect_container("web")
        assert restored["Id"] == second["Id"] and restored["State"]["Running"]
        failed = [c for c in api.containers(all=True) if c["Names"][0].startswith("/web-failed-")]
        assert len(failed) == 1 and failed[0]["State"] != "running"
        assert failed[0]["Names"][0].lstrip("/") in said
    finally:
        bot.stop()
