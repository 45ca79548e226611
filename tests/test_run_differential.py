"""run/create flags against the real docker CLI: create the same container both ways and
compare `docker inspect` Config and HostConfig field by field. Any difference fails."""

from __future__ import annotations

import random
import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from bot.parser import parse
from handlers import run_handler
from handlers.engines import translate_engine_errors
from handlers.errors import DockhandError
from tests.rig import TEST_IMAGE, Engine

CONFIG_FIELDS = (
    "Cmd",
    "Entrypoint",
    "Env",
    "Labels",
    "WorkingDir",
    "User",
    "Hostname",
    "MacAddress",
    "ExposedPorts",
    "Healthcheck",
    "Volumes",
    "StopSignal",
    "StopTimeout",
    "Image",
    "Domainname",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
)
HOST_FIELDS = (
    "NanoCpus",
    "CpusetCpus",
    "CpuShares",
    "Memory",
    "MemorySwap",
    "MemoryReservation",
    "PidsLimit",
    "RestartPolicy",
    "PortBindings",
    "PublishAllPorts",
    "ExtraHosts",
    "Dns",
    "Binds",
    "Mounts",
    "NetworkMode",
    "AutoRemove",
    "ReadonlyRootfs",
    "Tmpfs",
    "ShmSize",
    "Init",
    "Privileged",
    "CapAdd",
    "CapDrop",
    "SecurityOpt",
    "Devices",
    "PidMode",
    "IpcMode",
    "UTSMode",
    "UsernsMode",
    "GroupAdd",
    "LogConfig",
    "Ulimits",
    "Sysctls",
    "DnsSearch",
    "DnsOptions",
    "VolumesFrom",
    "OomKillDisable",
    "MemorySwappiness",
    "CpuPeriod",
    "CpuQuota",
    "CpusetMems",
    "OomScoreAdj",
    "Links",
    "DeviceRequests",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CgroupnsMode",
    "CgroupParent",
    "DeviceCgroupRules",
    "Runtime",
    "StorageOpt",
    "VolumeDriver",
    "Annotations",
    "MaskedPaths",
    "ReadonlyPaths",
)

# {rig} is a directory of the rig's, {net} a user network, {peer} an existing container.
CASES: list[str] = [
    "",
    "--cpus 0.5",
    "--cpus 1.25 --cpuset-cpus 0",
    "-c 512",
    "--cpu-shares=256",
    "-m 64m",
    "--memory 128M --memory-swap 256m",
    "-m 64m --memory-swap -1",
    "--memory-reservation 32m",
    "--pids-limit 100",
    "--restart always",
    "--restart on-failure:3",
    "--restart=unless-stopped",
    "--restart no",
    "-p 8080:80",
    "-p 127.0.0.1:8080:80/udp",
    "-p 80",
    "-p 8000-8001:80-81",
    "-p 9000-9010:90",
    "-p 127.0.0.1::5000 -p 5001:5001/sctp",
    "-P --expose 7000-7002",
    "--expose 53/udp",
    "--add-host db:10.0.0.5 --add-host cache:10.0.0.6",
    "--dns 1.1.1.1 --dns 8.8.8.8",
    "--mac-address 02:42:ac:11:00:02",
    "-h myhost",
    "--hostname=web01",
    "-u 1000:1000",
    "--user nobody",
    "-v {rig}:/data:ro",
    "-v dh-named:/data",
    "-v /anon",
    "--mount type=bind,source={rig},target=/h,readonly",
    "--mount type=volume,source=dh-vol2,target=/v",
    "--mount type=tmpfs,target=/t,tmpfs-size=64m",
    "--network none",
    "--net=host",
    "--network {net}",
    "--network container:{peer}",
    "--health-cmd true --health-interval 5s --health-retries 3 --health-timeout 2s "
    "--health-start-period 1s",
    "--health-cmd 'wget -q localhost' --health-interval 1m30s",
    "--no-healthcheck",
    "-e A=1 -e 'B=two words'",
    "-e A=1 -e B=2 -e A=3 -e C=",
    "--env=X=y=z",
    "-l tier=web --label team",
    "--entrypoint /bin/echo {image} hi",
    "--entrypoint '' {image} ls",
    "-w /tmp",
    "--workdir=/var",
    "{image} sh -c 'echo hi'",
    "--rm",
    "--read-only --tmpfs /run:rw,size=8m",
    "--shm-size 32m",
    "--stop-signal SIGINT --stop-timeout 5",
    "--init",
    "--cap-add NET_ADMIN --cap-drop MKNOD",
    "--privileged",
    "--security-opt no-new-privileges",
    "--security-opt systempaths=unconfined",
    "--cpus 0.5 -m 256m --restart on-failure:3 -p 8080:80 -l app=web -e MODE=prod",
    # Found by a randomised run against the CLI; each differed once.
    "-p ::1:8080:80",
    "-p [::1]:8081:81 -p 127.0.0.1:8082:82:90",
    "--mount type=volume,source=dh-vol3,target=/v,volume-nocopy",
    "--mount type=volume,source=dh-vol4,target=/v,volume-label=a=b",
    "--health-interval 0s",
    "--health-retries 0 --health-cmd ''",
    "-l =b",
    "--init=false",
    "--init=true",
    "--net none --network host",
    "--network {net} --network {net}",
    "--network {net} --network none",
    "--network {net} --network dh-othernet",
    "--device /dev/null:/dev/x:r --device /dev/zero",
    "--device /dev/null:rw",
    "--device relative",
    "--pid host --uts host --ipc private --group-add 10",
    "--pid bogus",
    "--uts bogus",
    "--userns bogus",
    "--log-driver none",
    "--log-driver json-file --log-opt max-size=10m --log-opt max-file=3",
    "--log-opt max-size=1m",
    "--ulimit nofile=1024:2048 --ulimit nproc=512",
    "--ulimit nofile=2048:1024",
    "--ulimit nofile",
    "--ulimit nofile=10:20 --ulimit core=0 --ulimit nofile=30:40",
    "--ulimit bogus=1",
    "--sysctl net.ipv4.ip_forward=1",
    "--sysctl kernel.shmmax",
    "--dns-search example.com --dns-option ndots:2",
    "--domainname example.com -h web",
    "--network {net} --network-alias api --network-alias web",
    "--network {net} --ip 10.99.0.20",
    "--network-alias api",
    "--ip 10.0.0.5",
    "--ip notanip --network {net}",
    "--volumes-from {peer}",
    "--volumes-from {peer}:ro",
    "--oom-kill-disable",
    "--oom-kill-disable=false",
    "--oom-score-adj 500",
    "--oom-score-adj 2000",
    "--memory-swappiness 0",
    "--memory-swappiness 101",
    "--memory-swappiness -1",
    "--cpu-period 100000 --cpu-quota 50000",
    "--cpus 1 --cpu-quota 50000",
    "--cpuset-mems 0",
    "--pull never",
    "--pull bogus",
    # Issue 18, from the CLI's own test tables. The extended --network syntax and its
    # conflicts with the flags it shares a meaning with:
    "--network name={net},alias=web,alias=api,ip=10.99.0.30",
    "--network name={net},driver-opt=com.docker.network.endpoint.sysctls=x=1",
    "--network name={net},ip=10.99.0.31 --ip 10.99.0.32",
    "--network name={net},alias=x --network-alias y",
    "--network name={net},ip6=2001:db8::33 --ip6 2001:db8::34",
    "--network name={net},mac-address=02:42:ac:11:00:03 --mac-address 02:42:ac:11:00:04",
    "--network name={net},link-local-ip=169.254.1.1 --link-local-ip 169.254.1.2",
    "--network name={net},bogus=1",
    "--network name={net},mac-address=zz:zz",
    "--network name={net},gw-priority=x",
    "--network alias=x",
    "--network {net},alias=x",
    "--network name=none,alias=x",
    "--network name={net} --network name={net}",
    "--network 'name= '",
    # Flags Dockhand did not know (some the safety check refuses later, in the pipeline):
    "--link {peer}:db",
    "--link {peer} --link {peer}:x:y",
    "--network {net} --link {peer}:db",
    "--network {net} --link-local-ip 169.254.1.1",
    "--gpus all",
    "--gpus 'count=2,capabilities=utility'",
    "--gpus '\"device=0,1\"'",
    "--gpus count=x",
    "--gpus 1,count=2",
    "--device-read-bps /dev/null:1mb --device-write-bps /dev/null:2048",
    "--device-read-iops /dev/null:100 --device-write-iops /dev/null:200",
    "--device-read-bps /dev/null:-1",
    "--device-read-iops null:1",
    "--blkio-weight-device /dev/null:300",
    "--blkio-weight-device /dev/null:5",
    "--blkio-weight 300",
    "--cgroupns private",
    "--cgroupns bogus",
    "--device-cgroup-rule 'c 1:3 rwm'",
    "--device-cgroup-rule bogus",
    "--storage-opt bogus",
    "--net-alias x --network {net}",
    "--dns-opt ndots:3",
    # Checks the CLI makes:
    "--dns-search 123",
    "--dns-search -bad.com",
    "--dns-search 'a b'",
    "-l ' '",
    "-l ' =v'",
    "-l 'a b=c'",
    "--add-host 'a:[::1'",
    "--add-host 'a:::1]'",
    "--add-host 'a:b:1.2.3.4'",
    "--log-driver none --log-opt max-size=1m",
    "--cap-drop ' MKNOD '",
    "--cap-add NET_ADMIN --cap-add net_admin --cap-add CHOWN",
    # Values the CLI writes differently:
    "--dns 0:0:0:0:0:0:0:1",
    "--dns 2001:DB8::1",
    "--dns-search example.com.",
    "--dns-search .",
    # Valid input Dockhand refused:
    "--expose 8080/ncp",
    "--expose 80/TCP",
    "--restart=",
    "--dns ' 127.0.0.1 '",
    "--device relative:/dev/x",
    "--device /dev/null:/dev/x/../y",
    "--device /dev/null:rr",
    "--mount type=bind,source={rig},target=/h,bind-nonrecursive",
    "--mount type=bind,source={rig},target=/h,bind-nonrecursive=true",
    "--mount type=bind,source={rig},target=/h,bind-recursive=disabled",
    "--mount type=bind,source={rig},target=/h,bind-recursive=enabled",
    "--mount type=bind,source={rig},target=/h,bind-recursive=bogus",
    "--mount type=bind,source={rig},target=/h,bind-recursive=writable",
    "--mount type=bind,source={rig},target=/h,readonly,bind-recursive=writable",
    "--mount type=BIND,source={rig},target=/h,bind-propagation=RSLAVE",
]


# docker 28 sends --mac-address per network, which needs API 1.44; the rig's engine speaks
# 1.41, so for that flag the oracle is the CLI of the engine's own release (Debian's 20.10).
ORACLE = {"--mac-address 02:42:ac:11:00:02": "/usr/bin/docker"}


@pytest.fixture(scope="module")
def setting(engine: Engine) -> Iterator[dict[str, str]]:
    """A user network and a peer container for the network cases; removed afterwards."""
    engine.cli("network", "create", "--subnet", "10.99.0.0/24", "dh-diffnet")
    engine.cli("create", "--name", "dh-peer", TEST_IMAGE, "sleep", "1")
    yield {"rig": str(engine.root), "net": "dh-diffnet", "peer": "dh-peer", "image": TEST_IMAGE}
    engine.cli("rm", "-f", "dh-peer")
    engine.cli("network", "rm", "dh-diffnet")
    engine.cli("volume", "prune", "-f", check=False)


def words_for(case: str, setting: dict[str, str]) -> list[str]:
    text = case.format(**setting)
    words = shlex.split(text)
    if TEST_IMAGE not in words:
        words.append(TEST_IMAGE)
    return words


def comparable(inspected: dict[str, Any]) -> dict[str, Any]:
    config, host = inspected["Config"], inspected["HostConfig"]
    own = {f"Config.{k}": config.get(k) for k in CONFIG_FIELDS}
    own |= {f"HostConfig.{k}": host.get(k) for k in HOST_FIELDS}
    networks = (inspected.get("NetworkSettings") or {}).get("Networks") or {}
    own["Networks"] = {
        name: (sorted(n.get("Aliases") or []), n.get("IPAMConfig")) for name, n in networks.items()
    }
    if own["Config.Hostname"] == inspected["Id"][:12]:
        own["Config.Hostname"] = "<own id>"  # the engine's default differs per container
    # docker 28 sends [], older CLIs null: the same. Its order is a Go map's: none.
    own["HostConfig.Ulimits"] = sorted(own["HostConfig.Ulimits"] or [], key=str) or None
    for name in ("BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps"):
        own[f"HostConfig.{name}"] = own[f"HostConfig.{name}"] or None  # [] and null alike
    for name in ("BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"):
        own[f"HostConfig.{name}"] = own[f"HostConfig.{name}"] or None
    # A legacy link is stored as /peer:/<this container's name>/alias: names differ.
    own["HostConfig.Links"] = [
        re.sub(r":/[^/]+/", ":/<self>/", link) for link in own["HostConfig.Links"] or []
    ] or None
    if own["Config.Env"]:
        # docker 28 collects -e through a map: one entry per name, in no fixed order.
        own["Config.Env"] = sorted(own["Config.Env"])
    return own


def differ(engine: Engine, words: list[str], binary: str = "docker") -> str | None:
    """Create a container from `words` with the CLI and with Dockhand; what differs, or None.
    An Engine's refusal counts as a refusal, whichever of the two met it."""
    cli = engine.cli("create", *words, check=False, binary=binary)
    cli_id = cli.stdout.strip() if cli.returncode == 0 else ""
    mine = None
    try:
        with translate_engine_errors("rig", engine.url, 30):
            mine = run_handler(parse(shlex.join(["create", *words])), engine.client())
    except DockhandError as exc:
        if cli_id:
            return f"docker accepted, Dockhand said: {exc}"
        if "unrecognized arguments" in str(exc):
            # Both refused, but Dockhand for not knowing a flag the CLI knows: the refusal
            # must be for the case's own reason.
            return f"docker refused ({cli.stderr.strip()}), Dockhand did not know a flag: {exc}"
        return None
    try:
        if not cli_id:
            return f"Dockhand accepted, docker said: {cli.stderr.strip()}"
        theirs = comparable(engine.client().api.inspect_container(cli_id))
        ours = comparable(engine.client().api.inspect_container(mine.id))  # type: ignore[attr-defined]
        differences = {k: (ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k]}
        return str(differences) if differences else None
    finally:
        for cid in (cli_id, getattr(mine, "id", "")):
            if cid:
                engine.client().api.remove_container(cid, force=True, v=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c or "defaults")
def test_create_matches_docker_create(engine: Engine, setting: dict[str, str], case: str) -> None:
    difference = differ(engine, words_for(case, setting), ORACLE.get(case, "docker"))
    assert difference is None, f"dockhand vs docker for {case!r}: {difference}"


# Single flags, some with values the CLI or the Engine refuse; drawn two and three at a time.
POOL = [
    *["--cpus 0", "--cpus 2.5", "--cpus -1", "-m 4m", "-m 1g", "-m 10kb", "-m 64m"],
    *["--memory-swap 128m", "--memory-swap -1", "--memory-reservation 8m", "-c 0", "-c 2"],
    *["--pids-limit 0", "--pids-limit -1", "--restart on-failure", "--restart always:3"],
    *["--restart on-failure:0", "--restart bogus", "-p 80", "-p 0:80", "-p :80", "-P"],
    *["-p 127.0.0.1::80/tcp", "-p 70000:80", "-p 80/xyz", "-p 1-3:4-5", "-p ::1:9080:80"],
    *["--expose 80-79", "--expose 1-3/udp", "--add-host a:1.2.3.4", "--add-host a=::1"],
    *["--add-host a:notanip", "--dns notanip", "--dns ::1", "-h ''", "-u 0", "-w relative"],
    *["-v {rig}:/x:ro,z", "-v {rig}:/x:bogus", "-v named:/x:ro", "-v /x", "-v :/x"],
    *["--mount type=bind,src={rig},dst=/y,readonly=false", "--mount type=volume,target=/v"],
    *["--mount type=tmpfs,target=/t,tmpfs-mode=1770", "--mount target=/v", "--rm"],
    *["--mount type=volume,source=v1,target=/v,volume-nocopy", "--health-interval 0s"],
    *["--health-cmd 'CMD true'", "--health-retries -1", "--health-timeout 5", "--init=false"],
    *["-e =x", "-e 'A=1 2'", "-l a", "-l =b", "--entrypoint ''", "--stop-signal bogus"],
    *["--stop-timeout -1", "--shm-size 0", "--tmpfs /t:size=1m,mode=1777", "--read-only"],
    *["--network none", "--network host", "--cap-add ALL", "--cap-drop all", "--init"],
    *["--security-opt label=disable", "--security-opt bogus", "--cpuset-cpus abc"],
    *["--device /dev/null:/dev/x:r", "--device relative", "--pid host", "--uts bogus"],
    *["--userns bogus", "--ipc shareable", "--group-add audio", "--privileged=false"],
    *["--ulimit nofile=-1", "--ulimit nofile=1:-1", "--ulimit bogus=1", "--sysctl a=b"],
    *["--log-opt max-size=bogus", "--log-driver local", "--memory-swappiness -2"],
    *["--oom-score-adj -1000", "--cpu-quota -1", "--dns-search .", "--network-alias x"],
    *["--pull never", "--volumes-from nope", "--domainname ''", "--ip6 ::1"],
]


def test_random_combinations_match_docker_create(engine: Engine, setting: dict[str, str]) -> None:
    """A seeded draw, the same every run, so a failure can be replayed with its words."""
    draw = random.Random(20261128)
    combinations = [draw.sample(POOL, draw.choice((2, 3))) for _ in range(60)]
    failures = []
    for flags in combinations:
        words = words_for(" ".join(flags), setting)
        difference = differ(engine, words)
        if difference is not None:
            failures.append(f"{shlex.join(words)}: {difference}")
    assert not failures, "\n".join(failures)


def test_at_least_forty_combinations() -> None:
    assert len(CASES) >= 40
