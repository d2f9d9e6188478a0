"""Parsing real ipvsadm 1.31 output (captured on a lab guest, see fixtures/mixed_setup.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import split_hostport
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (
    IPVSParseError,
    parse_daemons,
    parse_list,
    parse_save,
    parse_timeouts,
    realserver_args,
    save_text,
    service_args,
    service_settings_args,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture(scope="module")
def mixed():
    return parse_save(fixture("mixed_save.txt"))


def test_every_service_is_read(mixed):
    assert sorted(map(str, mixed)) == sorted(map(str, [
        ("tcp", "192.0.2.50", 0), ("tcp", "192.0.2.50", 80), ("udp", "192.0.2.50", 53),
        ("udp", "192.0.2.51", 5060), ("sctp", "192.0.2.50", 3868), ("tcp", "2001:db8:0:2::50", 443),
        ("fwmark", "ipv4", 10), ("fwmark", "ipv6", 11),
    ]))


@pytest.mark.parametrize("key, expected", [
    (("tcp", "192.0.2.50", 0), {"scheduler": "wlc", "persistence_timeout": 120, "persistence_netmask": 24}),
    (("tcp", "192.0.2.50", 80), {"scheduler": "wrr", "persistence_timeout": None, "persistence_netmask": 32}),
    (("udp", "192.0.2.50", 53), {"scheduler": "sh", "scheduler_flags": ["sh-fallback", "sh-port"],
                                 "one_packet": True}),
    (("udp", "192.0.2.51", 5060), {"persistence_timeout": 30, "persistence_engine": "sip", "one_packet": True}),
    (("sctp", "192.0.2.50", 3868), {"protocol": "sctp", "scheduler": "rr"}),
    (("tcp", "2001:db8:0:2::50", 443), {"family": "ipv6", "persistence_timeout": 60, "persistence_netmask": 64}),
    (("fwmark", "ipv4", 10), {"fwmark": 10, "persistence_timeout": 300, "address": None}),
    (("fwmark", "ipv6", 11), {"family": "ipv6", "scheduler": "mh", "scheduler_flags": ["mh-port"],
                              "persistence_netmask": 128}),
])
def test_service_attributes(mixed, key, expected):
    svc = mixed[key]
    assert {name: svc[name] for name in expected} == expected


@pytest.mark.parametrize("key, rkey, expected", [
    (("tcp", "192.0.2.50", 80), ("192.0.2.21", 80), {"forwarding": "route", "weight": 3, "tunnel_type": None}),
    (("tcp", "192.0.2.50", 80), ("198.51.100.22", 80), {"forwarding": "tunnel", "tunnel_type": "ipip",
                                                        "tunnel_port": None, "tunnel_checksum": None}),
    (("tcp", "192.0.2.50", 0), ("192.0.2.22", 0), {"forwarding": "tunnel", "tunnel_type": "gue",
                                                   "tunnel_port": 6080, "tunnel_checksum": "csum"}),
    (("udp", "192.0.2.50", 53), ("198.51.100.21", 5353), {"forwarding": "masquerade", "weight": 2}),
    (("tcp", "2001:db8:0:2::50", 443), ("2001:db8:0:3::15", 8443), {"forwarding": "masquerade", "weight": 5}),
    (("fwmark", "ipv4", 10), ("192.0.2.21", 0), {"forwarding": "route", "weight": 1}),
])
def test_realserver_attributes(mixed, key, rkey, expected):
    rs = mixed[key]["realservers"][rkey]
    assert {name: rs[name] for name in expected} == expected


def test_save_text_round_trips(mixed):
    assert parse_save(save_text(mixed)) == mixed


def test_rendered_arguments_match_what_ipvsadm_accepts(mixed):
    svc = mixed[("udp", "192.0.2.50", 53)]
    assert service_args(svc) == ["-u", "192.0.2.50:53"]
    assert service_settings_args(svc) == ["-s", "sh", "-b", "sh-fallback,sh-port", "-o"]
    assert service_args(mixed[("fwmark", "ipv6", 11)]) == ["-f", "11", "-6"]
    assert service_args(mixed[("sctp", "192.0.2.50", 3868)]) == ["--sctp-service", "192.0.2.50:3868"]
    v6 = mixed[("tcp", "2001:db8:0:2::50", 443)]
    assert service_settings_args(v6) == ["-s", "lc", "-p", "60", "-M", "64"]
    assert realserver_args(v6["realservers"][("2001:db8:0:3::15", 8443)]) == \
        ["-r", "[2001:db8:0:3::15]:8443", "-m", "-w", "5"]
    gue = mixed[("tcp", "192.0.2.50", 0)]["realservers"][("192.0.2.22", 0)]
    assert realserver_args(gue) == ["-r", "192.0.2.22:0", "-i", "-w", "1", "--tun-type", "gue",
                                    "--tun-port", "6080", "--tun-csum"]


def test_thresholds_listing():
    listed = parse_list(fixture("mixed_thresholds.txt"), ("upper_threshold", "lower_threshold", "active", "inactive"))
    assert listed[("tcp", "192.0.2.50", 80)]["realservers"][("192.0.2.21", 80)] == \
        {"upper_threshold": 100, "lower_threshold": 10, "active": 0, "inactive": 0}
    assert listed[("fwmark", "ipv6", 11)]["realservers"] == {}
    assert len(listed) == 8


def test_plain_listing_forwarding_names():
    listed = parse_list(fixture("mixed_list.txt"), ("forwarding", "weight", "active", "inactive"))
    rows = listed[("tcp", "192.0.2.50", 80)]["realservers"]
    assert rows[("192.0.2.21", 80)]["forwarding"] == "route"
    assert rows[("198.51.100.22", 80)]["forwarding"] == "tunnel"
    assert listed[("udp", "192.0.2.50", 53)]["realservers"][("198.51.100.21", 5353)]["forwarding"] == "masquerade"


@pytest.mark.parametrize("name, columns", [
    ("mixed_stats.txt", ("conns", "inpkts", "outpkts", "inbytes", "outbytes")),
    ("mixed_rate.txt", ("cps", "inpps", "outpps", "inbps", "outbps")),
])
def test_counters(name, columns):
    listed = parse_list(fixture(name), columns)
    assert set(listed[("fwmark", "ipv6", 11)]["counters"]) == set(columns)
    assert len(listed) == 8


def test_counters_with_values_and_suffixes():
    text = ("TCP  192.0.2.50:80                    1234    5678K       0   1000000  2M\n"
            "  -> 192.0.2.21:80                    1000       10       0        20   30\n")
    rows = parse_list(text, ("conns", "inpkts", "outpkts", "inbytes", "outbytes"))
    assert rows[("tcp", "192.0.2.50", 80)]["counters"] == {"conns": 1234, "inpkts": 5678000, "outpkts": 0,
                                                           "inbytes": 1000000, "outbytes": 2000000}
    assert rows[("tcp", "192.0.2.50", 80)]["realservers"][("192.0.2.21", 80)]["conns"] == 1000


def test_timeouts_and_daemons():
    assert parse_timeouts(fixture("mixed_timeout.txt")) == {"tcp": 900, "tcpfin": 120, "udp": 300}
    daemons = parse_daemons(fixture("daemon.txt"))
    assert [d["state"] for d in daemons] == ["master", "backup"]
    assert daemons[0]["mcast"] == "vec0" and daemons[0]["syncid"] == 7 and daemons[0]["group"] == "224.0.0.81"
    assert parse_daemons("") == []


def test_empty_table():
    assert parse_save("") == {}
    assert save_text({}) == ""


@pytest.mark.parametrize("text", [
    "-A -x 1.2.3.4:80 -s rr",
    "-A -t 1.2.3.4:80 -s rr --frobnicate",
    "-a -t 1.2.3.4:80 -r 10.0.0.1:80 -g -w 1",
    "-Z -t 1.2.3.4:80",
    "-A -t 1.2.3.4 -s rr",
])
def test_unreadable_output_is_an_error(text):
    with pytest.raises(IPVSParseError):
        parse_save(text)


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.1:80", ("10.0.0.1", 80)),
    ("[2001:db8::1]:443", ("2001:db8::1", 443)),
    ("[::1]:0", ("::1", 0)),
])
def test_split_hostport(text, expected):
    assert split_hostport(text) == expected
