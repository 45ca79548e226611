"""Every syntax mistake is found while the command is prepared (inside Slack's ack), not by the
handler after it: Pipeline.prepare raises UsageError naming the bad token. No engine is asked:
the engines point at a socket that does not exist, so a check left in a handler could not
answer here (it would fail with a connection error instead, or not at all)."""

from __future__ import annotations

import pytest

from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from handlers.errors import UsageError

TERMINAL = Requester("U1", "C1", "cli")  # admin without a policy file: nothing is denied
NOWHERE = "unix:///nonexistent/dockhand-test.sock"


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    engines = Engines({"local": NOWHERE, "prod-1": NOWHERE, "prod-2": NOWHERE}, timeout=1)
    return Pipeline(engines, Policy(None))


# (command text, the token the error names, words the message must hold)
MISTAKES = [
    ("logs --tail ten web", "ten", 'invalid argument "ten" for "-n, --tail" flag: a number or'),
    ("logs --since yesterday web", "yesterday", 'invalid argument "yesterday" for "--since" flag'),
    ("logs --until 5 web", None, None),  # a unix time: fine
    ("logs --until soon web", "soon", 'invalid argument "soon" for "--until" flag'),
    ("events --since lately", "lately", 'invalid argument "lately" for "--since" flag'),
    ("events --until later", "later", 'invalid argument "later" for "--until" flag'),
    ("service logs --since then web", "then", 'invalid argument "then" for "--since" flag'),
    ("audit --since 2026-11-01", "2026-11-01", 'invalid argument "2026-11-01" for "--since"'),
    (
        "run -v /srv:/a -v ./data:/data busybox",
        "./data:/data",
        "a relative host path would be resolved on the bot's machine",
    ),
    ("run -v ../etc:/h busybox", "../etc:/h", "give an absolute path"),
    ("run -v ~/x:/x busybox", "~/x:/x", 'invalid argument "~/x:/x" for "-v, --volume" flag'),
    ("schedule prune images --every often", "often", 'invalid argument for "--every" flag'),
    ("schedule prune images --every 500ms", "500ms", "--every must be at least 1s"),
    ("schedule prune images --cron '61 * * * *'", "61 * * * *", 'for "--cron" flag'),
    ("schedule prune images --cron '0 3 * *'", "0 3 * *", 'for "--cron" flag'),
    (
        "schedule updates --every 6h --window 02:00-25:00",
        "02:00-25:00",
        'invalid argument "02:00-25:00" for "--window" flag: hours go from 00 to 23',
    ),
    ("mute web forever", "forever", 'invalid argument "forever" for "DURATION"'),
    ("mute web 10ms", "10ms", "mute for at least 1s"),
    ("pull -a busybox:1.36", "busybox:1.36", "tag can't be used with --all-tags/-a"),
    ("tag busybox busybox@sha256:abc", "busybox@sha256:abc", "refusing to create a tag with a"),
    ("-H staging ps", "staging", "unknown host `staging`; configured: `local`, `prod-1`"),
    ("--host=staging ps", "staging", "unknown host `staging`"),
    ("-H 'dev-*' ps", "dev-*", "no configured host matches `dev-*`"),
    ("schedule health --every 1h --host staging", "staging", "unknown host `staging`"),
    ("use staging", "staging", "unknown host `staging`"),
]


@pytest.mark.parametrize(("text", "token", "words"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_prepare_names_the_bad_token(
    pipeline: Pipeline, text: str, token: str | None, words: str | None
) -> None:
    if token is None:
        pipeline.prepare(text, TERMINAL)  # the good form of the same flag passes
        return
    with pytest.raises(UsageError) as caught:
        pipeline.prepare(text, TERMINAL)
    assert caught.value.token == token, caught.value.message
    assert words is not None and words in caught.value.message, caught.value.message
    assert caught.value.usage or text.startswith(("-H", "--host", "use", "schedule health"))


@pytest.mark.parametrize(
    "text",
    [
        "logs --tail 20 --since 42m --until 2026-11-28T10:00:00Z web",
        "logs --tail -1 web",
        "events --since 1h",
        "audit --since 1h",
        "run -v named:/data -v /anon busybox",  # (a bind of /srv: the safety check says no)
        "schedule prune images --every 6h",
        "schedule prune images --cron '0 3 * * *'",
        "schedule updates --every 6h --window 22:00-02:00",
        "mute web 30m",
        "pull -a busybox",
        "tag busybox busybox:old",
        "-H prod-1 ps",
        "-H all ps",
        "-H 'prod-*' ps",
        "schedule health --every 1h --host 'prod-*'",
        "use prod-2",
        "help",
    ],
)
def test_good_values_pass(pipeline: Pipeline, text: str) -> None:
    pipeline.prepare(text, TERMINAL)


def test_a_channels_default_host_is_not_judged_here() -> None:
    """Only a host the text names: `help` and the own verbs work where no host is `local`."""
    engines = Engines({"prod-1": NOWHERE}, timeout=1)
    Pipeline(engines, Policy(None)).prepare("help", TERMINAL)
    with pytest.raises(UsageError, match="unknown host `local`"):
        Pipeline(engines, Policy(None)).prepare("-H local ps", TERMINAL)
