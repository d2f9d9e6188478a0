"""Validation of user input: every error names the field and the value."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import InputError
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import normalize_service
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import SCHEDULERS, netmask_text


def svc(**fields):
    base = {"address": "192.0.2.100", "port": 80}
    base.update(fields)
    return base


def test_defaults():
    out = normalize_service(svc(realservers=[{"address": "192.0.2.21"}]))
    assert out["protocol"] == "tcp" and out["scheduler"] == "wlc" and out["persistence_timeout"] is None
    assert out["persistence_netmask"] == 32
    rs = out["realservers"][("192.0.2.21", 80)]
    assert rs == {"address": "192.0.2.21", "port": 80, "forwarding": "route", "weight": 1, "upper_threshold": 0,
                  "lower_threshold": 0, "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_is_accepted(scheduler):
    assert normalize_service(svc(scheduler=scheduler))["scheduler"] == scheduler


@pytest.mark.parametrize("given, prefix, text", [
    ("255.255.255.0", 24, "255.255.255.0"),
    ("24", 24, "255.255.255.0"),
    ("/16", 16, "255.255.0.0"),
    (None, 32, "255.255.255.255"),
])
def test_ipv4_netmask_forms(given, prefix, text):
    out = normalize_service(svc(persistence_timeout=60, persistence_netmask=given))
    assert out["persistence_netmask"] == prefix
    assert netmask_text(prefix, "ipv4") == text


def test_ipv6_service_and_netmask():
    out = normalize_service({"address": "[2001:DB8::0100]", "port": 443, "persistence_timeout": 60,
                             "persistence_netmask": "64", "realservers": [{"address": "2001:db8:1::21"}]})
    assert out["address"] == "2001:db8::100" and out["family"] == "ipv6" and out["persistence_netmask"] == 64
    assert netmask_text(64, "ipv6") == "64"


def test_fwmark_service():
    out = normalize_service({"fwmark": 10, "family": "ipv6", "persistence_timeout": 300,
                             "realservers": [{"address": "2001:db8::21"}]})
    assert out["fwmark"] == 10 and out["address"] is None and out["family"] == "ipv6"
    assert list(out["realservers"]) == [("2001:db8::21", 0)]


def test_nat_port_mapping_and_tunnels():
    out = normalize_service(svc(realservers=[
        {"address": "198.51.100.21", "port": 8080, "forwarding": "masquerade"},
        {"address": "198.51.100.22", "forwarding": "tunnel"},
        {"address": "198.51.100.23", "forwarding": "tunnel", "tunnel_type": "gue", "tunnel_port": 6080},
        {"address": "198.51.100.24", "forwarding": "tunnel", "tunnel_type": "gre", "tunnel_checksum": "csum"},
    ]))
    rs = out["realservers"]
    assert rs[("198.51.100.21", 8080)]["forwarding"] == "masquerade"
    assert rs[("198.51.100.22", 80)]["tunnel_type"] == "ipip"
    assert rs[("198.51.100.23", 80)]["tunnel_checksum"] == "nocsum"
    assert rs[("198.51.100.24", 80)]["tunnel_checksum"] == "csum"


@pytest.mark.parametrize("spec, field, value", [
    (svc(address="300.1.2.3"), "address", "300.1.2.3"),
    (svc(address="www.example.com"), "address", "www.example.com"),
    (svc(port=70000), "port", 70000),
    (svc(port=-1), "port", -1),
    (svc(port="http"), "port", "http"),
    (svc(scheduler="fastest"), "scheduler", "fastest"),
    (svc(protocol="icmp"), "protocol", "icmp"),
    ({"fwmark": 0}, "fwmark", 0),
    ({"fwmark": 2 ** 32}, "fwmark", 2 ** 32),
    ({"fwmark": 5, "address": "192.0.2.1"}, "fwmark", 5),
    ({"fwmark": 5, "protocol": "udp"}, "fwmark", 5),
    ({"fwmark": 5, "family": "ipx"}, "family", "ipx"),
    ({"port": 80}, "address", None),
    ({"address": "192.0.2.1"}, "port", None),
    (svc(family="ipv6"), "family", "ipv6"),
    (svc(port=0), "port", 0),
    (svc(persistence_timeout=0), "persistence_timeout", 0),
    (svc(persistence_netmask="24"), "persistence_netmask", "24"),
    (svc(persistence_timeout=5, persistence_netmask="255.0.255.0"), "persistence_netmask", "255.0.255.0"),
    (svc(persistence_timeout=5, persistence_netmask="33"), "persistence_netmask", "33"),
    (svc(scheduler="rr", scheduler_flags=["sh-port"]), "scheduler_flags", "sh-port"),
    (svc(scheduler="sh", scheduler_flags=["mh-port"]), "scheduler_flags", "mh-port"),
    (svc(one_packet=True), "one_packet", True),
    (svc(persistence_engine="http"), "persistence_engine", "http"),
    (svc(realservers=[{"address": "2001:db8::1"}]), "realservers[0].address", "2001:db8::1"),
    (svc(realservers=[{"address": "192.0.2.21", "weight": 65536}]), "realservers[0].weight", 65536),
    (svc(realservers=[{"address": "192.0.2.21", "weight": -1}]), "realservers[0].weight", -1),
    (svc(realservers=[{"address": "192.0.2.21", "upper_threshold": -5}]), "realservers[0].upper_threshold", -5),
    (svc(realservers=[{"address": "192.0.2.21", "lower_threshold": -1}]), "realservers[0].lower_threshold", -1),
    (svc(realservers=[{"address": "192.0.2.21", "upper_threshold": 10, "lower_threshold": 20}]),
     "realservers[0].lower_threshold", 20),
    (svc(realservers=[{"address": "192.0.2.21", "port": 8080}]), "realservers[0].port", 8080),
    (svc(realservers=[{"address": "192.0.2.21", "forwarding": "teleport"}]), "realservers[0].forwarding",
     "teleport"),
    (svc(realservers=[{"address": "192.0.2.21", "tunnel_type": "gue"}]), "realservers[0].tunnel_type", "gue"),
    (svc(realservers=[{"address": "192.0.2.21", "forwarding": "tunnel", "tunnel_type": "gue"}]),
     "realservers[0].tunnel_port", None),
    (svc(realservers=[{"address": "192.0.2.21", "forwarding": "tunnel", "tunnel_port": 5}]),
     "realservers[0].tunnel_port", 5),
    (svc(realservers=[{"address": "192.0.2.21"}, {"address": "192.0.2.21"}]), "realservers[1].address",
     "192.0.2.21"),
])
def test_bad_input_names_field_and_value(spec, field, value):
    with pytest.raises(InputError) as exc:
        normalize_service(spec)
    assert str(exc.value).startswith(f"{field}={value!r}:"), str(exc.value)


def test_nested_field_names_carry_the_prefix():
    with pytest.raises(InputError, match=r"^services\[3\]\.realservers\[0\]\.weight=70000:"):
        normalize_service(svc(realservers=[{"address": "192.0.2.21", "weight": 70000}]), field="services[3]")
