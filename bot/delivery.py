"""One call to Slack: every Web API method and response_url post goes through `SlackCalls`,
which turns slack_sdk's answers and errors into an `Outcome` once, here, instead of a
`try/except SlackApiError` at every call site.

An outcome says whether the call worked, the message's ts, Slack's error code, and whether
trying again can help (429 with its Retry-After, 5xx, a connection refused or timed out)
or not (`not_in_channel`, `msg_too_long`: the same call will be refused again).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.metrics import Metrics

log = logging.getLogger("dockhand.delivery")

#: Slack error codes that say "later", not "never" (Web API docs, each method's Errors)
TRANSIENT = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "unreachable",
    }
)
#: seconds to wait on a 429 that names no Retry-After (Slack always sends one; a proxy may not)
DEFAULT_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class Outcome:
    """What one call to Slack came to."""

    ok: bool
    ts: str | None = None
    error: str = ""
    #: seconds Slack asked us to wait (429), or None
    retry_after: float | None = None
    status: int = 200
    data: Mapping[str, Any] | None = None

    @property
    def retryable(self) -> bool:
        return not self.ok and (
            self.retry_after is not None or self.status >= 500 or self.error in TRANSIENT
        )


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(raw)))
            except ValueError:
                return DEFAULT_RETRY_AFTER
    return None


def _method_of(api_method: str) -> str:
    return api_method.rsplit("/", 1)[-1] or "unknown"


class SlackCalls:
    """The Web API and response_url, each call made once: the caller (the outbox) decides
    whether and when to try again, so retries are counted and bounded in one place."""

    def __init__(self, client: WebClient, metrics: Metrics | None = None) -> None:
        # A client of our own without slack_sdk's retry handlers: a retry inside the call
        # would hide Retry-After from the outbox and could hold its thread for minutes.
        self.client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=min(client.timeout, 15),
            retry_handlers=[],
        )
        self.metrics = metrics

    def call(self, method: str, **arguments: Any) -> Outcome:
        """`method` is the Web API's name (chat.postMessage); arguments as slack_sdk takes them."""
        try:
            if method == "files.upload":
                answer: Any = self.client.files_upload_v2(**arguments)
            elif method.startswith(("chat.", "views.")):
                # Blocks and views are nested: JSON bodies, which these methods accept.
                answer = self.client.api_call(method, json=_drop_none(arguments))
            else:
                # Read methods (usergroups.list) may ignore JSON bodies: a form, as slack_sdk.
                answer = self.client.api_call(method, data=_drop_none(arguments))
            data = dict(answer.data) if isinstance(answer.data, dict) else {}
            ts = data.get("ts") or (data.get("message") or {}).get("ts")
            return Outcome(ok=True, ts=str(ts) if ts else None, data=data)
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error") or "") if isinstance(response.data, dict) else ""
            outcome = Outcome(
                ok=False,
                error=error or f"http_{response.status_code}",
                retry_after=_retry_after(response.headers) if response.status_code == 429 else None,
                status=int(response.status_code or 0),
            )
        except (OSError, SlackRequestError) as exc:  # refused, reset, timed out
            outcome = Outcome(ok=False, error="unreachable", status=0)
            log.info("%s: Slack unreachable (%s)", method, exc)
        self._count(method, outcome)
        return outcome

    def respond(self, url: str, payload: dict[str, Any]) -> Outcome:
        """A post to a slash command's or click's response_url (valid 30 minutes, 5 posts)."""
        try:
            answer = WebhookClient(url, timeout=15, retry_handlers=[]).send_dict(payload)
        except OSError as exc:
            outcome = Outcome(ok=False, error="unreachable", status=0)
            log.info("response_url unreachable (%s)", exc)
        else:
            status = int(answer.status_code)
            if status == 200:
                return Outcome(ok=True)
            body = str(answer.body or "")
            error = _webhook_error(body) or f"http_{status}"
            outcome = Outcome(
                ok=False,
                error=error,
                retry_after=_retry_after(answer.headers) if status == 429 else None,
                status=status,
            )
        self._count("response_url", outcome)
        return outcome

    def _count(self, method: str, outcome: Outcome) -> None:
        # Every failed answer is an error of its method (response_url included); a retry is
        # counted by whoever makes it (the outbox), once per retry.
        if self.metrics is not None:
            self.metrics.slack_errors.labels(method=_method_of(method)).inc()
        log.debug("%s answered %s (%s)", method, outcome.error, outcome.status)


def _webhook_error(body: str) -> str:
    import json

    try:
        parsed = json.loads(body)
    except ValueError:
        return body.strip()[:60]
    return str(parsed.get("error") or "") if isinstance(parsed, dict) else ""


def _drop_none(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if v is not None}
