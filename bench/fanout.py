"""`ps -a -H all` over three engines with 100 containers each (two on unix sockets, one
behind TLS on a loopback port), beside the slowest single engine's `ps -a` in the same run;
and what each way of reaching an engine costs a request (unix socket, TLS over tcp, and a
hop through a Redis queue to a worker beside the engine), the figures behind the decision on
workers (docs/fleet-workers.md).

Prints the figures and writes them to docs/bench-fanout.md. Run: python3 bench/fanout.py
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from bench.common import publish
from bot.parser import parse
from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from config.hosts import TLS, HostConfig
from handlers.engines import Engines, connect
from handlers.fleet import FleetResult
from tests import ssh_host
from tests.rig import TEST_IMAGE, Engine, Rig, free_port
from tests.tls_ca import dockerd_tls_args, make_ca

CONTAINERS = 100
ROUNDS = 21
ME = Requester("bench", "bench", "cli")
#: one-way delay of the "engines on their own machines" condition: a 10 ms round trip, as
#: to another site over a VPN
DELAY = 0.005


def sample(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def main() -> int:
    load = os.getloadavg()
    rig = Rig()
    proxies: multiprocessing.Process | None = None
    try:
        material = make_ca(rig.root / "ca")
        port = free_port()
        engines = {
            "a": rig.engine("a"),
            "b": rig.engine("b"),
            "c": rig.engine("c", extra_args=dockerd_tls_args(material, port)),
        }
        for name, engine in engines.items():
            engine.import_busybox(TEST_IMAGE)
            engine.create_containers(CONTAINERS, prefix=f"{name}-")
        tls = TLS(ca=material.ca, cert=material.client_cert, key=material.client_key)
        hosts: dict[str, str | HostConfig] = {
            "a": engines["a"].url,
            "b": engines["b"].url,
            "c": HostConfig(url=f"tcp://127.0.0.1:{port}", tls=tls),
        }
        cpu = engine_cpu(engines, hosts)
        near = measure(hosts)
        # The same engines behind a proxy (its own process) that holds every chunk DELAY
        # seconds each way: engines on other machines, where the round trip, not this
        # machine's two shared cores, is what a fan-out waits for.
        ports = {name: free_port() for name in hosts}
        upstreams = {
            "a": ("unix", str(engines["a"].socket)),
            "b": ("unix", str(engines["b"].socket)),
            "c": ("tcp", f"127.0.0.1:{port}"),
        }
        proxies = multiprocessing.Process(
            target=run_proxies,
            args=({ports[n]: upstreams[n] for n in hosts}, DELAY),
            daemon=True,
        )
        proxies.start()
        time.sleep(0.5)
        far_hosts: dict[str, str | HostConfig] = {
            "a": f"tcp://127.0.0.1:{ports['a']}",
            "b": f"tcp://127.0.0.1:{ports['b']}",
            "c": HostConfig(url=f"tcp://127.0.0.1:{ports['c']}", tls=tls),
        }
        far = measure(far_hosts)
        transport = transports(rig, Engines(hosts, timeout=30), engines["a"])
        lines = [
            "# Fan-out `ps -a -H all`",
            "",
            f"Three private engines with {CONTAINERS} containers each on this machine "
            "(2 cores, shared by the engines, the bench and anything else running): `a` and "
            "`b` on unix sockets, `c` behind TLS on a loopback port. Median of "
            f"{ROUNDS} interleaved rounds through the pipeline's execute (a parsed command "
            "in, the result model out). Written by `python3 bench/fanout.py`; load average "
            f"{load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.",
            "",
            *table("Engines on this machine", near),
            "Why the target cannot be shown on this machine: one `ps -a` of 100 containers "
            f"costs its dockerd {cpu['engine']:.1f} ms of CPU and the client "
            f"{cpu['client']:.1f} ms (measured from /proc over {cpu['requests']} requests). "
            "Three engines answering at once need "
            f"{3 * (cpu['engine'] + cpu['client']):.1f} ms of CPU, at least "
            f"{3 * (cpu['engine'] + cpu['client']) / 2:.1f} ms of wall time on two cores, "
            "against one engine's "
            f"{cpu['engine'] + cpu['client']:.1f} ms: the engines share the cores that "
            "separate hosts would not. The bare docker-py rows (no Dockhand) show the same "
            "floor; what Dockhand adds on top is the fan-out / bare ratio.",
            "",
            *table(
                f"Engines behind a {DELAY * 2000:.0f} ms round trip (a proxy process holds "
                "each chunk each way)",
                far,
            ),
            "The proxy, the engines and the bench still share the same two cores here, so "
            "this condition is CPU-bound too; it shows the round trip overlapping (three "
            "hosts cost one round trip, not three), not what separate machines would give.",
            "",
            "## What reaching an engine costs a request",
            "",
            "One `GET /_ping` and one `ps -a` (100 containers) per way, median of "
            f"{transport['rounds']} interleaved rounds after warm-up, connections kept open "
            "(a TLS or SSH handshake is paid once per pooled connection). The worker row is "
            "a bare Redis list hop "
            "(RPUSH the job, a thread beside the engine BLPOPs it, runs the request on the "
            "unix socket, RPUSHes the answer, the caller BLPOPs it): the least any queue "
            "library adds, before its own bookkeeping.",
            "",
            "| way | ping ms | ps -a ms | new connection ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        ways = transport["ways"]
        assert isinstance(ways, dict)
        for way, (ping, listing, fresh) in ways.items():
            made = f"{fresh:.1f}" if fresh is not None else "(held by the worker)"
            lines.append(f"| {way} | {ping:.2f} | {listing:.2f} | {made} |")
        lines.append("")
        publish("bench-fanout.md", "\n".join(lines))
        return 0
    finally:
        if proxies is not None:
            proxies.terminate()
            proxies.join(5)
        rig.stop()


def engine_cpu(engines: dict[str, Engine], hosts: dict[str, str | HostConfig]) -> dict[str, float]:
    """CPU time one `ps -a` costs the engine (its dockerd's utime+stime from /proc) and this
    process, per request, one request at a time."""
    requests = 60
    api = Engines({"a": engines["a"].url}, timeout=30).client("a").api
    api.containers(all=True)
    process = engines["a"].process
    assert process is not None

    def engine_seconds() -> float:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    engine_before, client_before = engine_seconds(), time.process_time()
    for _ in range(requests):
        api.containers(all=True)
    engine_ms = (engine_seconds() - engine_before) / requests * 1000
    client_ms = (time.process_time() - client_before) / requests * 1000
    api.close()
    return {"engine": engine_ms, "client": client_ms, "requests": requests}


def measure(hosts: dict[str, str | HostConfig]) -> dict[str, object]:
    """Fan-out and each single host, interleaved; and the same requests made with bare
    docker-py (no Dockhand), one host and all three at once: the floor this machine sets."""
    pipeline = Pipeline(Engines(hosts, timeout=30), Policy(None))
    fleet = parse("-H all ps -a")
    singles = {name: parse(f"-H {name} ps -a") for name in hosts}
    merged = pipeline.execute(fleet, requester=ME)
    assert isinstance(merged, FleetResult)
    assert len(merged.table().rows) == 3 * CONTAINERS, merged.summary()
    apis = {name: pipeline.engines.client(name).api for name in hosts}
    pool = ThreadPoolExecutor(len(apis))
    for command in singles.values():  # warm every client and pool
        pipeline.execute(command, requester=ME)
    fanout: list[float] = []
    fanout_table: list[float] = []
    single: dict[str, list[float]] = {name: [] for name in hosts}
    bare_one: dict[str, list[float]] = {name: [] for name in hosts}
    bare_all: list[float] = []
    for _ in range(ROUNDS):
        fanout.append(sample(lambda: pipeline.execute(fleet, requester=ME)))
        fanout_table.append(sample(lambda: pipeline.execute(fleet, requester=ME).table()))
        for name, command in singles.items():
            single[name].append(sample(lambda c=command: pipeline.execute(c, requester=ME)))
            bare_one[name].append(sample(lambda a=apis[name]: a.containers(all=True)))
        bare_all.append(
            sample(lambda: list(pool.map(lambda a: a.containers(all=True), apis.values())))
        )
    pool.shutdown()
    pipeline.engines.close()
    medians = {name: statistics.median(s) for name, s in single.items()}
    slowest = max(medians, key=lambda n: medians[n])
    bare_slowest = max(statistics.median(s) for s in bare_one.values())
    return {
        "single": single,
        "fanout": fanout,
        "fanout_table": fanout_table,
        "slowest": slowest,
        "ratio": statistics.median(fanout) / medians[slowest],
        "bare_slowest": bare_slowest,
        "bare_all": statistics.median(bare_all),
    }


def table(title: str, m: dict[str, object]) -> list[str]:
    single = m["single"]
    assert isinstance(single, dict)
    fanout, fanout_table = m["fanout"], m["fanout_table"]
    assert isinstance(fanout, list) and isinstance(fanout_table, list)
    bare_slowest, bare_all = float(m["bare_slowest"]), float(m["bare_all"])  # type: ignore[arg-type]
    lines = [f"## {title}", "", "| what | median ms | best ms |", "| --- | ---: | ---: |"]
    for name, samples in single.items():
        lines.append(
            f"| `-H {name} ps -a` | {statistics.median(samples):.1f} | {min(samples):.1f} |"
        )
    lines += [
        f"| `-H all ps -a` (3 engines, merged) | {statistics.median(fanout):.1f} | "
        f"{min(fanout):.1f} |",
        f"| `-H all ps -a` + merged table | {statistics.median(fanout_table):.1f} | "
        f"{min(fanout_table):.1f} |",
        f"| bare docker-py, slowest one engine | {bare_slowest:.1f} | |",
        f"| bare docker-py, three engines at once | {bare_all:.1f} | |",
        "",
        f"Fan-out / slowest single engine (`{m['slowest']}`): **{float(m['ratio']):.2f}x** "  # type: ignore[arg-type]
        f"(target ≤ 1.3x). Without Dockhand, three at once / one: "
        f"{bare_all / bare_slowest:.2f}x; Dockhand's fan-out / bare three at once: "
        f"{statistics.median(fanout) / bare_all:.2f}x.",
        "",
    ]
    return lines


def run_proxies(routes: dict[int, tuple[str, str]], delay: float) -> None:
    """Loopback TCP listeners that forward to an engine (unix socket or tcp), holding each
    chunk `delay` seconds in each direction; bytes pass untouched, TLS included."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    break
            await sender
        except (ConnectionError, OSError):
            sender.cancel()

    async def serve() -> None:
        servers = []
        for port, (kind, where) in routes.items():

            async def handle(
                reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter,
                kind: str = kind,
                where: str = where,
            ) -> None:
                if kind == "unix":
                    up_reader, up_writer = await asyncio.open_unix_connection(where)
                else:
                    host, _, up_port = where.rpartition(":")
                    up_reader, up_writer = await asyncio.open_connection(host, int(up_port))
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

            servers.append(await asyncio.start_server(handle, "127.0.0.1", port))
        await asyncio.gather(*(server.serve_forever() for server in servers))

    asyncio.run(serve())


def transports(rig: Rig, engines: Engines, unix_engine: Engine) -> dict[str, object]:
    """Ping and ps -a over a unix socket, over TLS on loopback, and through a Redis queue to
    a worker that holds the unix socket."""
    rounds = 51
    unix = engines.client("a").api
    secure = engines.client("c").api
    server = rig.redis()
    store = redis.Redis.from_url(server.url)
    stop = threading.Event()

    def worker() -> None:
        own = redis.Redis.from_url(server.url)
        while not stop.is_set():
            job = own.blpop(["dockhand:bench:jobs"], timeout=1)
            if job is None:
                continue
            request = json.loads(job[1])
            answer = unix.ping() if request["op"] == "ping" else unix.containers(all=True)
            own.rpush(request["reply"], json.dumps(answer))

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()

    def queued(op: str) -> object:
        reply = f"dockhand:bench:reply:{threading.get_ident()}"
        store.rpush("dockhand:bench:jobs", json.dumps({"op": op, "reply": reply}))
        got = store.blpop([reply], timeout=10)
        assert got is not None
        return json.loads(got[1])

    ways: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "unix socket": (unix.ping, lambda: unix.containers(all=True)),
        "TLS over tcp (loopback)": (secure.ping, lambda: secure.containers(all=True)),
        "Redis queue to a worker on the unix socket": (
            lambda: queued("ping"),
            lambda: queued("ps"),
        ),
    }
    far = None
    if ssh_host.available():
        # ssh:// as a worker's alternative: the engine's socket stays local to its host.
        far = ssh_host.SSHHost(rig.root / "ssh", unix_engine)
        far.start()
        os.environ["HOME"] = str(far.home)  # paramiko takes ~/.ssh's key and known_hosts
        shell = Engines({"far": HostConfig(url=far.url)}, timeout=30).client("far").api
        ways["SSH (paramiko, docker system dial-stdio)"] = (
            shell.ping,
            lambda: shell.containers(all=True),
        )
    for ping, listing in ways.values():
        for _ in range(5):
            ping(), listing()
    # Interleaved: each round asks every way once, so a busy spell hits them alike.
    pings: dict[str, list[float]] = {way: [] for way in ways}
    lists: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, (ping, listing) in ways.items():
            pings[way].append(sample(ping))
            lists[way].append(sample(listing))
    # What a new connection costs (client made, API version asked, one ping): paid again
    # after an idle pool is dropped or the far end restarts.
    fresh: dict[str, HostConfig] = {
        "unix socket": engines.config("a"),
        "TLS over tcp (loopback)": engines.config("c"),
    }
    if far is not None:
        fresh["SSH (paramiko, docker system dial-stdio)"] = HostConfig(url=far.url)

    def connect_once(config: HostConfig) -> None:
        made = connect(config, api_version="auto", timeout=30)
        made.api.ping()
        made.close()

    connects = {
        way: statistics.median(sample(lambda c=config: connect_once(c)) for _ in range(7))
        for way, config in fresh.items()
    }
    figures = {
        way: (statistics.median(pings[way]), statistics.median(lists[way]), connects.get(way))
        for way in ways
    }
    stop.set()
    thread.join(3)
    engines.close()
    if far is not None:
        shell.close()
        far.stop()
    return {"rounds": rounds, "ways": figures}


if __name__ == "__main__":
    raise SystemExit(main())
