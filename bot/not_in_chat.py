"""Docker verbs that cannot work from chat, each with why and what to do instead; and the
did-you-mean over whole command paths (`contaner ls` -> `container ls`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from handlers.errors import UnknownCommand, UsageError

_NO_TERMINAL = (
    "it needs a terminal that stays connected, which chat does not have; use `logs --tail 100 "
    "NAME` for its output, or `exec NAME COMMAND` to run one command in it"
)
_NO_CONTEXT = (
    "it needs a build context (a directory of files) that chat cannot send; build in CI or on "
    "your machine, push to a registry, then `pull` the image here"
)
_NO_FILES = (
    "it copies files to or from your machine's filesystem, which chat cannot reach; read a small "
    "file with `exec NAME cat FILE`, or share files through a volume"
)
_NO_TAR_OUT = (
    "it writes a tar file on your machine, which chat cannot hold; `push` the image to a "
    "registry and `pull` it where you need it"
)
_NO_TAR_IN = (
    "it reads a tar file from your machine, which chat cannot send; push the image to a "
    "registry from where the file is, then `pull` it here"
)
_NO_EXPORT = (
    "it streams the container's whole filesystem as a tar file, which chat cannot carry; "
    "`diff NAME` shows what changed, `exec NAME cat FILE` reads one file"
)
_NO_COMMIT = (
    "an image made by hand from a running container cannot be rebuilt or reviewed; build it "
    "from a Dockerfile in CI, push it, and `pull` it here"
)
_NO_COMPOSE = (
    "it reads a project's compose files from your machine, which chat cannot reach; run "
    "`docker compose` where the files are, and here `ps --filter "
    "label=com.docker.compose.project=NAME` shows the project's containers"
)

#: command path -> why it is not in chat and what to do instead
NOT_IN_CHAT: dict[str, str] = {
    "attach": _NO_TERMINAL,
    "container attach": _NO_TERMINAL,
    "build": _NO_CONTEXT,
    "image build": _NO_CONTEXT,
    "builder": _NO_CONTEXT,
    "buildx": _NO_CONTEXT,
    "cp": _NO_FILES,
    "container cp": _NO_FILES,
    "save": _NO_TAR_OUT,
    "image save": _NO_TAR_OUT,
    "load": _NO_TAR_IN,
    "image load": _NO_TAR_IN,
    "import": _NO_TAR_IN,
    "image import": _NO_TAR_IN,
    "export": _NO_EXPORT,
    "container export": _NO_EXPORT,
    "commit": _NO_COMMIT,
    "container commit": _NO_COMMIT,
    "compose": _NO_COMPOSE,
}


class NotInChat(UnknownCommand):
    """A docker verb Dockhand does not run, with the reason: an unknown command to the
    terminal's exit status (1), said as a sentence rather than a did-you-mean."""

    def __init__(self, path: str, reason: str, usage: str = "") -> None:
        UsageError.__init__(
            self, f"`{path}` is not available in chat: {reason}", usage=usage, token=path
        )
        self.suggestions = []


def refuse_not_in_chat(words: Sequence[str], usage: str = "") -> None:
    """Raise NotInChat when the first one or two words name such a verb."""
    lowered = [w.lower() for w in words[:2]]
    for path in (" ".join(lowered), lowered[0] if lowered else ""):
        if path in NOT_IN_CHAT:
            raise NotInChat(path, NOT_IN_CHAT[path], usage=usage)


def suggest(
    words: Sequence[str], paths: Iterable[str], groups: Iterable[str]
) -> tuple[str, list[str]]:
    """What the user typed as a command (one word, or two when the best match is a two-word
    path) and the closest paths: a two-word path is compared with the first two words, a
    one-word path or a group with the first word alone."""
    first = words[0].lower() if words else ""
    pair = " ".join(words[:2]).lower() if len(words) > 1 else ""
    known_group = first in set(groups) and bool(pair)
    scored: list[tuple[float, str, str]] = []
    for path in {*paths, *groups}:
        typed = pair if " " in path else first
        if known_group and " " not in path:
            continue  # `container lss`: the group is right, the slip is in the second word
        if not typed:
            continue
        # The cheap upper bounds first, as difflib.get_close_matches does: a word of any
        # length may arrive here (and the redaction reads every command through this), and
        # ratio() alone is quadratic in it.
        matcher = difflib.SequenceMatcher(None, typed, path)
        if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
            continue
        ratio = matcher.ratio()
        if ratio >= 0.6:
            scored.append((ratio, path, typed))
    scored.sort(key=lambda found: (-found[0], found[1]))
    if not scored:
        return (words[0] if words else ""), []
    typed = " ".join(words[:2]) if " " in scored[0][1] else words[0]
    return typed, [path for _, path, _ in scored[:3]]
