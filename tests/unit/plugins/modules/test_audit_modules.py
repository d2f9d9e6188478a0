"""vrrp_info and vip_info through main(), with their commands answered by a fake run_command (the dump and ARP
themselves are proven on the lab: stage site)."""

from __future__ import annotations

import json

from ansible_collections.linux_cluster.lvs.plugins.modules import vip_info, vrrp_info

from .test_node_state import fake_commands

IP_ADDR = json.dumps([
    {"ifname": "lo", "flags": ["LOOPBACK", "UP"], "address": "00:00:00:00:00:00",
     "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}, {"local": "192.0.2.50", "prefixlen": 32}]},
    {"ifname": "eth0", "flags": ["UP"], "address": "52:54:00:00:00:21",
     "addr_info": [{"local": "192.0.2.21", "prefixlen": 24}]},
])


def test_vrrp_info_where_keepalived_is_not_installed(monkeypatch, run_module):
    asked = fake_commands(monkeypatch, {})
    failed, result = run_module(vrrp_info.main, {"digest_key": "k", "_ansible_check_mode": True})
    assert not failed and result == {**result, "changed": False, "running": False, "instances": {}}
    assert asked == []


def test_vrrp_info_where_keepalived_is_stopped(monkeypatch, run_module):
    asked = fake_commands(monkeypatch, {"keepalived": (0, "", ""), "systemctl": (0, "0\n", "")})
    failed, result = run_module(vrrp_info.main, {})
    assert not failed and result["running"] is False
    assert [argv[1:] for argv in asked] == [["show", "--property=MainPID", "--value", "keepalived"]]


def test_vip_info_without_arp(monkeypatch, run_module):
    fake_commands(monkeypatch, {"ip": (0, IP_ADDR, "")})
    failed, result = run_module(vip_info.main, {"addresses": ["192.0.2.50", "192.0.2.60"], "arp": False})
    assert not failed and result["changed"] is False
    assert result["addresses"] == {"192.0.2.50": {"held_on": ["lo"], "asked_on": None, "answered_by": None},
                                   "192.0.2.60": {"held_on": [], "asked_on": None, "answered_by": None}}
    assert result["interfaces"]["eth0"]["mac"] == "52:54:00:00:00:21"


def test_vip_info_bad_input_is_named(monkeypatch, run_module):
    fake_commands(monkeypatch, {})
    failed, result = run_module(vip_info.main, {"addresses": ["192.0.2.500"], "arp_timeout": 0})
    assert failed and result["msg"] == ("addresses: '192.0.2.500' is not an IP address; "
                                        "arp_timeout=0.0: from 0 to 10 seconds")
