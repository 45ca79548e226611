"""The safety table is complete and default-deny: every field docker-py can send has an
entry, an unknown field is refused by name, and references are judged by what they are.
Pure logic: references come from a dict standing in for the engine's inspect answers."""

from __future__ import annotations

import inspect
import re
from typing import Any

import docker.types.containers
import docker.types.networks
import docker.types.services
import pytest

from bot.host_mounts import HostMount
from bot.safety import (
    BIND,
    CONFIG_FIELDS,
    ENDPOINT_FIELDS,
    HOST_CONFIG_FIELDS,
    MOUNT_FIELDS,
    NETWORK_FIELDS,
    TMPFS,
    VOL,
    VOLUME_FIELDS,
    Check,
    Refusal,
    admit_request,
    check_container,
    check_create,
    check_network_create,
)
from config.policy import Allowances, Guards


def _keys(source_of: Any, pattern: str) -> set[str]:
    return set(re.findall(pattern, inspect.getsource(source_of)))


SELF_KEYS = r"self\['(\w+)'\]"


@pytest.mark.parametrize(
    ("source", "pattern", "table"),
    [
        (docker.types.containers.HostConfig, SELF_KEYS, HOST_CONFIG_FIELDS),
        (docker.types.containers.ContainerConfig, r"'([A-Z]\w+)':", CONFIG_FIELDS),
        (docker.types.networks.EndpointConfig, SELF_KEYS, ENDPOINT_FIELDS),
        (docker.types.services.Mount, SELF_KEYS, MOUNT_FIELDS),
        (docker.types.services.Mount, r"'([A-Z]\w+)'", {**MOUNT_FIELDS, **BIND, **VOL, **TMPFS}),
    ],
    ids=["HostConfig", "ContainerConfig", "EndpointConfig", "Mount", "Mount options"],
)
def test_every_field_docker_py_can_send_has_an_entry(
    source: Any, pattern: str, table: dict[str, Any]
) -> None:
    keys = _keys(source, pattern) - {"HostConfig", "NetworkingConfig"}
    assert len(keys) >= 3, "the pattern no longer finds docker-py's keys"
    missing = sorted(keys - set(table))
    assert not missing, f"no safety entry for {missing}: decide, then add them to bot/safety.py"


def _code_keys(function: Any) -> set[str]:
    """Quoted capitalised keys in a docker-py method's code, past its docstring."""
    source = inspect.getsource(function)
    return set(re.findall(r"""['"]([A-Z]\w+)['"]""", source[source.index("data = ") :]))


def test_create_network_and_volume_keys_have_entries() -> None:
    keys = _code_keys(docker.api.network.NetworkApiMixin.create_network)
    assert {"Name", "Driver", "Options", "IPAM", "CheckDuplicate"} <= keys
    assert not keys - set(NETWORK_FIELDS)
    keys = _code_keys(docker.api.volume.VolumeApiMixin.create_volume)
    assert {"Name", "Driver", "DriverOpts"} <= keys and not keys - set(VOLUME_FIELDS)


def refused(body: dict[str, Any], check: Check | None = None) -> Refusal:
    with pytest.raises(Refusal) as caught:
        check_create(check or Check(Guards()), {"Image": "busybox", **body})
    return caught.value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"HostConfig": {"Bogus": 1}}, "HostConfig.Bogus"),
        ({"Bogus": 1}, "Config.Bogus"),
        # The engine decodes keys without regard to case: another spelling is another field.
        ({"HostConfig": {"privileged": True}}, "HostConfig.privileged"),
        ({"HostConfig": {"Mounts": [{"Type": "tmpfs", "Target": "/t", "Extra": 1}]}}, "Extra"),
        ({"NetworkingConfig": {"EndpointsConfig": {"n": {"Future": 1}}}}, "Future"),
    ],
)
def test_an_unknown_field_is_refused_by_name(body: dict[str, Any], field: str) -> None:
    refusal = refused(body)
    assert refusal.rule == "guard unknown-field" and field in refusal.message


class Engine:
    """Inspect answers by name, as the engine would give them."""

    def __init__(self, **objects: dict[str, Any]) -> None:
        self.objects = objects

    def container(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"c_{name}")

    def volume(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"v_{name}")

    def network(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"n_{name}")

    def image(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"i_{name}")

    def data_root(self) -> str:
        return "/var/lib/docker"

    def mounts(self) -> list[HostMount]:
        return []

    def internal_volumes(self) -> set[str]:
        return set()


def container(**host: Any) -> dict[str, Any]:
    return {"Config": {"Image": "busybox"}, "HostConfig": host}


# container:X opened, so the references themselves are what is judged.
SHARING = Guards(allow=Allowances(namespace_sharing=True))

ENGINE = Engine(
    c_agent=container(PidMode="host", NetworkMode="host"),
    c_netagent=container(NetworkMode="host"),
    c_relay=container(PidMode="container:agent"),
    c_loop_a=container(IpcMode="container:loop_b"),
    c_loop_b=container(IpcMode="container:loop_a"),
    c_plain=container(IpcMode="shareable"),
    c_privileged=container(Privileged=True),
    v_etc={"Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}},
    v_lower={"Driver": "local", "Options": {"type": "overlay", "o": "lowerdir=/etc"}},
    v_nfs={"Driver": "local", "Options": {"type": "nfs", "o": "addr=127.0.0.1", "device": ":/"}},
    v_ram={"Driver": "local", "Options": {"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}},
    v_plain={"Driver": "local", "Options": None},
    v_plugin={"Driver": "rexray", "Options": {}},
    n_lan={"Driver": "macvlan"},
    n_web={"Driver": "bridge"},
    n_hostnet={"Driver": "host"},
    c_redis={"Config": {"Image": "redis", "Labels": {"dockhand.internal": "true"}}},
    n_dockhand_default={"Driver": "bridge", "Labels": {"dockhand.internal": "true"}},
)


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ({"PidMode": "container:agent"}, "pid-host"),
        ({"PidMode": "container:relay"}, "pid-host"),
        ({"IpcMode": "container:loop_a"}, "namespace-reference"),
        ({"NetworkMode": "container:netagent"}, "network-host"),
        ({"UTSMode": "container:privileged"}, "privileged"),
        ({"Binds": ["etc:/x"]}, "bind-path"),
        ({"Binds": ["lower:/x"]}, "volume-options"),
        ({"Binds": ["nfs:/x"]}, "volume-options"),
        ({"Binds": ["plugin:/x"]}, "volume-driver"),
        ({"Mounts": [{"Type": "volume", "Source": "etc", "Target": "/x"}]}, "bind-path"),
        ({"NetworkMode": "lan"}, "network-driver"),
        ({"NetworkMode": "hostnet"}, "network-host"),
        # Dockhand's own Redis holds the job store: joining it is joining the bot.
        ({"NetworkMode": "container:redis"}, "internal"),
        ({"PidMode": "container:redis"}, "internal"),
        ({"NetworkMode": "dockhand_default"}, "internal"),
        # A sysctl in a shared namespace changes the other container's.
        ({"IpcMode": "container:plain", "Sysctls": {"kernel.shmmax": "1"}}, "sysctl"),
        ({"NetworkMode": "container:plain", "Sysctls": {"net.ipv4.ip_forward": "1"}}, "sysctl"),
    ],
)
def test_references_are_resolved_before_deciding(host: dict[str, Any], rule: str) -> None:
    refusal = refused({"HostConfig": host}, Check(SHARING, ENGINE))
    assert refusal.rule == f"guard {rule}", refusal.message


@pytest.mark.parametrize(
    "host",
    [
        {"IpcMode": "container:plain"},
        {"Binds": ["ram:/x", "plain:/y", "fresh:/z"]},
        {"NetworkMode": "web"},
        {"NetworkMode": "unknown-net"},
    ],
)
def test_harmless_references_pass(host: dict[str, Any]) -> None:
    check_create(Check(SHARING, ENGINE), {"Image": "busybox", "HostConfig": host})


def test_before_the_ack_references_wait_for_the_engine() -> None:
    # No engine at hand: container:X cannot be judged yet, and is judged when it runs.
    check_create(Check(SHARING), {"Image": "b", "HostConfig": {"PidMode": "container:agent"}})
    with pytest.raises(Refusal):
        admit_request(
            Check(SHARING, ENGINE),
            "container.create",
            {"HostConfig": {"PidMode": "container:agent"}},
            "",
        )


def test_allowances_open_exactly_what_they_name() -> None:
    guards = Guards(
        allow=Allowances(
            capabilities=["NET_ADMIN"], network_drivers=["macvlan"], log_drivers=["syslog"]
        )
    )
    check = Check(guards, ENGINE)
    check_create(check, {"Image": "b", "HostConfig": {"CapAdd": ["CAP_NET_ADMIN"]}})
    check_create(check, {"Image": "b", "HostConfig": {"NetworkMode": "lan"}})
    check_create(check, {"Image": "b", "HostConfig": {"LogConfig": {"Type": "syslog"}}})
    assert refused({"HostConfig": {"CapAdd": ["SYS_ADMIN"]}}, check).rule == "guard cap-add"
    bad_tag = {"LogConfig": {"Type": "syslog", "Config": {"tag": "a\r\nFLUSHALL"}}}
    assert refused({"HostConfig": bad_tag}, check).rule == "guard log-opt"


def test_an_existing_container_is_judged_as_a_whole() -> None:
    check = Check(Guards(), ENGINE)
    check_container(check, container(IpcMode="shareable", MaskedPaths=None))
    with pytest.raises(Refusal, match="systempaths"):
        check_container(check, container(MaskedPaths=[], ReadonlyPaths=[]))
    with pytest.raises(Refusal, match=r"network driver `macvlan`"):
        check_container(check, {**container(), "NetworkSettings": {"Networks": {"lan": {}}}})


def test_an_unknown_request_kind_is_refused() -> None:
    with pytest.raises(Refusal, match="does not know"):
        admit_request(Check(Guards()), "plugin.install", {}, "")


@pytest.mark.parametrize(
    ("pool", "allowed"),
    [
        ({"Subnet": "10.20.0.0/24"}, True),
        ({"Subnet": "10.20.0.0/24", "Gateway": "10.20.0.1", "IPRange": "10.20.0.128/25"}, True),
        ({"Subnet": "192.168.1.0/24"}, False),
        ({"Subnet": "10.0.0.0/8"}, False),
        ({"Subnet": "169.254.169.254/32"}, False),
        ({"Subnet": "127.0.0.0/8"}, False),
        ({"Subnet": "10.20.0.0/24", "AuxiliaryAddresses": {"a": "192.168.1.1"}}, False),
        ({"Subnet": "10.20.0.0/24", "Extra": 1}, False),
    ],
)
def test_network_subnets_only_from_allowed_pools(pool: dict[str, Any], allowed: bool) -> None:
    guards = Guards(allow=Allowances(subnets=["10.20.0.0/16", "169.254.0.0/16"]))
    body = {"Name": "n", "Driver": "bridge", "IPAM": {"Driver": "default", "Config": [pool]}}
    if allowed:
        check_network_create(Check(guards), body)
    else:
        with pytest.raises(Refusal):
            check_network_create(Check(guards), body)


def test_host_system_paths_stay_closed_even_when_bind_paths_allow_them() -> None:
    check = Check(Guards(bind_paths=["/"]))
    for path in (
        "/etc",
        "/proc/1",
        "/var/lib/docker/volumes",
        "/run/containerd",
        "/usr",
        "/home/x",
    ):
        with pytest.raises(Refusal):
            check_create(check, {"Image": "b", "HostConfig": {"Binds": [f"{path}:/x"]}})


def test_namespace_sharing_is_closed_unless_allowed() -> None:
    body = {"Image": "b", "HostConfig": {"IpcMode": "container:plain"}}
    assert refused(body["HostConfig"] and {"HostConfig": body["HostConfig"]}).rule == (
        "guard namespace-sharing"
    )
    check_create(Check(SHARING, ENGINE), body)
