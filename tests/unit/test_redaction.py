"""Secrets by structure: every spelling of a secret is masked, in linear time; inspect hides
Env values from non-admins; the audit, the logs and dedupe keys never hold a secret."""

from __future__ import annotations

import logging
import shlex
import time

import fakeredis
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.audit import Audit
from bot.dedupe import Seen, command_key, interaction_key
from bot.logs import Redact, SeenSecrets
from bot.redaction import (
    ENV_MASK,
    MASK,
    SecretNames,
    redact_command,
    redact_result,
    redact_text,
    tokenize,
)
from handlers.commands import Inspect
from handlers.results import InspectResult

# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "DB_PW",
        "API_KEY",
        "MYSQL_ROOT_PASSWORD",
        "POSTGRES_PASSWORD",
        "password",
        "dbPassword",
        "GITHUB_TOKEN",
        "aws_secret_access_key",
        "SLACK_AUTH",
        "AUTHORIZATION",
        "APIKEY",
        "DBPW",
        "PWD",
        "splunk-token",
        "com.example.credentials",
        "NPM_TOKENS",
    ],
)
def test_secret_names(name: str) -> None:
    assert SecretNames()(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "TZ", "UPWARD", "NODE_ENV", "o", "addr"])
def test_plain_names(name: str) -> None:
    assert not SecretNames()(name)


def test_names_are_configurable() -> None:
    names = SecretNames("pin, otp")
    assert names("BANK_PIN") and names("otpSeed") and not names("DB_PASSWORD")
    assert redact_command("run -e BANK_PIN=1234 x", names) == f"run -e BANK_PIN={MASK} x"
    with pytest.raises(ValueError):
        SecretNames("pass|(.*)*")


# --- spellings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("login -u bob -p hunter22 reg.example.com", "login -u bob -p *** reg.example.com"),
        ("login -phunter22", "login -p***"),
        ("login -p=hunter22", "login -p=***"),
        ("login --password hunter22", "login --password ***"),
        ("login --password=hunter22", "login --password=***"),
        ("logn -p hunter22", "logn -p ***"),  # a typo is no reason to leak
        ("run -d -p 8080:80 -e DB_PW=hunter22 nginx", "run -d -p 8080:80 -e DB_PW=*** nginx"),
        ("run -dp80:80 -eDB_PW=hunter22 nginx", "run -dp80:80 -eDB_PW=*** nginx"),
        ("run -e 'MYSQL_ROOT_PASSWORD=a b c' nginx", "run -e MYSQL_ROOT_PASSWORD=*** nginx"),
        ('run -e "API_KEY=x,y" nginx', "run -e API_KEY=*** nginx"),
        ("run --env=API_KEY=zz nginx", "run --env=API_KEY=*** nginx"),
        ("run nginx mysql -phunter22", "run nginx mysql -p***"),
        ("run --log-opt splunk-token=abcd --name w n", "run --log-opt splunk-token=*** --name w n"),
        (
            "volume create -o o=addr=h,username=u,password=pp,vers=3 v",
            "volume create -o o=addr=h,username=u,password=*** v",
        ),
        ("pull https://bob:hunter22@reg.example.com/x", "pull https://bob:***@reg.example.com/x"),
        ("pull https://ghp_abc@github.com/x", "pull https://***@github.com/x"),
        ("-H ssh://root@host ps", "-H ssh://root@host ps"),
        ("-H tcp://u:pw12@host ps", "-H tcp://u:***@host ps"),
        ('run n sh -c "export DB_TOKEN=qq && go"', "run n sh -c 'export DB_TOKEN=***'"),
        ("ps xoxb-123-abc", "ps ***"),
        ("run -e PATH=/bin -e HOME=/root nginx", "run -e PATH=/bin -e HOME=/root nginx"),
        ('run -e "A=1 --password x', "run ***"),  # unreadable: all after the verb
        ("<http://u:p@h|http://u:p@h>", "http://u:***@h"),
    ],
)
def test_spellings(text: str, shown: str) -> None:
    assert redact_command(text) == shown


@given(st.text(alphabet=st.sampled_from(list("ab '\"\\=-x \t:/@"))))
def test_tokenize_agrees_with_shlex_and_never_raises(text: str) -> None:
    words, whole = tokenize(text)
    try:
        expected = shlex.split(text)
    except ValueError:
        assert not whole
    else:
        assert whole and words == expected


# --- the property: no spelling of a secret survives -----------------------------------------

NAMES = [
    "DB_PW",
    "API_KEY",
    "MYSQL_ROOT_PASSWORD",
    "token",
    "dbPassword",
    "GITHUB_TOKEN",
    "aws_secret_access_key",
    "AUTH",
    "PWD",
]
# Whole options (a flag and its value), so that no filler flag takes the secret as its value.
FILLER = [["-d"], ["--rm"], ["-it"], ["--name", "web"], ["-p", "8080:80"], ["-e", "A=1"]]
VERBS = ["login", "run", "create", "container run", "pull", "volume create", "logn", "ps", ""]


def _spellings(secret: str, name: str) -> list[list[str]]:
    """Every place a secret can sit, as shell words."""
    return [
        ["-p", secret],
        [f"-p{secret}"],
        [f"-p={secret}"],
        ["--password", secret],
        [f"--password={secret}"],
        ["-e", f"{name}={secret}"],
        [f"-e{name}={secret}"],
        ["--env", f"{name}={secret}"],
        [f"--env={name}={secret}"],
        ["--build-arg", f"{name}={secret}"],
        ["--log-opt", f"splunk-{name}={secret}"],
        ["-o", f"o=addr=h,{name}={secret}"],
        [f"--opt={name}={secret}"],
        ["sh", "-c", f"export {name}={secret}; run"],
        [f"{name}={secret}"],
        ["-H", f"tcp://user:{secret}@host:2376"],
        [f"https://user:{secret}@registry.example.com/x"],
        ["mysql", f"-p{secret}"],
    ]


_SECRET_CHARS = st.text(
    alphabet=st.sampled_from(list("abcXYZ019!%^*()_+-=:,. ;'\"")), min_size=0, max_size=12
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    verb=st.sampled_from(VERBS),
    before=st.lists(st.sampled_from(FILLER), max_size=4),
    after=st.lists(st.sampled_from(FILLER), max_size=4),
    core=_SECRET_CHARS,
    name=st.sampled_from(NAMES),
    where=st.integers(min_value=0, max_value=17),
    quoting=st.sampled_from(["shlex", "double", "raw"]),
    stray_quote=st.booleans(),
)
def test_no_spelling_of_a_secret_survives(
    verb: str,
    before: list[list[str]],
    after: list[list[str]],
    core: str,
    name: str,
    where: int,
    quoting: str,
    stray_quote: bool,
) -> None:
    if quoting == "raw" or "://" in _spellings("", name)[where][-1]:
        # Unquoted, a space ends the secret (the rest is another word); a URL has none.
        core = core.replace(" ", "").replace(";", "")
    secret = f"Sx9{core}Qz7"
    spelled = _spellings(secret, name)[where]
    if where <= 2 and verb in ("run", "create", "container run"):
        # -p before the image is --publish there; after it, the container's own -p.
        spelled = ["nginx", *spelled]
    words = [w for option in before for w in option] + spelled
    words += [w for option in after for w in option]
    if quoting == "shlex":
        typed = " ".join(shlex.quote(w) for w in words)
    elif quoting == "double":
        typed = " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words)
    else:
        typed = " ".join(words)  # the user's own quoting, maybe unbalanced
    text = f"{verb} {typed}" + (' "' if stray_quote else "")
    redacted = redact_command(text)
    # Neither end of the secret survives: no part of it is shown.
    assert "Sx9" not in redacted and "Qz7" not in redacted, (text, redacted)


# --- linear time -------------------------------------------------------------------------------

HOSTILE = [
    "-e " + "A" * 400_000 + "=x",
    "a=" * 200_000,
    "://" * 133_000 + "@",
    '"' + "x" * 400_000,
    "-p " * 133_000,
    "xoxb-" * 80_000,
    "\\" * 400_000,
    "a: " * 133_000,
    "-" * 400_000,
    "run -" + "d" * 400_000,
    "PASS" * 100_000 + "=x",
    " -p" + " " * 400_000 + "x",
    "login " + "--password=" * 36_000,
    "run " + "'a b' " * 66_000,
    "_=" + "_" * 400_000,
    "https://" + "a:" * 200_000 + "@h",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_redacts_in_well_under_a_second(text: str) -> None:
    # CPU time of this thread, not the wall clock: a loaded machine slows the clock, not the
    # work, and backtracking on these inputs would take minutes of CPU, not half a second.
    started = time.thread_time()
    redact_text(text)
    assert time.thread_time() - started < 0.5


# --- where redacted text goes ----------------------------------------------------------------


def test_audit_stores_and_mirrors_no_secret() -> None:
    audit = Audit(fakeredis.FakeRedis())
    mirrored: list[dict[str, str]] = []
    audit.mirror = mirrored.append
    audit.record(
        user="U1",
        channel="C1",
        host="local",
        text="run -e 'DB_PASSWORD=open sesame' -e DB_PW=hunter22 nginx",
        verb="container:run",
        decision="invalid",
        rule="usage",
        outcome='invalid argument "open sesame" and hunter22',
    )
    (entry,) = audit.query()
    assert "sesame" not in str(entry) and "hunter22" not in str(entry)
    assert entry.text == "run -e DB_PASSWORD=*** -e DB_PW=*** nginx"
    assert "sesame" not in str(mirrored) and "hunter22" not in str(mirrored)


def test_audit_cuts_a_huge_text() -> None:
    audit = Audit(fakeredis.FakeRedis())
    audit.record(
        user="U1",
        channel="C1",
        host="",
        text="ps " + "a" * 400_000,
        verb="",
        decision="invalid",
        rule="usage",
        outcome="x",
    )
    assert len(audit.query()[0].text) < 5000


def test_log_filter_masks_secrets_seen_in_commands() -> None:
    seen = SeenSecrets()
    seen.add(redact_text("run -e DB_PW=hunter22 -e TOKEN=ab nginx").secrets)
    record = logging.LogRecord("x", logging.DEBUG, "", 0, "body: %s", ("-e DB_PW=hunter22",), None)
    Redact([], seen).filter(record)
    assert record.getMessage() == "body: -e DB_PW=***"
    assert "ab" not in seen.current()  # too short to mask in every line


def test_dedupe_keys_are_hashes_never_text() -> None:
    body = {"user_id": "U1", "text": "login -phunter22", "team_id": "T1"}
    key = command_key(body)
    assert "hunter22" not in key and len(key) == 64
    assert command_key({**body, "trigger_id": "t1"}) != key


def _click(trigger: str = "t1", stamp: str = "1.1") -> dict[str, object]:
    return {
        "type": "block_actions",
        "user": {"id": "U1"},
        "trigger_id": trigger,
        "actions": [
            {
                "action_id": "dockhand.run:restart",
                "block_id": "b",
                "selected_option": {"value": "restart web"},
                "action_ts": stamp,
            }
        ],
    }


def test_interaction_keys() -> None:
    assert interaction_key(_click()) == interaction_key(_click())
    assert interaction_key(_click()) != interaction_key(_click(trigger="t2", stamp="1.2"))
    view = {"type": "view_submission", "user": {"id": "U1"}, "trigger_id": "t", "view": {"id": "V"}}
    assert interaction_key(view) is not None
    assert interaction_key({"type": "block_actions", "actions": [{}]}) is None
    assert interaction_key({"type": "shortcut"}) is None


def test_seen_in_redis_and_in_process() -> None:
    shared = Seen(fakeredis.FakeRedis())
    assert shared.first("k") and not shared.first("k")
    here = Seen(None, ttl=3600, capacity=2)
    assert here.first("a") and not here.first("a")
    here.first("b")
    here.first("c")  # over capacity: the oldest goes
    assert here.first("a")
    brief = Seen(None, ttl=0)
    assert brief.first("x") and brief.first("x")


def test_seen_falls_back_to_this_process_when_redis_fails() -> None:
    class Broken(fakeredis.FakeRedis):
        def set(self, *args: object, **kwargs: object) -> bool:  # type: ignore[override]
            raise redis.ConnectionError("down")

    seen = Seen(Broken())
    assert seen.first("k") and not seen.first("k")


# --- inspect ---------------------------------------------------------------------------------


def _inspected() -> InspectResult:
    return InspectResult(
        objects=[
            {
                "Id": "abc",
                "Config": {"Env": ["DB_PASSWORD=hunter22", "PATH=/bin", "EMPTY"], "Image": "x"},
            },
            {"Id": "net", "Name": "n"},
        ]
    )


def test_inspect_hides_env_values_from_non_admins() -> None:
    command = Inspect(names=["abc", "net"])
    shown = redact_result(_inspected(), command, admin=False)
    assert isinstance(shown, InspectResult)
    env = shown.objects[0]["Config"]["Env"]
    assert env == [f"DB_PASSWORD={ENV_MASK}", f"PATH={ENV_MASK}", "EMPTY"]
    assert "hunter22" not in shown.body()
    assert shown.objects[1] == {"Id": "net", "Name": "n"}


def test_inspect_format_is_rendered_over_what_the_viewer_may_see() -> None:
    command = Inspect(names=["abc"], format="{{json .Config.Env}}")
    result = _inspected()
    result = result.model_copy(update={"objects": result.objects[:1], "formatted": ["raw"]})
    shown = redact_result(result, command, admin=False)
    assert isinstance(shown, InspectResult) and shown.formatted is not None
    assert "hunter22" not in shown.formatted[0] and "DB_PASSWORD" in shown.formatted[0]


def test_admins_see_everything() -> None:
    result = _inspected()
    assert redact_result(result, Inspect(names=["abc"]), admin=True) is result
    assert "hunter22" in result.body()  # the original is left untouched for admins
