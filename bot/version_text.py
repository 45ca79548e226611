"""`docker version` as the CLI prints it (its defaultVersionTemplate through a tabwriter of
min width 20, padding 1). The Server part is the engine's and comes out byte for byte; the
Client part describes the client that asked, which here is Dockhand (docker-py), not the
docker CLI binary, so its values are Dockhand's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.results import EngineVersion
from handlers.template import align_columns


def ansic(stamp: str) -> str:
    """Go's reformatDate: an RFC 3339 time in time.ANSIC (`Thu May  7 21:09:36 2026`), in
    the time's own zone; anything else as it is."""
    text = stamp.strip()
    whole, dot, rest = text.partition(".")
    zone = rest.lstrip("0123456789") if dot else whole[19:]
    try:
        moment = datetime.fromisoformat(whole[:19] + (zone.replace("Z", "+00:00") or ""))
    except ValueError:
        return stamp
    if not zone:
        return stamp  # RFC 3339 needs a zone; Go's parse fails and keeps the text
    return f"{moment:%a %b} {moment.day:>2} {moment:%H:%M:%S %Y}"


def _engine(raw: dict[str, Any]) -> dict[str, Any]:
    """The Engine component, or one made from the top-level fields as the CLI does."""
    for component in raw.get("Components") or []:
        if component.get("Name") == "Engine":
            return dict(component)
    return {
        "Name": "Engine",
        "Version": raw.get("Version", ""),
        "Details": {
            "ApiVersion": raw.get("ApiVersion", ""),
            "MinAPIVersion": raw.get("MinAPIVersion", ""),
            "GitCommit": raw.get("GitCommit", ""),
            "GoVersion": raw.get("GoVersion", ""),
            "Os": raw.get("Os", ""),
            "Arch": raw.get("Arch", ""),
            "BuildTime": raw.get("BuildTime", ""),
            "Experimental": "true" if raw.get("Experimental") else "false",
        },
    }


def server_lines(raw: dict[str, Any]) -> list[str]:
    name = str((raw.get("Platform") or {}).get("Name") or "")
    lines = [f"Server:{' ' + name if name else ''}"]
    components = list(raw.get("Components") or [])
    if not any(c.get("Name") == "Engine" for c in components):
        components.append(_engine(raw))
    for component in components:
        details = {k: str(v) for k, v in (component.get("Details") or {}).items()}
        lines.append(f" {component.get('Name', '')}:")
        if component.get("Name") == "Engine":
            lines += [
                f"  Version:\t{component.get('Version', '')}",
                f"  API version:\t{details.get('ApiVersion', '')} "
                f"(minimum version {details.get('MinAPIVersion', '')})",
                f"  Go version:\t{details.get('GoVersion', '')}",
                f"  Git commit:\t{details.get('GitCommit', '')}",
                f"  Built:\t{ansic(details.get('BuildTime', ''))}",
                f"  OS/Arch:\t{details.get('Os', '')}/{details.get('Arch', '')}",
                f"  Experimental:\t{details.get('Experimental', '')}",
            ]
        else:
            lines.append(f"  Version:\t{component.get('Version', '')}")
            lines += [f"  {key}:\t{details[key]}" for key in sorted(details)]
    return lines


def version_text(result: EngineVersion) -> str:
    client = result.client
    lines = [
        "Client: Dockhand",
        f" Version:\t{client.get('Version', '')}",
        f" API version:\t{client.get('ApiVersion', '')}",
        f" docker-py:\t{client.get('docker-py', '')}",
        f" Python version:\t{client.get('Python', '')}",
        f" OS/Arch:\t{client.get('OS/Arch', '')}",
        f" Context:\t{client.get('Context', '')}",
    ]
    if result.server:
        lines += ["", *server_lines(result.server)]
    return "\n".join(align_columns(lines, min_width=20, padding=1)) + "\n"
