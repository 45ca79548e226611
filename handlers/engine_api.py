"""Engine API calls docker-py has no method for (NanoCpus and PidsLimit in update), made
through docker-py's own session so they share its transport, timeout and error types."""

from __future__ import annotations

from typing import Any

import docker
import docker.errors
import requests


def engine_request(
    api: docker.APIClient,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    extra_seconds: float = 0,
) -> Any:
    """One Engine API call; `extra_seconds` on top of the client's timeout for calls the
    engine itself takes time over (a restart waits for the container to stop)."""
    url = f"{api.base_url}/v{api.api_version}{path}"
    timeout = api.timeout + extra_seconds if api.timeout is not None else None
    response = api.request(method, url, json=body, params=params, timeout=timeout)
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        raise docker.errors.create_api_error_from_http_exception(exc) from exc
    return response.json() if response.content else None
