"""parse -> plan -> argv over captured tables: only what differs changes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import normalize_service, service_key
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import SCHEDULERS
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import (
    merge_declared,
    plan,
    with_realserver,
    with_service,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import parse_save, restore_script

FIXTURES = Path(__file__).parent / "fixtures"
WEB = ("tcp", "192.0.2.50", 80)


@pytest.fixture
def mixed():
    return parse_save((FIXTURES / "mixed_save.txt").read_text())


def declare(**fields):
    return normalize_service(fields)


def test_no_op(mixed):
    assert plan(mixed, copy.deepcopy(mixed)) == []


def test_new_service_with_realservers():
    svc = declare(address="192.0.2.100", port=80, scheduler="wrr",
                  realservers=[{"address": "192.0.2.22", "weight": 3}, {"address": "192.0.2.21"}])
    assert plan({}, {service_key(svc): svc}) == [
        ["-A", "-t", "192.0.2.100:80", "-s", "wrr"],
        ["-a", "-t", "192.0.2.100:80", "-r", "192.0.2.21:80", "-g", "-w", "1"],
        ["-a", "-t", "192.0.2.100:80", "-r", "192.0.2.22:80", "-g", "-w", "3"],
    ]


@pytest.mark.parametrize("scheduler", [s for s in SCHEDULERS if s != "wrr"])
def test_scheduler_change_is_one_edit(mixed, scheduler):
    desired = copy.deepcopy(mixed)
    desired[WEB]["scheduler"] = scheduler
    assert plan(mixed, desired) == [["-E", "-t", "192.0.2.50:80", "-s", scheduler]]


@pytest.mark.parametrize("attr, value, options", [
    ("persistence_timeout", 600, ["-s", "wrr", "-p", "600"]),
    ("one_packet", True, ["-s", "wrr", "-o"]),
    ("persistence_engine", "sip", ["-s", "wrr", "--pe", "sip"]),
])
def test_service_attribute_edits(mixed, attr, value, options):
    desired = copy.deepcopy(mixed)
    desired[WEB][attr] = value
    assert plan(mixed, desired) == [["-E", "-t", "192.0.2.50:80", *options]]


def test_persistence_netmask_and_removing_persistence(mixed):
    key = ("tcp", "192.0.2.50", 0)
    desired = copy.deepcopy(mixed)
    desired[key]["persistence_netmask"] = 16
    assert plan(mixed, desired) == [["-E", "-t", "192.0.2.50:0", "-s", "wlc", "-p", "120", "-M", "255.255.0.0"]]
    v6 = ("tcp", "2001:db8:0:2::50", 443)
    desired = copy.deepcopy(mixed)
    desired[v6]["persistence_timeout"] = None
    desired[v6]["persistence_netmask"] = 128
    assert plan(mixed, desired) == [["-E", "-t", "[2001:db8:0:2::50]:443", "-s", "lc"]]


def test_scheduler_flags_edit(mixed):
    key = ("udp", "192.0.2.50", 53)
    desired = copy.deepcopy(mixed)
    desired[key]["scheduler_flags"] = ["sh-port"]
    assert plan(mixed, desired) == [["-E", "-u", "192.0.2.50:53", "-s", "sh", "-b", "sh-port", "-o"]]


@pytest.mark.parametrize("changes, expected", [
    ({"weight": 0}, ["-e", "-t", "192.0.2.50:80", "-r", "192.0.2.21:80", "-g", "-w", "0"]),
    ({"upper_threshold": 500, "lower_threshold": 50},
     ["-e", "-t", "192.0.2.50:80", "-r", "192.0.2.21:80", "-g", "-w", "3", "-x", "500", "-y", "50"]),
    ({"forwarding": "tunnel", "tunnel_type": "ipip"},
     ["-e", "-t", "192.0.2.50:80", "-r", "192.0.2.21:80", "-i", "-w", "3"]),
    ({"forwarding": "tunnel", "tunnel_type": "gue", "tunnel_port": 6080, "tunnel_checksum": "remcsum"},
     ["-e", "-t", "192.0.2.50:80", "-r", "192.0.2.21:80", "-i", "-w", "3", "--tun-type", "gue",
      "--tun-port", "6080", "--tun-remcsum"]),
])
def test_realserver_edits(mixed, changes, expected):
    rkey = ("192.0.2.21", 80)
    desired = with_realserver(mixed, WEB, dict(mixed[WEB]["realservers"][rkey], **changes), rkey)
    assert plan(mixed, desired) == [expected]


def test_threshold_only_difference_is_seen(mixed):
    """A compare that skipped thresholds would call this a no-op."""
    current = copy.deepcopy(mixed)
    current[WEB]["realservers"][("192.0.2.21", 80)]["upper_threshold"] = 100
    assert plan(current, mixed) == [["-e", "-t", "192.0.2.50:80", "-r", "192.0.2.21:80", "-g", "-w", "3"]]


def test_realserver_removed_and_added(mixed):
    desired = with_realserver(mixed, WEB, None, ("198.51.100.22", 80))
    new = normalize_service({"address": "192.0.2.50", "port": 80,
                             "realservers": [{"address": "192.0.2.23", "weight": 2}]})
    desired = with_realserver(desired, WEB, new["realservers"][("192.0.2.23", 80)], ("192.0.2.23", 80))
    assert plan(mixed, desired) == [
        ["-d", "-t", "192.0.2.50:80", "-r", "198.51.100.22:80"],
        ["-a", "-t", "192.0.2.50:80", "-r", "192.0.2.23:80", "-g", "-w", "2"],
    ]


def test_nat_port_mapping_is_a_different_realserver(mixed):
    key = ("udp", "192.0.2.50", 53)
    svc = normalize_service({"protocol": "udp", "address": "192.0.2.50", "port": 53, "scheduler": "sh",
                             "scheduler_flags": ["sh-fallback", "sh-port"], "one_packet": True,
                             "realservers": [{"address": "198.51.100.21", "port": 53, "forwarding": "masquerade",
                                              "weight": 2}]})
    assert plan(mixed, with_service(mixed, svc, key)) == [
        ["-d", "-u", "192.0.2.50:53", "-r", "198.51.100.21:5353"],
        ["-a", "-u", "192.0.2.50:53", "-r", "198.51.100.21:53", "-m", "-w", "2"],
    ]


def test_fwmark_services(mixed):
    svc = normalize_service({"fwmark": 10, "scheduler": "rr", "persistence_timeout": 300,
                             "realservers": [{"address": "192.0.2.21"}, {"address": "192.0.2.22", "weight": 2}]})
    assert plan(mixed, with_service(mixed, svc, ("fwmark", "ipv4", 10))) == [
        ["-a", "-f", "10", "-r", "192.0.2.22:0", "-g", "-w", "2"],
    ]
    assert plan(mixed, with_service(mixed, None, ("fwmark", "ipv6", 11))) == [["-D", "-f", "11", "-6"]]


def test_ipv6_service_added():
    svc = normalize_service({"address": "2001:db8::50", "port": 443, "persistence_timeout": 60,
                             "persistence_netmask": 64,
                             "realservers": [{"address": "2001:db8:1::21", "port": 8443, "forwarding": "masquerade"}]})
    assert plan({}, {service_key(svc): svc}) == [
        ["-A", "-t", "[2001:db8::50]:443", "-s", "wlc", "-p", "60", "-M", "64"],
        ["-a", "-t", "[2001:db8::50]:443", "-r", "[2001:db8:1::21]:8443", "-m", "-w", "1"],
    ]


def test_purge_removes_undeclared_services_first(mixed):
    keep = copy.deepcopy(mixed[WEB])
    commands = plan(mixed, merge_declared(mixed, [keep], purge=True))
    assert [c[0] for c in commands] == ["-D"] * 7
    assert ["-D", "-t", "192.0.2.50:80"] not in commands


def test_without_purge_undeclared_services_stay(mixed):
    svc = declare(address="192.0.2.99", port=25, scheduler="rr")
    assert plan(mixed, merge_declared(mixed, [svc], purge=False)) == [["-A", "-t", "192.0.2.99:25", "-s", "rr"]]


def test_restore_script():
    assert restore_script([["-A", "-t", "192.0.2.1:80", "-s", "rr"], ["-D", "-f", "3"]]) == \
        "-A -t 192.0.2.1:80 -s rr\n-D -f 3\n"


def test_large_table_plan_is_linear():
    services = [declare(address=f"192.0.{i // 250}.{i % 250 + 1}", port=80,
                        realservers=[{"address": f"198.51.100.{r + 1}"} for r in range(10)]) for i in range(1000)]
    desired = merge_declared({}, services, purge=True)
    commands = plan({}, desired)
    assert len(commands) == 11000
    assert plan(desired, copy.deepcopy(desired)) == []
