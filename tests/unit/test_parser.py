import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parser import SPECS, parse, usage_of
from handlers.commands import Help, ListContainers, ListImages, ShowInfo, ShowVersion
from handlers.errors import UnknownCommand, UsageError


@pytest.mark.parametrize("text", ["ps", "container ls", "container ps", "container list", "PS"])
def test_ps_aliases_are_one_command(text: str) -> None:
    assert parse(text) == ListContainers()


def test_ps_flags_long_short_and_combined() -> None:
    assert parse("ps -aq --filter status=exited -f name=web") == ListContainers(
        all=True, quiet=True, filters={"status": ["exited"], "name": ["web"]}
    )
    assert parse("ps --all=true --quiet=false -n 3 --no-trunc") == ListContainers(
        all=True, last=3, no_trunc=True
    )
    assert parse("ps --filter=status=running") == ListContainers(filters={"status": ["running"]})


def test_images_takes_repository_anywhere() -> None:
    assert parse("images nginx -a") == ListImages(all=True, repository="nginx")
    assert parse("image ls --digests -q") == ListImages(digests=True, quiet=True)


def test_version_info_and_host() -> None:
    assert parse("version") == ShowVersion()
    assert parse("system info") == ShowInfo()
    assert parse("-H prod info") == ShowInfo(host="prod")
    assert parse("--host=prod ps") == ListContainers(host="prod")


def test_help_forms() -> None:
    assert parse("") == Help()
    assert parse("help") == Help()
    assert parse("help ps") == Help(topic="ps")
    assert parse("ps --help") == Help(topic="container ls")
    assert parse("image") == Help(topic="image")


def test_unknown_command_suggests() -> None:
    with pytest.raises(UnknownCommand) as caught:
        parse("pss -a")
    assert caught.value.token == "pss"
    assert caught.value.suggestions[0] == "ps"
    assert "Did you mean `ps`?" in caught.value.message


def test_unknown_subcommand_suggests_within_group() -> None:
    with pytest.raises(UnknownCommand) as caught:
        parse("container lss")
    assert caught.value.suggestions[0] == "container ls"


@pytest.mark.parametrize(
    ("text", "token", "message"),
    [
        ("ps --bogus", "--bogus", "unrecognized arguments"),
        ("ps -n many", "many", "invalid int value"),
        ("ps -f nokey", "nokey", "bad format of filter"),
        ("ps --all=maybe", "--all=maybe", "expected true or false"),
        ("-X ps", "-X", "unknown flag"),
        ("-H", "-H", "flag needs an argument"),
    ],
)
def test_usage_errors_name_the_token_and_carry_usage(text: str, token: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.token == token
    assert message in caught.value.message
    assert caught.value.usage.startswith(("usage: /docker", "/docker"))


def test_no_abbreviations_like_pflag() -> None:
    with pytest.raises(UsageError):
        parse("ps --al")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.path)
def test_help_is_generated_from_each_parser(spec) -> None:  # type: ignore[no-untyped-def]
    text = usage_of(spec.path)
    assert f"/docker {spec.path}" in text
    for action in spec.parser()._actions:
        for option in action.option_strings:
            assert option in text


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_parses_or_raises_usage_error(text: str) -> None:
    with contextlib.suppress(UsageError):
        parse(text)


RUN_WORDS = [
    "run",
    "create",
    "-d",
    "--rm",
    "-p",
    "8080:80",
    "-p",
    "80/udp",
    "-m",
    "64m",
    "-m",
    "1x",
    "--cpus",
    "0.5",
    "--cpus",
    "nan",
    "--restart",
    "on-failure:3",
    "--restart",
    "always:2",
    "-e",
    "A=1",
    "-e",
    "A",
    "-v",
    "/x:/y:ro",
    "--mount",
    "type=bind,src=/a",
    "--health-interval",
    "1m30s",
    "--health-interval",
    "-1s",
    "--no-healthcheck",
    "--health-cmd",
    "true",
    "--add-host",
    "h:1.2.3.4",
    "--add-host",
    "h",
    "--dns",
    "x",
    "--mac-address",
    "zz",
    "--expose",
    "7000-6000",
    "-it",
    "--cidfile",
    "f",
    "busybox",
    "sh",
    "-c",
    "echo",
    "—rm",
    "--privileged=maybe",
    "--pids-limit",
    "many",
    "--",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(RUN_WORDS), max_size=12))
def test_run_flags_parse_or_raise_usage_error(words: list[str]) -> None:
    with contextlib.suppress(UsageError):
        parse(" ".join(words))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "ps",
                "images",
                "-a",
                "-q",
                "--filter",
                "x=y",
                "-n",
                "3",
                "—all",
                "“",
                "--no-trunc",
                "-H",
                "local",
                "=",
                "--all=",
                "image",
                "ls",
            ]
        ),
        max_size=8,
    )
)
def test_command_like_text_parses_or_raises_usage_error(words: list[str]) -> None:
    with contextlib.suppress(UsageError):
        parse(" ".join(words))


def test_env_keeps_one_entry_per_name_the_last_given() -> None:
    command = parse("run -e A=1 -e B=2 -e A=3 -e C= busybox")
    assert command.env == ["A=3", "B=2", "C="]  # type: ignore[attr-defined]


def test_a_bad_value_among_many_is_the_one_named() -> None:
    with pytest.raises(UsageError) as caught:
        parse("run -p 80:80 -p 1.2.3:81:81 busybox")
    assert caught.value.token == "1.2.3:81:81"
    assert 'invalid argument "1.2.3:81:81" for "-p, --publish" flag' in str(caught.value)


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        ("--network web --net web", 'network "web" is specified multiple times'),
        ("--network web --network host", "cannot attach both user-defined"),
        ("--network web --network db", "network connect"),
    ],
)
def test_network_given_twice_is_refused_as_the_cli_does(networks: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(f"run {networks} busybox")
    assert parse("run --net web busybox").network == "web"  # type: ignore[attr-defined]


def test_values_may_start_with_a_dash_and_a_digit_as_pflag_allows() -> None:
    assert parse("logs --since -1h web").since == "-1h"  # type: ignore[attr-defined]
    assert parse("stop -t -1 web").time == -1  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match=r"unknown shorthand flag|unrecognized"):
        parse("logs -x web")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.path)
def test_every_verb_help_before_its_required_arguments(spec) -> None:  # type: ignore[no-untyped-def]
    # cobra prints the help of `run --help` although IMAGE is missing: so do we, everywhere.
    for name in (spec.path, *spec.aliases):
        assert parse(f"{name} --help") == Help(topic=spec.path)
        assert parse(f"help {name}") == Help(topic=name)
        if "-h" not in spec.parser()._option_string_actions:
            assert parse(f"{name} -h") == Help(topic=spec.path)


def test_help_among_flags_and_after_a_positional() -> None:
    assert parse("run --name web -p 8080:80 --help") == Help(topic="container run")
    assert parse("run -itp 80 --help") == Help(topic="container run")
    assert parse("-H prod pull --help") == Help(host="prod", topic="image pull")
    assert parse("image --help") == Help(topic="image")
    # `run IMAGE CMD --help`: the flag is the container command's, as docker reads it.
    assert not isinstance(parse("run alpine ls --help"), Help)
    with pytest.raises(UsageError):
        parse("run -h")  # run's -h is --hostname and needs a value, as in docker


def test_every_docker_create_flag_is_supported_or_refused_with_a_reason() -> None:
    """Each flag `docker create --help` lists (the installed CLI) is read by Dockhand's
    create parser, as a flag or as a refusal that says why; none is simply unknown."""
    import re
    import shutil
    import subprocess

    from bot.specs import SPECS

    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI installed")
    listed = subprocess.run(
        [docker, "create", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", listed, re.MULTILINE)) - {"--help"}
    assert len(flags) > 80, "the help text no longer lists the flags"
    spec = next(s for s in SPECS if s.path == "container create")
    known = set(spec.parser()._option_string_actions)
    assert not sorted(flags - known), f"flags neither supported nor refused: {flags - known}"
