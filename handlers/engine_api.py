"""Engine API calls docker-py has no method for (NanoCpus and PidsLimit in update), made
through docker-py's own session so they share its transport, timeout and error types."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import docker
import docker.errors
import requests


def engine_request(
    api: docker.APIClient,
    method: str,
    template: str,
    *names: str,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    extra_seconds: float = 0,
) -> Any:
    """One Engine API call on `template` filled with `names`, each quoted whole: a name
    is one path segment, so `x/restart?y=` can never become another path or a query (the
    engine would act on `x` while a lookup of the whole name found nothing). `extra_seconds`
    go on top of the client's timeout for calls the engine itself takes time over."""
    path = template.format(*(quote(name, safe="") for name in names))
    url = f"{api.base_url}/v{api.api_version}{path}"
    timeout = api.timeout + extra_seconds if api.timeout is not None else None
    response = api.request(method, url, json=body, params=params, timeout=timeout)
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        raise docker.errors.create_api_error_from_http_exception(exc) from exc
    return response.json() if response.content else None


def inspect(api: docker.APIClient, kind: str, name: str) -> dict[str, Any]:
    """GET /{kind}s/{name}: a container, volume or network by name, ID or ID prefix, the
    name quoted whole. Raises docker.errors.NotFound when there is no such object."""
    found: dict[str, Any] = engine_request(
        api, "GET", f"/{kind}s/{{}}" + ("/json" if kind == "container" else ""), name
    )
    return found
