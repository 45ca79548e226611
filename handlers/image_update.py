"""`update-image CONTAINER`: pull its reference, recreate it on the new image with the same
configuration (handlers/recreate.py), start it, wait for it to be healthy (or running for a
grace period without a healthcheck), then remove the old one; roll back when it fails.

The old container is renamed, not removed, until the new one has proved itself: a rollback
stops the new one (renamed aside, kept for its logs and inspect), gives the old one its name
back and starts it. Every request that makes the engine create or connect something passes
Context.admit with its exact body, before anything is changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import docker
import docker.errors
from pydantic import Field

from handlers.commands import UpdateImage
from handlers.context import Context
from handlers.engine_api import engine_request, inspect
from handlers.engines import explain
from handlers.errors import NoSuchObject
from handlers.images import pull_reference
from handlers.progress import ProgressReport
from handlers.recreate import ConfigChange, Recreation, inherited_changes, recreate_body
from handlers.results import Result
from handlers.updates import check_updatable, pulled_digests, registry_copies, short_digest

log = logging.getLogger("dockhand.updates")
#: how often the new container's state is read while it proves itself
POLL_SECONDS = 0.5
#: lines of the failed container's log kept for the report
LOG_LINES = 40
#: seconds the old container is given to be running again after a rollback
RESTORE_WAIT = 5.0

Outcome = Literal["updated", "rolled-back", "current"]


class ImageUpdate(Result):
    """What `update-image` did: facts, worded at the edge (bot/messages.py)."""

    container: str
    image: str
    outcome: Outcome
    old_id: str = ""
    new_id: str = ""
    old_digest: str = ""
    new_digest: str = ""
    #: how the new container ended its trial: healthy, running (no healthcheck: it kept
    #: running for the grace period), unhealthy, exited, restarting, timeout, not-started (the
    #: engine would not start it: its words are in `logs`), interrupted (by a shutdown),
    #: created (it was not running)
    health: str = ""
    exit_code: int | None = None
    waited: float = 0.0
    #: the name the failed new container keeps after a rollback, for logs and inspect
    failed_name: str = ""
    #: after a rollback: is the old container running again
    restored: bool = False
    #: the name the old container keeps when the engine would not remove it
    old_kept: str = ""
    #: steps of a rollback or of the clean-up that failed (the engine's words)
    rollback_problems: list[str] = Field(default_factory=list)
    #: the failed new container's last log lines
    logs: str = ""
    changes: list[ConfigChange] = Field(default_factory=list)

    def failed(self) -> bool:
        return self.outcome == "rolled-back"

    def facts(self) -> list[tuple[str, str]]:
        facts = [
            ("container", self.container),
            ("image", self.image),
            (
                "digest",
                f"{short_digest(self.old_digest) or '-'} -> {short_digest(self.new_digest)}",
            ),
        ]
        if self.outcome != "current":
            facts += [
                ("old container", self.old_id[:12]),
                ("new container", self.new_id[:12]),
                ("new container state", self.health),
            ]
        if self.exit_code is not None:
            facts.append(("exit code", str(self.exit_code)))
        if self.failed_name:
            facts.append(("failed container kept as", self.failed_name))
        facts += [("could not", problem) for problem in self.rollback_problems]
        facts += [(f"image default {c.field}", f"{c.old!r} -> {c.new!r}") for c in self.changes]
        return facts

    def body(self) -> str:
        return self.logs


def update_image(
    command: UpdateImage, client: docker.DockerClient, context: Context
) -> ImageUpdate:
    api = client.api
    try:
        old = inspect(api, "container", command.container)
    except docker.errors.NotFound:
        raise NoSuchObject(f"No such container: {command.container}") from None
    check_updatable(old)
    old_id = str(old["Id"])
    name = str(old["Name"]).lstrip("/")
    reference = str(old["Config"]["Image"])
    old_image = api.inspect_image(old["Image"])
    old_digests = registry_copies(old, old_image, command.container)
    pulled = pull_reference(client, reference, context)
    new_image = api.inspect_image(reference)
    result = ImageUpdate(
        container=name,
        image=reference,
        outcome="current",
        old_id=old_id,
        old_digest=old_digests[0] if old_digests else "",
        new_digest=pulled.digest
        or next(iter(pulled_digests(reference, new_image.get("RepoDigests") or [])), ""),
    )
    if new_image["Id"] == old["Image"]:
        return result  # the registry serves what it runs: nothing to do
    result.changes = inherited_changes(old, old_image, new_image)
    recreation = recreate_body(old, old_image)
    # The safety check sees every body before anything changes, as for a typed run.
    context.admit("container.create", recreation.body, name)
    for network, endpoint in recreation.connects.items():
        context.admit("network.connect", {"Container": name, "EndpointConfig": endpoint}, network)

    state = old.get("State") or {}
    was_running = bool(state.get("Running"))
    parked = f"{name}-old-{old_id[:12]}"
    api.rename(old_id, parked)
    new_id = ""
    try:
        new_id = result.new_id = create_from(api, recreation, name)
        if was_running:
            _say(context, name, "stopping the old container")
            api.stop(old_id, timeout=_stop_timeout(old))
    except Exception:
        _, problems = _restore(api, old_id, name, new_id, was_running, keep_new=False)
        for problem in problems:
            log.error("restoring %s after a failed update: could not %s", name, problem)
        raise
    if not was_running:
        # A stopped container stays stopped on its new image: nothing to prove.
        result.health = "created"
        result.outcome = "updated"
        _remove_old(api, old_id, parked, result)
        return result

    _say(context, name, "waiting for the new container")
    started = time.monotonic()
    try:
        api.start(new_id)
    except docker.errors.APIError as exc:  # a port taken, a mount gone: it never ran
        result.health, result.logs = "not-started", explain(exc)
    else:
        result.health, result.exit_code = wait_healthy(
            api, new_id, timeout=command.timeout, grace=command.grace, stop=context.detach
        )
    result.waited = round(time.monotonic() - started, 1)
    if result.health in ("healthy", "running"):
        result.outcome = "updated"
        _remove_old(api, old_id, parked, result)
        return result

    result.outcome = "rolled-back"
    result.logs = result.logs or _last_logs(api, new_id)
    result.failed_name, result.rollback_problems = _restore(
        api, old_id, name, new_id, was_running, keep_new=True, stop_timeout=_stop_timeout(old)
    )
    result.restored = _running_again(api, old_id)
    return result


def create_from(api: docker.APIClient, recreation: Recreation, name: str) -> str:
    """Create the container a Recreation describes (already admitted) under `name`, and
    connect it to its other networks. Returns its ID; a failed connect removes it again."""
    new_id = str(api.create_container_from_config(recreation.body, name=name)["Id"])
    try:
        for network, endpoint in recreation.connects.items():
            engine_request(
                api,
                "POST",
                "/networks/{}/connect",
                network,
                body={"Container": new_id, "EndpointConfig": endpoint},
            )
    except Exception:
        api.remove_container(new_id, force=True, v=False)
        raise
    return new_id


def _remove_old(api: docker.APIClient, old_id: str, parked: str, result: ImageUpdate) -> None:
    """The update stands: the old container goes (not its volumes: its anonymous ones now
    serve the new one). If the engine will not remove it, it stays, stopped, and is said."""
    try:
        api.remove_container(old_id, v=False)
    except docker.errors.APIError as exc:
        result.old_kept = parked
        result.rollback_problems.append(f"remove the old container {parked}: {explain(exc)}")


def _stop_timeout(container: dict[str, Any]) -> int:
    """What `docker stop` would give it: its --stop-timeout, or the engine's 10 s."""
    given = (container.get("Config") or {}).get("StopTimeout")
    return 10 if given is None else int(given)


def _say(context: Context, name: str, message: str) -> None:
    if context.progress is not None:
        context.progress(ProgressReport(action=f"Updating {name}", message=message))


def has_healthcheck(container: dict[str, Any]) -> bool:
    test = ((container.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def wait_healthy(
    api: docker.APIClient,
    container_id: str,
    *,
    timeout: float,
    grace: float,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[str, int | None]:
    """How the new container ends its trial. With a healthcheck: healthy, unhealthy, or
    timeout after `timeout` seconds. Without: running when it kept running (and did not
    restart) for `grace` seconds. Either way exited or restarting as soon as it does; and
    interrupted once `stop()` says so (a shutdown's grace is over: the known-good old
    container is the one to leave running)."""
    found = api.inspect_container(container_id)
    health = has_healthcheck(found)
    deadline = time.monotonic() + (timeout if health else grace)
    while True:
        state = found.get("State") or {}
        if state.get("Restarting") or int(found.get("RestartCount") or 0) > 0:
            return "restarting", state.get("ExitCode")
        if not state.get("Running"):
            return "exited", state.get("ExitCode")
        if health:
            status = (state.get("Health") or {}).get("Status")
            if status in ("healthy", "unhealthy"):
                return str(status), None
        if time.monotonic() >= deadline:
            return ("timeout" if health else "running"), None
        if stop():
            return "interrupted", None
        time.sleep(POLL_SECONDS)
        found = api.inspect_container(container_id)


def _last_logs(api: docker.APIClient, container_id: str) -> str:
    try:
        raw = api.logs(container_id, stdout=True, stderr=True, tail=LOG_LINES)
    except docker.errors.APIError:
        return ""
    return bytes(raw).decode("utf-8", "replace")


def _restore(
    api: docker.APIClient,
    old_id: str,
    name: str,
    new_id: str,
    was_running: bool,
    *,
    keep_new: bool,
    stop_timeout: int = 5,
) -> tuple[str, list[str]]:
    """Put the old container back under its name (and running, if it was). The new one is
    stopped and renamed aside (`keep_new`) or removed. Each step is tried even when one
    before it failed: a rollback that stops half-way still does what it can, and says what
    it could not do. Returns the name the new one keeps and the steps that failed."""
    kept = ""
    problems: list[str] = []

    def step(what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except docker.errors.APIError as exc:
            problems.append(f"{what}: {explain(exc)}")

    if new_id and keep_new:
        kept = f"{name}-failed-{new_id[:12]}"
        # It failed its trial: its own stop timeout when shorter, never the full 10 s.
        step("stop the new container", lambda: api.stop(new_id, timeout=min(5, stop_timeout)))
        step(f"rename the new container to {kept}", lambda: api.rename(new_id, kept))
    elif new_id:
        step("remove the new container", lambda: api.remove_container(new_id, force=True))
    step(f"rename the old container back to {name}", lambda: api.rename(old_id, name))
    if was_running:
        step("start the old container", lambda: api.start(old_id))
    return kept, problems


def _running_again(api: docker.APIClient, container_id: str) -> bool:
    deadline = time.monotonic() + RESTORE_WAIT
    while True:
        state = api.inspect_container(container_id).get("State") or {}
        if state.get("Running") and not state.get("Restarting"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
