"""`exec`: one command in a running container, without a terminal. The exec body goes through
the safety check (Context.admit "container.exec") exactly as it is sent; the output is
captured, and the wait for it is bounded (Context.attach_timeout, DOCKHAND_RUN_WAIT)."""

from __future__ import annotations

import threading
import time
from typing import Any

import docker
import requests

from handlers.commands import ExecContainer
from handlers.context import Context
from handlers.engine_api import engine_request, inspect
from handlers.results import Result

# What an exec's output may hold in memory: past this it is cut (the exit code still comes).
MAX_OUTPUT = 4 * 1024 * 1024


class ExecResult(Result):
    """What the command printed on each stream, and its exit code; or that it still runs
    after the wait (the engine has no way to stop one exec: it runs on inside)."""

    container: str
    command: list[str]
    exec_id: str = ""
    detached: bool = False
    exit_code: int | None = None
    still_running: bool = False
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    truncated: bool = False

    def summary(self) -> str:
        shown = " ".join(self.command)
        if self.detached:
            return f"started `{shown}` in {self.container}"
        if self.still_running:
            return f"`{shown}` in {self.container} is still running after {self.seconds:g} s"
        return f"`{shown}` in {self.container} exited with code {self.exit_code}"

    def body(self) -> str:
        # Chat shows both streams as one text, stdout first; the terminal keeps them apart.
        both = self.stdout + ("\n" if self.stdout and not self.stdout.endswith("\n") else "")
        return both + self.stderr

    def failed(self) -> bool:
        return bool(self.exit_code) or self.still_running


def exec_body(command: ExecContainer) -> dict[str, Any]:
    """POST /containers/{id}/exec as the CLI's parseExec fills it (no terminal, no stdin)."""
    attach = not command.detach
    return {
        "User": command.user or "",
        "Privileged": command.privileged,
        "Tty": False,
        "AttachStdin": False,
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Env": list(command.env),
        "WorkingDir": command.workdir or "",
        "Cmd": list(command.command),
    }


def exec_in_container(
    command: ExecContainer, client: docker.DockerClient, context: Context
) -> ExecResult:
    api = client.api
    # As the CLI: an inspect first, so "No such container" comes before anything else; then
    # the check and the create are about this very container (its full ID).
    container_id = str(inspect(api, "container", command.container)["Id"])
    body = exec_body(command)
    context.admit("container.exec", body, container_id)
    created = engine_request(api, "POST", "/containers/{}/exec", container_id, body=body)
    exec_id = str(created["Id"])
    result = ExecResult(container=command.container, command=command.command, exec_id=exec_id)
    if command.detach:
        api.exec_start(exec_id, detach=True)
        result.detached = True
        return result
    started = time.monotonic()
    ended = _read_output(api, result, context.attach_timeout)
    state = api.exec_inspect(exec_id)
    # The stream closes as the process ends; the engine records the exit a moment later.
    settle = time.monotonic() + 2
    while ended and state.get("Running") and time.monotonic() < settle:
        time.sleep(0.02)
        state = api.exec_inspect(exec_id)
    result.seconds = round(time.monotonic() - started, 2)
    if state.get("Running"):
        result.still_running = True
    else:
        result.exit_code = int(state.get("ExitCode") or 0)
    return result


def _read_output(api: docker.APIClient, result: ExecResult, wait: float) -> bool:
    """Both streams, demultiplexed, until the command ends or `wait` seconds pass; False
    when the wait ran out."""
    stream = api.exec_start(result.exec_id, stream=True, demux=True)
    out: list[bytes] = []
    err: list[bytes] = []
    kept = 0

    def read() -> None:
        nonlocal kept
        try:
            for stdout, stderr in stream:
                for chunk, into in ((stdout, out), (stderr, err)):
                    if chunk and kept < MAX_OUTPUT:
                        into.append(chunk[: MAX_OUTPUT - kept])
                        result.truncated = result.truncated or kept + len(chunk) > MAX_OUTPUT
                        kept += len(chunk)
        except (requests.exceptions.RequestException, OSError, ValueError):
            pass  # closed below when the wait is over

    reader = threading.Thread(target=read, daemon=True, name=f"exec-{result.exec_id[:12]}")
    reader.start()
    reader.join(timeout=wait)
    ended = not reader.is_alive()
    if not ended:
        stream.close()
        reader.join(timeout=5)
    result.stdout = b"".join(out).decode("utf-8", "replace")
    result.stderr = b"".join(err).decode("utf-8", "replace")
    return ended
