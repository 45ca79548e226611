"""The hosts file and the host-aware pieces that need no engine: settings checked at start
with one line naming the bad entry, policy bindings limited to hosts, fan-out selection and
the merged table, a channel's default host."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import fakeredis
import pytest

from bot import fleet
from bot.parser import parse
from bot.policy import Policy, Requester
from bot.scheduling import decide_on_hosts
from config import ConfigError, load_settings
from config.hosts import HostConfig, configured_hosts, load_hosts_file
from config.policy import load_policy
from handlers.engines import Engines
from handlers.errors import EngineUnreachable, NotAllowed, UsageError
from handlers.fleet import ERROR_MARK, FleetResult, fan_out, is_selector, select_hosts
from handlers.results import Table, TableResult
from jobs.authority import hosts_of, refusal
from jobs.schedules import ScheduleRecord


def _material(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for path in files.values():
        path.write_text("-----BEGIN CERTIFICATE-----\n")
    return files


def test_hosts_file_reads_tls_ssh_and_unix(tmp_path: Path) -> None:
    files = _material(tmp_path)
    path = tmp_path / "hosts.yml"
    path.write_text(
        "hosts:\n"
        "  prod:\n"
        "    url: tcp://10.0.0.5:2376\n"
        f"    tls: {{ca: {files['ca']}, cert: {files['cert']}, key: {files['key']}}}\n"
        "    timeout: 5\n"
        "  staging-1: {url: 'ssh://deploy@10.0.0.7', ssh_client: openssh}\n"
        "  build: {url: 'unix:///run/build.sock', description: builders}\n"
    )
    hosts = load_hosts_file(path)
    assert list(hosts) == ["prod", "staging-1", "build"]
    prod = hosts["prod"]
    assert prod.tls is not None and prod.tls.verify and prod.tls.ca == files["ca"]
    assert prod.scheme == "tcp+tls" and prod.timeout == 5
    assert hosts["staging-1"].ssh_client == "openssh"
    assert hosts["build"].scheme == "unix"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("bad: {url: 'ftp://x'}", r"line 2: host `bad`: url: .*must start with unix://"),
        ("bad: {url: 'unix:///x.sock', tls: {verify: true}}", r"host `bad`: tls is for tcp://"),
        ("bad: {url: 'tcp://x:2376', tls: {ca: /nonexistent/ca.pem}}", r"host `bad`: .*ca"),
        ("bad: {url: 'tcp://x:2376', tls: {cert: CERT}}", r"host `bad`: .*both cert and key"),
        ("bad: {url: 'ssh://10.0.0.7'}", r"host `bad`: .*ssh://user@host"),
        ("bad: {url: 'tcp://x:2376', colour: red}", r"host `bad`: colour: Extra inputs"),
        ("all: {url: 'tcp://x:2376'}", r"line 2: host name 'all'"),
        ("'web*': {url: 'tcp://x:2376'}", r"line 2: host name 'web\*'"),
    ],
)
def test_a_bad_entry_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, entry: str, says: str
) -> None:
    files = _material(tmp_path)
    path = tmp_path / "hosts.yml"
    path.write_text("hosts:\n  " + entry.replace("CERT", str(files["cert"])) + "\n")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_HOSTS_FILE: .*hosts.yml") as caught:
        load_hosts_file(path)
    message = str(caught.value)
    assert "\n" not in message
    assert pytest.importorskip("re").search(says, message), message


def test_settings_merge_docker_host_hosts_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text("hosts:\n  build: {url: 'unix:///run/build.sock'}\n")
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/a.sock")
    monkeypatch.setenv("DOCKHAND_HOSTS", '{"prod": "tcp://127.0.0.1:2376"}')
    monkeypatch.setenv("DOCKHAND_HOSTS_FILE", str(path))
    hosts = configured_hosts(load_settings())
    assert {name: h.url for name, h in hosts.items()} == {
        "local": "unix:///tmp/a.sock",
        "prod": "tcp://127.0.0.1:2376",
        "build": "unix:///run/build.sock",
    }
    path.write_text("hosts:\n  prod: {url: 'tcp://10.0.0.9:2376'}\n")
    with pytest.raises(ConfigError, match="host `prod` is also in DOCKHAND_HOSTS"):
        configured_hosts(load_settings())
    monkeypatch.setenv("DOCKHAND_HOSTS", '{"a b": "tcp://127.0.0.1:2376"}')
    monkeypatch.delenv("DOCKHAND_HOSTS_FILE")
    with pytest.raises(ConfigError, match=r"^DOCKHAND_HOSTS: host `a b`"):
        configured_hosts(load_settings())


def test_a_missing_hosts_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKHAND_HOSTS_FILE", "/nonexistent/hosts.yml")
    named = r"^DOCKHAND_HOSTS_FILE: cannot read /nonexistent/hosts\.yml: "
    with pytest.raises(ConfigError, match=named):
        configured_hosts(load_settings())


# --- policy bindings limited to hosts ------------------------------------------------------

OPERATOR = Requester("U0OPS", "C0OPS")
STRANGER = Requester("U0NEW", "C0NEW")


@pytest.fixture
def scoped(tmp_path: Path) -> Policy:
    path = tmp_path / "policy.yml"
    path.write_text(
        "default_role: viewer\n"
        "bindings:\n"
        "  - {role: operator, users: [U0OPS], hosts: ['staging*']}\n"
        "  - {role: admin, users: [U0OPS], hosts: [lab]}\n"
        "  - {role: viewer, users: [U0OPS]}\n"
    )
    return Policy(load_policy(path))


def test_a_binding_holds_only_on_its_hosts(scoped: Policy) -> None:
    assert scoped.decide("container:stop", OPERATOR, host="staging-1").allowed
    assert not scoped.decide("container:stop", OPERATOR, host="prod").allowed
    assert scoped.decide("container:ls", OPERATOR, host="prod").allowed
    assert scoped.is_admin(OPERATOR, host="lab")
    # No host named: only bindings that hold everywhere count (never more than that).
    assert scoped.roles_of(OPERATOR) == ("viewer",)
    assert not scoped.is_admin(OPERATOR)
    assert not scoped.decide("container:stop", STRANGER, host="staging-1").allowed


def test_authorize_judges_the_command_on_its_host(scoped: Policy) -> None:
    scoped.authorize(parse("-H staging-2 stop web"), OPERATOR)
    with pytest.raises(NotAllowed, match="may not run `container:stop`"):
        scoped.authorize(parse("-H prod stop web"), OPERATOR)


def test_a_policy_hosts_entry_must_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("bindings:\n  - {role: operator, users: [U0OPS], hosts: 3}\n")
    with pytest.raises(ConfigError, match="line 2"):
        load_policy(path)


# --- fan-out ---------------------------------------------------------------------------------


def _engines() -> Engines:
    urls = {n: f"unix:///nonexistent/{n}.sock" for n in ("local", "staging-1", "staging-2", "prod")}
    return Engines(urls, timeout=1)


def test_selectors() -> None:
    names = ["local", "staging-1", "staging-2", "prod"]
    assert is_selector("all") and is_selector("staging*") and not is_selector("prod")
    assert select_hosts("all", names) == names
    assert select_hosts("staging-?", names) == ["staging-1", "staging-2"]
    with pytest.raises(UsageError, match="no configured host matches `qa\\*`"):
        select_hosts("qa*", names)


def test_fleet_authorize_over_hosts(scoped: Policy) -> None:
    engines = _engines()
    command, decision = fleet.authorize(scoped, engines, parse("-H all ps -a"), OPERATOR)
    assert command.host == "all" and decision.allowed
    with pytest.raises(UsageError, match="`-H all` is for reads"):
        fleet.authorize(scoped, engines, parse("-H all stop web"), OPERATOR)
    nobody = Policy(scoped.document and scoped.document.model_copy(update={"default_role": None}))
    with pytest.raises(NotAllowed):
        fleet.authorize(nobody, engines, parse("-H 'staging*' ps"), STRANGER)


def test_fan_out_answers_for_a_late_host_without_waiting_for_it() -> None:
    release = threading.Event()

    def ask(host: str) -> TableResult:
        if host == "slow":
            release.wait(5)
        if host == "down":
            raise EngineUnreachable(host, "unix:///x.sock")
        return TableResult(title=host, grid=Table(columns=["NAME"], rows=[[f"{host}-web"]]))

    began = time.monotonic()
    answers = fan_out(["a", "slow", "down", "b"], ask, lambda host: 0.3)
    spent = time.monotonic() - began
    release.set()
    assert spent < 1.0
    assert [(a.host, a.error) for a in answers] == [
        ("a", ""),
        ("slow", "no answer within 0.3 s"),
        ("down", "cannot reach Docker at down (unix:///x.sock)"),
        ("b", ""),
    ]
    table = FleetResult(verb="container:ls", answers=answers).table()
    assert table.columns[0] == "HOST"
    assert [row[0] for row in table.rows] == ["a", "slow", "down", "b"]
    assert table.marks[1] == table.marks[2] == ERROR_MARK
    assert table.rows[0] == ["a", "a-web"]
    assert table.rows[2] == ["down", "cannot reach Docker at down (unix:///x.sock)"]


def test_channel_default_host_and_h_wins() -> None:
    store = fakeredis.FakeRedis()
    someone = Requester("U0OPS", "C0OPS")
    fleet.set_channel_default(store, "C0OPS", "prod")
    chosen = fleet.on_channel_host(parse("ps -a"), "ps -a", someone, store, slack=True)
    assert chosen.host == "prod"
    text = "-H local ps -a"
    assert fleet.on_channel_host(parse(text), text, someone, store, slack=True).host == "local"
    elsewhere = Requester("U0OPS", "C0ELSE")
    assert fleet.on_channel_host(parse("ps"), "ps", elsewhere, store, slack=True).host == "local"
    fleet.set_channel_default(store, "C0OPS", "")
    assert fleet.on_channel_host(parse("ps"), "ps", someone, store, slack=True).host == "local"


def test_engines_keep_host_configs() -> None:
    engines = Engines(
        {"local": "unix:///x.sock", "prod": HostConfig(url="tcp://10.0.0.5:2376", timeout=3)},
        timeout=30,
    )
    assert engines.url("prod") == "tcp://10.0.0.5:2376"
    assert engines.timeout_of("prod") == 3 and engines.timeout_of("local") == 30
    with pytest.raises(UsageError, match="unknown host `qa`"):
        engines.config("qa")


def test_a_schedule_over_hosts_is_judged_on_each_of_them(scoped: Policy) -> None:
    names = ["local", "staging-1", "staging-2", "prod"]
    record = ScheduleRecord(task="prune", command="-H 'staging*' image prune -f", user="U0OPS")
    record = record.model_copy(update={"host": "staging*"})
    assert hosts_of(record, names) == ["staging-1", "staging-2"]
    assert hosts_of(record, []) == [None]  # names unknown: only what holds everywhere
    owner = Requester("U0OPS", "C0OPS", "slack")
    assert refusal(scoped, record, owner, lambda text: "image:prune", names) is None
    everywhere = record.model_copy(update={"host": "all"})
    refused = refusal(scoped, everywhere, owner, lambda text: "image:prune", names)
    assert refused is not None and "on local" in refused.message
    assert decide_on_hosts(scoped, "image:prune", owner, "staging*", names).allowed
    assert not decide_on_hosts(scoped, "image:prune", owner, "all", names).allowed


def test_h_all_before_a_schedule_makes_a_schedule_over_hosts(scoped: Policy) -> None:
    command, decision = fleet.authorize(
        scoped, _engines(), parse("-H 'staging*' schedule prune images --every 1h"), OPERATOR
    )
    assert command.host == "staging*" and decision.allowed
