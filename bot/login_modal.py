"""The registry login form: a modal with username and password (never typed in a channel),
and the login its submission carries. Slack Block Kit only; the pipeline does the login."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from handlers.context import RegistryAuth

LOGIN_VIEW = "dockhand.login"


def login_view(server: str, username: str | None, text: str, channel: str) -> View:
    """The form for `server`; the command's text and channel ride along in the view's
    private_metadata (Slack returns them with the submission)."""
    return View(
        type="modal",
        callback_id=LOGIN_VIEW,
        private_metadata=json.dumps({"t": text, "c": channel}),
        title=PlainTextObject(text="Registry login"),
        submit=PlainTextObject(text="Log in"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="username",
                label=PlainTextObject(text=f"Username for {server}"),
                element=PlainTextInputElement(action_id="value", initial_value=username or None),
            ),
            InputBlock(
                block_id="password",
                label=PlainTextObject(text="Password or token"),
                element=PlainTextInputElement(action_id="value"),
            ),
        ],
    )


def submitted(view: dict[str, Any]) -> tuple[str, str]:
    """The command's text and channel a submitted form carries."""
    meta = json.loads(view.get("private_metadata") or "{}")
    return str(meta.get("t", "login")), str(meta.get("c", ""))


def submitted_login(view: dict[str, Any], server: str) -> RegistryAuth:
    values = view["state"]["values"]
    return RegistryAuth(
        server=server,
        username=values["username"]["value"]["value"],
        password=SecretStr(values["password"]["value"]["value"]),
    )
