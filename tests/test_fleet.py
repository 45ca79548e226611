"""Many engines from one pipeline, on the real rig: three engines (one behind TLS on a
loopback port, with a CA made here), `-H all` merged with a HOST column and checked against
the docker CLI per engine, an engine stopped mid-test as one error row, the TLS CA right and
wrong, `/docker hosts`, and a channel's default host kept in Redis."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from bot.fleet import CHANNEL_HOSTS
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from bot.reply import Reply
from bot.runtime import JobsHost, Runtime
from bot.terminal import stdout_text
from config.hosts import TLS, HostConfig
from config.settings import Settings
from handlers.engines import Engines
from handlers.fleet import FleetResult
from handlers.hosts import HostsResult
from jobs import context, tasks
from jobs.schedules import Schedules
from tests import ssh_host
from tests.rig import TEST_IMAGE, Engine, RedisServer, Rig, free_port
from tests.tls_ca import Material, dockerd_tls_args, make_ca

ME = Requester("cli", "cli", "cli")
FORMAT = "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.Status}}"


@dataclass
class Fleet:
    local: Engine
    plain: Engine
    secure: Engine
    material: Material
    port: int

    @property
    def tls_url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def tls(self, material: Material | None = None) -> HostConfig:
        used = material or self.material
        return HostConfig(
            url=self.tls_url, tls=TLS(ca=used.ca, cert=used.client_cert, key=used.client_key)
        )

    def hosts(self) -> dict[str, str | HostConfig]:
        return {"local": self.local.url, "plain": self.plain.url, "secure": self.tls()}

    def by_name(self) -> dict[str, Engine]:
        return {"local": self.local, "plain": self.plain, "secure": self.secure}


@pytest.fixture(scope="module")
def fleet(rig: Rig, engine: Engine) -> Iterator[Fleet]:
    material = make_ca(rig.root / "fleet-ca")
    port = free_port()
    plain = rig.engine("fleet-plain")
    secure = rig.engine("fleet-tls", extra_args=dockerd_tls_args(material, port))
    for each in (plain, secure):
        each.import_busybox(TEST_IMAGE)
    engine.create_containers(2, prefix="fleet-local-")
    plain.create_containers(3, prefix="fleet-plain-")
    secure.create_containers(4, prefix="fleet-secure-")
    yield Fleet(engine, plain, secure, material, port)
    for each in (engine, plain, secure):
        each.remove_all_containers()
    plain.stop()
    secure.stop()


def pipeline_for(hosts: dict[str, str | HostConfig], **kwargs: float) -> Pipeline:
    return Pipeline(Engines(hosts, timeout=10, **kwargs), Policy(None, admins=["U0ADMIN"]))


def rows_by_host(result: FleetResult) -> dict[str, list[list[str]]]:
    table = result.table()
    out: dict[str, list[list[str]]] = {}
    for row in table.rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def test_ps_all_is_each_engines_listing_under_a_host_column(fleet: Fleet) -> None:
    pipeline = pipeline_for(fleet.hosts())
    try:
        reply = pipeline.run(f"-H all ps -a --format '{FORMAT}'", ME)
        assert reply.ok, reply.text
        assert isinstance(reply.result, FleetResult)
        shown = rows_by_host(reply.result)
        assert list(shown) == ["local", "plain", "secure"]
        for name, engine in fleet.by_name().items():
            cli = engine.cli("ps", "-a", "--format", FORMAT).stdout.splitlines()
            assert [row[0] for row in shown[name]] == cli, name
        # The default table: the CLI's columns behind HOST, the CLI's IDs in its order.
        table = pipeline.run("-H all ps -a", ME)
        assert isinstance(table.result, FleetResult)
        grid = table.result.table()
        assert grid.columns[:3] == ["HOST", "CONTAINER ID", "IMAGE"]
        for name, engine in fleet.by_name().items():
            ids = engine.cli("ps", "-a", "-q").stdout.split()
            assert [row[0] for row in rows_by_host(table.result)[name]] == ids
        # The terminal prints one aligned table with its header; Slack gets it in blocks.
        text = stdout_text(table)
        assert text.splitlines()[0].split()[:3] == ["HOST", "CONTAINER", "ID"]
        assert "fleet-secure-3" in text and "fleet-plain-0" in text
        blocks = str(table.blocks)
        assert "HOST" in blocks and "secure" in blocks
    finally:
        pipeline.engines.close()


def test_a_glob_picks_hosts_and_other_reads_fan_out(fleet: Fleet) -> None:
    pipeline = pipeline_for(fleet.hosts())
    try:
        reply = pipeline.run("-H 's*' images -q", ME)
        assert isinstance(reply.result, FleetResult)
        assert [a.host for a in reply.result.answers] == ["secure"]
        version = pipeline.run("-H all version", ME)
        assert isinstance(version.result, FleetResult) and version.ok
        for name, engine in fleet.by_name().items():
            cli = engine.cli("version", "--format", "{{.Server.Version}}").stdout.strip()
            assert rows_by_host(version.result)[name][0][0] == cli
        info = pipeline.run("-H all info", ME)
        assert isinstance(info.result, FleetResult)
        for name, engine in fleet.by_name().items():
            count = engine.cli("info", "--format", "{{.Containers}}").stdout.strip()
            assert rows_by_host(info.result)[name][0][2] == count
        df = pipeline.run("-H all system df", ME)
        assert isinstance(df.result, FleetResult)
        assert {row[0] for row in df.result.table().rows} == {"local", "plain", "secure"}
        refused = pipeline.run("-H all rm -f x", ME)
        assert not refused.ok and "`-H all` is for reads" in refused.text
    finally:
        pipeline.engines.close()


def test_an_engine_stopped_mid_test_is_one_error_row(rig: Rig, fleet: Fleet) -> None:
    doomed = rig.engine("fleet-doomed")
    hosts = {**fleet.hosts(), "doomed": doomed.url}
    pipeline = pipeline_for(hosts)
    try:
        began = time.monotonic()
        first = pipeline.run("-H all ps -a -q", ME)
        all_up = time.monotonic() - began
        assert first.ok, first.text
        doomed.stop()
        began = time.monotonic()
        reply = pipeline.run("-H all ps -a -q", ME)
        one_down = time.monotonic() - began
        assert isinstance(reply.result, FleetResult)
        shown = rows_by_host(reply.result)
        assert shown["doomed"] == [[f"cannot reach Docker at doomed ({doomed.url})"]]
        for name, engine in fleet.by_name().items():
            assert [r[0] for r in shown[name]] == engine.cli("ps", "-a", "-q").stdout.split()
        assert not reply.ok  # the terminal's exit status says a host is missing
        assert reply.result.table().marks[-1] == "error"
        # The others answered in the same time: nobody waited for the dead engine.
        assert one_down < all_up + 1.0
        listing = pipeline.run("hosts", ME)
        assert isinstance(listing.result, HostsResult)
        states = {h.name: h.reachable for h in listing.result.hosts}
        assert states == {"local": True, "plain": True, "secure": True, "doomed": False}
    finally:
        pipeline.engines.close()
        doomed.stop()


def test_a_late_engine_is_answered_for_at_its_deadline(rig: Rig, fleet: Fleet) -> None:
    """An engine that accepts the connection and never answers (a listener nobody serves):
    its row says so at the fan-out deadline, the others are there."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hosts = {**fleet.hosts(), "silent": f"tcp://127.0.0.1:{port}"}
        pipeline = pipeline_for(hosts, fanout_timeout=1.0)
        try:
            began = time.monotonic()
            reply = pipeline.run("-H all ps -a -q", ME)
            spent = time.monotonic() - began
            assert isinstance(reply.result, FleetResult)
            shown = rows_by_host(reply.result)
            assert shown["silent"] == [["no answer within 1 s"]]
            assert set(shown) == {"local", "plain", "secure", "silent"}
            assert spent < 3.0
        finally:
            pipeline.engines.close()


def test_tls_with_the_right_ca_works_even_under_an_environment_bundle(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many ops hosts point requests at the system bundle; the host's own CA must still win.
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if bundle.exists():
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    pipeline = pipeline_for({"local": fleet.local.url, "secure": fleet.tls()})
    try:
        reply = pipeline.run("-H secure ps -a -q", ME)
        assert reply.ok, reply.text
        m = fleet.material
        cli = fleet.secure.cli(
            "--tlsverify",
            "--tlscacert",
            str(m.ca),
            "--tlscert",
            str(m.client_cert),
            "--tlskey",
            str(m.client_key),
            "-H",
            fleet.tls_url,
            "ps",
            "-a",
            "-q",
        )
        assert stdout_text(reply).split() == cli.stdout.split()
        listing = pipeline.run("hosts", ME)
        assert isinstance(listing.result, HostsResult)
        secure = next(h for h in listing.result.hosts if h.name == "secure")
        assert secure.reachable and secure.transport == "tcp+tls" and secure.latency_ms
    finally:
        pipeline.engines.close()


def test_tls_with_a_wrong_ca_is_refused_with_a_clear_message(rig: Rig, fleet: Fleet) -> None:
    stranger = make_ca(rig.root / "stranger-ca", name="not-the-engines-ca")
    wrong = HostConfig(
        url=fleet.tls_url,
        tls=TLS(ca=stranger.ca, cert=fleet.material.client_cert, key=fleet.material.client_key),
    )
    # The engine's CA but a client certificate it never signed: the engine refuses us.
    unknown = HostConfig(
        url=fleet.tls_url,
        tls=TLS(ca=fleet.material.ca, cert=stranger.client_cert, key=stranger.client_key),
    )
    pipeline = pipeline_for({"local": fleet.local.url, "wrong": wrong, "unknown": unknown})
    try:
        reply = pipeline.run("-H wrong ps", ME)
        assert not reply.ok
        assert reply.text.startswith(f"TLS handshake with Docker at wrong ({fleet.tls_url}) failed")
        assert "certificate verify failed" in reply.text
        assert "hosts file" in reply.text
        refused = pipeline.run("-H unknown ps", ME)
        assert not refused.ok
        assert refused.text.startswith("TLS handshake with Docker at unknown"), refused.text
        listing = pipeline.run("hosts", ME)
        assert isinstance(listing.result, HostsResult)
        rows = {h.name: h for h in listing.result.hosts}
        assert not rows["wrong"].reachable and "certificate verify failed" in rows["wrong"].error
        assert rows["local"].reachable
    finally:
        pipeline.engines.close()


def _ids(reply: Reply) -> list[str]:
    return stdout_text(reply).split()


def test_use_sets_the_channels_default_host_in_redis(
    fleet: Fleet, redis_server: RedisServer
) -> None:
    store = redis.Redis.from_url(redis_server.url)
    store.delete(CHANNEL_HOSTS)
    pipeline = pipeline_for(fleet.hosts())
    pipeline.store = store
    admin = Requester("U0ADMIN", "C0FLEET", "slack")
    viewer = Requester("U0VIEWER", "C0FLEET", "slack")
    try:
        denied = pipeline.run("use plain", viewer)
        assert not denied.ok and "may not run `host:use`" in denied.text
        said = pipeline.run("use plain", admin)
        assert said.ok, said.text
        assert store.hget(CHANNEL_HOSTS, "C0FLEET") == b"plain"
        plain_ids = fleet.plain.cli("ps", "-a", "-q").stdout.split()
        local_ids = fleet.local.cli("ps", "-a", "-q").stdout.split()
        reply = pipeline.run("ps -a -q", viewer)
        assert _ids(reply) == plain_ids
        assert "plain ·" in str(reply.blocks)  # the reply says which host answered
        assert _ids(pipeline.run("-H local ps -a -q", viewer)) == local_ids
        elsewhere = Requester("U0VIEWER", "C0OTHER", "slack")
        assert _ids(pipeline.run("ps -a -q", elsewhere)) == local_ids
        listing = pipeline.run("hosts", viewer)
        assert isinstance(listing.result, HostsResult)
        assert listing.result.channel_default == "plain"
        unknown = pipeline.run("use nowhere", admin)
        assert not unknown.ok and "unknown host `nowhere`" in unknown.text
        assert pipeline.run("use --unset", admin).ok
        assert store.hget(CHANNEL_HOSTS, "C0FLEET") is None
        assert _ids(pipeline.run("ps -a -q", viewer)) == local_ids
    finally:
        store.delete(CHANNEL_HOSTS)
        pipeline.engines.close()


# --- scheduled prunes and health checks over hosts --------------------------------------------


@dataclass
class Jobs:
    runtime: Runtime
    posted: list[tuple[str, Reply, str | None]]

    def schedule(self, text: str) -> str:
        made = self.runtime.pipeline.run(text, Requester("cli", "C0FLEET", "cli"))
        assert made.ok, made.text
        return made.text.split("(id ")[1].split(")")[0]


@contextmanager
def jobs_over(hosts: dict[str, str | HostConfig], server: RedisServer) -> Iterator[Jobs]:
    """A Dockhand in this process as `serve` wires it for jobs, scheduler paused: the test
    calls the job functions itself."""
    store = redis.Redis.from_url(server.url)
    for key in store.scan_iter("dockhand:*"):
        store.delete(key)
    schedules = Schedules(store, participate=False)
    pipeline = Pipeline(Engines(hosts, timeout=30), Policy(None), store=store, schedules=schedules)
    runtime = Runtime(Settings(_env_file=None), pipeline, store, schedules=schedules)  # type: ignore[call-arg]
    posted: list[tuple[str, Reply, str | None]] = []

    def notifier(channel: str, reply: Reply, thread_ts: str | None = None, *_: object) -> None:
        posted.append((channel, reply, thread_ts))

    runtime.notifier = notifier
    JobsHost(runtime).install()
    try:
        yield Jobs(runtime, posted)
    finally:
        context.install(None)
        for record in schedules.records():
            schedules.remove(record.id)
        runtime.close()


def test_a_scheduled_prune_over_all_hosts_reports_per_host_in_one_message(
    fleet: Fleet, redis_server: RedisServer
) -> None:
    for name, engine in fleet.by_name().items():
        for n in range(2):
            engine.cli("create", "-l", "fleet-prune=1", "--name", f"prune-{name}-{n}", TEST_IMAGE)
    kept = {}
    for name, engine in fleet.by_name().items():
        labelled = engine.cli("ps", "-a", "-q", "--filter", "label=fleet-prune").stdout.split()
        assert len(labelled) == 2
        everything = engine.cli("ps", "-a", "-q").stdout.split()
        kept[name] = [i for i in everything if i not in labelled]
    with jobs_over(fleet.hosts(), redis_server) as jobs:
        made = jobs.schedule(
            "schedule prune containers --filter label=fleet-prune --every 1h --host all"
        )
        tasks.prune(made)
        assert len(jobs.posted) == 1, [r.text for _, r, _ in jobs.posted]
        channel, reply, _ = jobs.posted[0]
        assert channel == "C0FLEET"
        assert isinstance(reply.result, FleetResult)
        assert [a.host for a in reply.result.answers] == ["local", "plain", "secure"]
        assert not any(a.error for a in reply.result.answers)
        for name, engine in fleet.by_name().items():
            left = engine.cli("ps", "-a", "-q", "--filter", "label=fleet-prune").stdout.split()
            assert left == [], name
            assert engine.cli("ps", "-a", "-q").stdout.split() == kept[name]
            assert f"{name}: " in reply.text  # each host's deleted IDs, said under its name
        refused = jobs.runtime.pipeline.run(
            "schedule prune containers --every 1h --host 'nomatch*'",
            Requester("cli", "C0FLEET", "cli"),
        )
        assert not refused.ok and "no configured host matches" in refused.text


def test_a_scheduled_health_check_over_hosts_says_what_changed_where(
    rig: Rig, fleet: Fleet, redis_server: RedisServer
) -> None:
    doomed = rig.engine("fleet-health-doomed")
    hosts = {"plain": fleet.plain.url, "secure": fleet.tls(), "doomed": doomed.url}
    with jobs_over(hosts, redis_server) as jobs:
        try:
            made = jobs.schedule("-H all schedule health --every 1m")  # -H, as typed reads take it
            tasks.health(made)  # the first pass: what is there now is the baseline
            jobs.posted.clear()
            fleet.plain.cli(
                "run", "-d", "-l", "dockhand.watch=true", "--name", "fleet-dies", TEST_IMAGE,
                "sh", "-c", "exit 3",
            )  # fmt: skip
            fleet.plain.cli("wait", "fleet-dies")
            doomed.stop()
            tasks.health(made)
            assert len(jobs.posted) == 1, [r.text for _, r, _ in jobs.posted]
            reply = jobs.posted[0][1]
            assert isinstance(reply.result, FleetResult)
            rows = {a.host: a for a in reply.result.answers}
            assert set(rows) == {"plain", "doomed"}  # secure had nothing new to say
            assert "cannot reach Docker at doomed" in rows["doomed"].error
            assert "plain: " in reply.text and "fleet-dies" in reply.text
            # Still down, nothing new: no message at all.
            jobs.posted.clear()
            tasks.health(made)
            assert jobs.posted == []
        finally:
            doomed.stop()
            fleet.plain.cli("rm", "-f", "fleet-dies", check=False)


# --- ssh:// -------------------------------------------------------------------------------------


def test_an_ssh_host_answers_like_the_others_and_a_wrong_host_key_is_refused(
    rig: Rig, fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not ssh_host.available():
        pytest.skip("openssh-server is not installed here (.ci/run installs it)")
    far = ssh_host.SSHHost(rig.root / "ssh", fleet.plain)
    far.start()
    # docker-py's ssh:// takes the key and known_hosts from ~/.ssh, as the docker CLI does.
    monkeypatch.setenv("HOME", str(far.home))
    pipeline = pipeline_for({"local": fleet.local.url, "far": HostConfig(url=far.url)})
    try:
        plain_ids = fleet.plain.cli("ps", "-a", "-q").stdout.split()
        assert _ids(pipeline.run("-H far ps -a -q", ME)) == plain_ids
        fan = pipeline.run("-H all ps -a -q", ME)
        assert isinstance(fan.result, FleetResult)
        assert [r[0] for r in rows_by_host(fan.result)["far"]] == plain_ids
        listing = pipeline.run("hosts", ME)
        assert isinstance(listing.result, HostsResult)
        shown = next(h for h in listing.result.hosts if h.name == "far")
        assert shown.reachable and shown.transport == "ssh" and shown.version
        pipeline.engines.close()
        # Another key under the host's name in known_hosts: a host that changed is refused.
        known = far.home / ".ssh" / "known_hosts"
        stranger = rig.root / "ssh-stranger"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)])
        kind, key = Path(f"{stranger}.pub").read_text().split()[:2]
        known.write_text(f"[127.0.0.1]:{far.port} {kind} {key}\n")
        refused = pipeline.run("-H far ps", ME)
        assert not refused.ok
        assert refused.text.startswith(f"SSH to Docker at far ({far.url}) failed"), refused.text
        assert "known_hosts" in refused.text
    finally:
        pipeline.engines.close()
        far.stop()


def test_events_over_a_window_are_the_clis_on_each_host(fleet: Fleet) -> None:
    since = f"{time.time():.3f}"
    for name, engine in fleet.by_name().items():
        engine.cli("create", "--name", f"events-{name}", "-l", "why=events", TEST_IMAGE)
        engine.cli("rm", f"events-{name}")
    time.sleep(0.05)
    until = f"{time.time():.3f}"
    window = ["--since", since, "--until", until, "--filter", "type=container"]
    pipeline = pipeline_for(fleet.hosts())
    try:
        text = " ".join(window)
        reply = pipeline.run(f"-H all events {text}", ME)
        assert isinstance(reply.result, FleetResult), reply.text
        shown = rows_by_host(reply.result)
        for name, engine in fleet.by_name().items():
            cli = engine.cli("events", *window).stdout.splitlines()
            assert len(cli) == 2  # create, destroy
            assert [row[0] for row in shown[name]] == cli, name
        single = pipeline.run(f"-H plain system events {text} --format json", ME)
        cli = fleet.plain.cli("events", *window, "--format", "json").stdout
        assert stdout_text(single) == cli
        template = "{{.Action}} {{.Actor.Attributes.name}} {{.Type}}"
        single = pipeline.run(f"-H plain events {text} --format '{template}'", ME)
        cli = fleet.plain.cli("events", *window, "--format", template).stdout
        assert stdout_text(single) == cli
    finally:
        pipeline.engines.close()


def test_healthz_asks_every_host_at_once_and_fails_only_for_required_ones(
    fleet: Fleet, redis_server: RedisServer
) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        late = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        hosts: dict[str, str | HostConfig] = {
            **fleet.hosts(),
            "late": HostConfig(url=late, required=False),
            "gone": HostConfig(url="unix:///nonexistent/gone.sock", required=False),
        }
        store = redis.Redis.from_url(redis_server.url)
        runtime = Runtime(
            Settings(_env_file=None),  # type: ignore[call-arg]
            Pipeline(Engines(hosts, timeout=30), Policy(None)),
            store,
        )
        try:
            began = time.monotonic()
            healthy, detail = runtime.health()
            assert time.monotonic() - began < 4.0  # the image's healthcheck allows 4 s
            assert healthy, detail
            engines = detail["engines"]
            assert engines["local"] == engines["plain"] == engines["secure"] == "ok"
            assert engines["late"] == "no answer within 3 s"
            assert engines["gone"].startswith("cannot reach Docker at gone")
            runtime.pipeline.engines = Engines(
                {**hosts, "gone": "unix:///nonexistent/gone.sock"}, timeout=30
            )
            healthy, detail = runtime.health()
            assert not healthy  # a required host is down
        finally:
            runtime.close()
