"""Is a running container's image stale? The digest its image was pulled with, beside the one
its registry serves now for the same reference (the engine's distribution inspect, with the
requester's own login, and the policy's registry allow-list through Context.credentials).

Each reference is asked once per run however many containers use it, and a registry that
fails, refuses or rate-limits marks its own images, never the whole run. The new image's age
and default configuration come from its config blob, read from the registry directly (the
engine has no call for it); that is best effort: without it the age is unknown.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any, Literal

import docker
import docker.errors
import requests
from pydantic import BaseModel, Field

from handlers.commands import CheckUpdates, UpdateImage
from handlers.context import Context
from handlers.engine_api import inspect
from handlers.engines import explain
from handlers.errors import DockhandError, EngineError, NoSuchObject, UsageError
from handlers.preview import Preview, PreviewItem
from handlers.recreate import ConfigChange, inherited_changes
from handlers.registry import DOCKER_HUB, is_loopback, registry_of, split_reference
from handlers.results import Result, Table
from handlers.units import human_duration

#: the label a team sets on a container: notify (the default), auto, or off
UPDATE_LABEL = "dockhand.update"
UPDATE_MODES = ("notify", "auto", "off")
#: Dockhand's own containers (bot/safety.py's INTERNAL_LABEL; handlers do not import the bot):
#: recreating the bot from the bot would stop it half-way. Reported, never updated from chat.
OWN_LABEL = "dockhand.internal"
MANIFEST_LISTS = {
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
}
ACCEPT = ", ".join(
    [
        *sorted(MANIFEST_LISTS),
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
#: a config blob is a few kilobytes; anything much larger is not one
MAX_BLOB = 1 << 20
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_HEX_ID = re.compile(r"[0-9a-f]{12,64}")

State = Literal["stale", "current", "pinned", "local", "error", "refused"]


class ImageStatus(BaseModel):
    """One container's image: the facts of the check, no wording."""

    container: str
    name: str
    image: str
    state: State
    #: the digest the container's image was pulled with (empty: built or imported here)
    current: str = ""
    #: the digest the registry serves now for the same reference
    latest: str = ""
    #: when the image the registry serves now was made (epoch seconds), when known
    created: float | None = None
    #: why a check failed or was refused (the registry's or the engine's words)
    reason: str = ""
    #: the container's dockhand.update label: notify, auto or off; internal for Dockhand's own
    mode: str = "notify"


def short_digest(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _shown_reference(reference: str) -> str:
    """A pinned reference with its digest cut as the CLI cuts IDs: `redis@sha256:0123456789ab`."""
    repository, at, digest = reference.partition("@")
    return f"{repository}@sha256:{short_digest(digest)}" if at else reference


class UpdateCheck(Result):
    """`updates`: one row a container, stale ones first."""

    host: str = "local"
    images: list[ImageStatus] = Field(default_factory=list)
    checked_at: float = Field(default_factory=time.time)

    @property
    def stale(self) -> list[ImageStatus]:
        return [i for i in self.images if i.state == "stale"]

    @property
    def problems(self) -> list[ImageStatus]:
        return [i for i in self.images if i.state in ("error", "refused")]

    def table(self) -> Table:
        rows = []
        for status in self.images:
            age = (
                f"{human_duration(self.checked_at - status.created)} ago"
                if status.created is not None
                else ""
            )
            rows.append(
                [
                    status.name,
                    _shown_reference(status.image),
                    status.state if not status.reason else f"{status.state}: {status.reason}",
                    short_digest(status.current),
                    short_digest(status.latest) if status.state == "stale" else "",
                    age if status.state == "stale" else "",
                    status.mode,
                ]
            )
        return Table(
            columns=["CONTAINER", "IMAGE", "STATUS", "CURRENT", "NEW", "NEW IMAGE CREATED", "MODE"],
            rows=rows,
            marks=[
                {"stale": "unhealthy", "current": "running"}.get(s.state, "exited")
                for s in self.images
            ],
        )


# --- digests -------------------------------------------------------------------------------


def repository_name(reference: str) -> str:
    """A repository as the engine records it in RepoDigests: docker.io/library/ left out."""
    repository, _ = split_reference(reference)
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if repository.startswith(prefix) and registry_of(repository) == DOCKER_HUB:
            repository = repository.removeprefix(prefix)
            break
    return repository


def pulled_digests(reference: str, repo_digests: list[str]) -> list[str]:
    """The digests an image was pulled or pushed with, for `reference`'s repository."""
    wanted = repository_name(reference)
    return [
        digest
        for name, _, digest in (d.partition("@") for d in repo_digests)
        if repository_name(name) == wanted
    ]


def is_pinned(reference: str) -> bool:
    return "@sha256:" in reference


def is_image_id(reference: str, image_id: str) -> bool:
    """A container created from an image ID (or a tag that moved since) has no reference
    to ask a registry about."""
    bare = reference.removeprefix("sha256:")
    return bool(_HEX_ID.fullmatch(bare)) and image_id.removeprefix("sha256:").startswith(bare)


def update_mode(labels: dict[str, str] | None) -> str:
    if OWN_LABEL in (labels or {}):
        return "internal"
    value = str((labels or {}).get(UPDATE_LABEL, "notify")).strip().lower()
    return value if value in UPDATE_MODES else "notify"


def registry_digest(client: docker.DockerClient, reference: str, context: Context) -> str:
    """What the registry serves now for `reference` (a manifest list's digest for a
    multi-platform image, as a pull records it). Raises DockhandError, docker's errors."""
    auth = context.auth_config(registry_of(reference))
    answer = client.api.inspect_distribution(reference, auth_config=auth)
    return str((answer.get("Descriptor") or {}).get("digest") or "")


def _why(exc: Exception) -> tuple[State, str]:
    if isinstance(exc, DockhandError):
        kind: State = "refused" if type(exc).__name__ in ("Refusal", "NotAllowed") else "error"
        return kind, exc.message
    if isinstance(exc, docker.errors.APIError):
        text = explain(exc)
        if exc.status_code == 429 or "toomanyrequests" in text.lower():
            return "error", f"rate limited: {text}"
        return "error", text
    return "error", f"{type(exc).__name__}: {exc}"


def check_updates(
    command: CheckUpdates, client: docker.DockerClient, context: Context
) -> UpdateCheck:
    api = client.api
    # One request for the containers and one for every image's digests: no N+1 listing.
    found = api.containers(all=command.all, filters=command.filters or None)
    repo_digests = {i["Id"]: i.get("RepoDigests") or [] for i in api.images(all=False)}
    asked: dict[str, tuple[str, Exception | None]] = {}
    result = UpdateCheck(host=command.host)
    for raw in found:
        labels = raw.get("Labels") or {}
        mode = update_mode(labels)
        if mode == "off":
            continue
        image_id = raw.get("ImageID", "")
        reference = raw.get("Image", "")
        if is_image_id(reference, image_id):
            # The tag moved on since this container was made: its own Config says which.
            reference = (inspect(api, "container", raw["Id"]).get("Config") or {}).get(
                "Image", reference
            )
        status = ImageStatus(
            container=raw["Id"],
            name=((raw.get("Names") or ["/"])[0]).lstrip("/"),
            image=reference,
            state="current",
            mode=mode,
        )
        result.images.append(status)
        digests = pulled_digests(reference, repo_digests.get(image_id, []))
        status.current = digests[0] if digests else ""
        if is_pinned(reference):
            status.state = "pinned"
            status.current = reference.partition("@")[2]
            continue
        if is_image_id(reference, image_id):
            status.state, status.reason = "local", "created from an image ID"
            continue
        if not digests:
            # Nothing pulled to compare with, and its name may point at a registry it never
            # came from (an imported `busybox` would send the engine to Docker Hub).
            status.state, status.reason = "local", "built or imported here, never pulled"
            continue
        if reference not in asked:
            try:
                asked[reference] = (registry_digest(client, reference, context), None)
            except Exception as exc:  # one registry's trouble is its own images' only
                asked[reference] = ("", exc)
        latest, failure = asked[reference]
        if failure is not None:
            status.state, status.reason = _why(failure)
            continue
        status.latest = latest
        if latest and latest not in digests:
            status.state = "stale"
    created: dict[str, float | None] = {}
    for status in result.stale:
        if status.latest not in created:
            created[status.latest] = image_created(
                remote_image(status.image, status.latest, context, timeout=_timeout(api))
            )
        status.created = created[status.latest]
    order = {"stale": 0, "error": 1, "refused": 1, "local": 2, "pinned": 3, "current": 4}
    result.images.sort(key=lambda s: (order[s.state], s.name))
    return result


def _timeout(api: docker.APIClient) -> float:
    return float(api.timeout or 30)


# --- the registry's config blob ---------------------------------------------------------------


def image_created(blob: dict[str, Any] | None) -> float | None:
    """A config blob's `created` as epoch seconds (Go's RFC 3339 with nanoseconds)."""
    stamp = str((blob or {}).get("created") or "")
    if not stamp:
        return None
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(trimmed).timestamp()
    except ValueError:
        return None


def registry_base(reference: str) -> str:
    """The v2 API address of `reference`'s repository (Docker Hub's is registry-1)."""
    registry = registry_of(reference)
    repository, _ = split_reference(reference)
    path = repository.removeprefix(f"{registry}/")
    if registry == DOCKER_HUB:
        registry = "registry-1.docker.io"
        if "/" not in path:
            path = f"library/{path}"
    scheme = "http" if is_loopback(registry) else "https"
    return f"{scheme}://{registry}/v2/{path}"


class _Registry:
    """GETs against one registry with its login: basic auth, or the bearer token a 401's
    challenge points to. Redirects are followed once, to https only (blob stores)."""

    def __init__(self, auth: dict[str, str] | None, timeout: float) -> None:
        self.basic = (auth["username"], auth["password"]) if auth and auth.get("username") else None
        self.timeout = timeout
        self.token: str | None = None

    def get(self, url: str, accept: str = "") -> requests.Response:
        response = self._get(url, accept)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            if challenge.lower().startswith("bearer"):
                self.token = self._token(challenge)
            response = self._get(url, accept)
        if response.is_redirect and response.headers.get("Location", "").startswith("https://"):
            response = requests.get(
                response.headers["Location"], timeout=self.timeout, allow_redirects=False
            )
        if response.status_code >= 400:
            raise EngineError(f"registry answered {response.status_code} for {url}")
        return response

    def _get(self, url: str, accept: str) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        auth = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            auth = self.basic
        return requests.get(
            url, headers=headers, auth=auth, timeout=self.timeout, allow_redirects=False
        )

    def _token(self, challenge: str) -> str:
        fields = dict(_CHALLENGE.findall(challenge))
        realm = fields.pop("realm", "")
        if not realm.startswith(("https://", "http://127.", "http://localhost")):
            raise EngineError("registry token service is not https")
        answer = requests.get(realm, params=fields, auth=self.basic, timeout=self.timeout)
        answer.raise_for_status()
        data = answer.json()
        return str(data.get("token") or data.get("access_token") or "")


def _json(response: requests.Response) -> dict[str, Any]:
    if len(response.content) > MAX_BLOB:
        raise EngineError("registry answer too large for an image config")
    answer: dict[str, Any] = response.json()
    return answer


def remote_image(
    reference: str,
    digest: str,
    context: Context,
    *,
    timeout: float,
    platform: tuple[str, str] = ("linux", "amd64"),
) -> dict[str, Any] | None:
    """The config blob of the image `reference` names at `digest` (for a multi-platform
    image, `platform`'s), or None when the registry would not say."""
    try:
        session = _Registry(context.auth_config(registry_of(reference)), timeout)
        base = registry_base(reference)
        manifest = _json(session.get(f"{base}/manifests/{digest}", ACCEPT))
        if manifest.get("mediaType") in MANIFEST_LISTS or "manifests" in manifest:
            wanted = [
                m
                for m in manifest.get("manifests") or []
                if (m.get("platform") or {}).get("os") == platform[0]
                and (m.get("platform") or {}).get("architecture") == platform[1]
            ]
            if not wanted:
                return None
            manifest = _json(session.get(f"{base}/manifests/{wanted[0]['digest']}", ACCEPT))
        config_digest = (manifest.get("config") or {}).get("digest")
        if not config_digest:
            return None
        return _json(session.get(f"{base}/blobs/{config_digest}"))
    except (DockhandError, requests.RequestException, ValueError, KeyError):
        return None


def engine_platform(client: docker.DockerClient) -> tuple[str, str]:
    version = client.api.version()
    return str(version.get("Os") or "linux"), str(version.get("Arch") or "amd64")


# --- what an update would change -------------------------------------------------------------


class UpdatePreview(Preview):
    """What `update-image` would do: the digest it moves to and the image defaults that
    reach the container. No items when the registry serves what the container runs."""

    container: str = ""
    image: str = ""
    current: str = ""
    latest: str = ""
    created: float | None = None
    changes: list[ConfigChange] = Field(default_factory=list)
    #: False when the new image's config could not be read before the pull
    config_known: bool = True


def registry_copies(container: dict[str, Any], image: dict[str, Any], token: str) -> list[str]:
    """The digests the engine pulled the container's image reference at. None: it was built
    or imported here (or retagged), and there is no registry copy to update it from; its name
    may even point at a registry it never came from, so no registry is asked."""
    name = str(container.get("Name", "")).lstrip("/")
    reference = str((container.get("Config") or {}).get("Image", ""))
    digests = pulled_digests(reference, image.get("RepoDigests") or [])
    if not digests:
        raise UsageError(
            f"{name}'s image {reference} was built or imported here, never pulled: "
            "there is no registry copy to update it from",
            token=token,
        )
    return digests


def update_preview(
    command: UpdateImage, client: docker.DockerClient, context: Context
) -> UpdatePreview:
    api = client.api
    try:
        container = inspect(api, "container", command.container)
    except docker.errors.NotFound:
        raise NoSuchObject(f"No such container: {command.container}") from None
    reference = (container.get("Config") or {}).get("Image", "")
    name = str(container.get("Name", "")).lstrip("/")
    shown = UpdatePreview(verb=command.verb, container=name, image=reference)
    check_updatable(container)
    old_image = api.inspect_image(container["Image"])
    digests = registry_copies(container, old_image, command.container)
    shown.current = digests[0]
    shown.latest = registry_digest(client, reference, context)
    if shown.latest and shown.latest in digests:
        return shown
    shown.items.append(PreviewItem(kind="container", id=container["Id"], name=name))
    blob = remote_image(
        reference, shown.latest, context, timeout=_timeout(api), platform=engine_platform(client)
    )
    shown.config_known = blob is not None
    shown.created = image_created(blob)
    if blob is not None:
        shown.changes = inherited_changes(container, old_image, blob)
    return shown


def check_updatable(container: dict[str, Any]) -> None:
    """Refuse, before anything changes, what cannot be updated in place."""
    config = container.get("Config") or {}
    reference = str(config.get("Image", ""))
    name = str(container.get("Name", "")).lstrip("/")
    if is_pinned(reference):
        raise UsageError(
            f"{name} runs {reference}, pinned by digest: the registry cannot serve it anything"
            " newer. Recreate it with a new reference to move it",
            token=name,
        )
    if is_image_id(reference, str(container.get("Image", ""))):
        raise UsageError(
            f"{name} was created from an image ID, not a reference a registry serves", token=name
        )
    if OWN_LABEL in (config.get("Labels") or {}):
        raise UsageError(
            f"{name} is Dockhand's own (label {OWN_LABEL}): update it where it was deployed"
            " (docker compose pull && docker compose up -d), not from Dockhand itself",
            token=name,
        )
    if (container.get("State") or {}).get("Paused"):
        raise UsageError(f"{name} is paused: unpause it first, then update it", token=name)
    if (container.get("HostConfig") or {}).get("AutoRemove"):
        raise UsageError(
            f"{name} was started with --rm: stopping it would remove it, leaving nothing to"
            " roll back to",
            token=name,
        )
