"""vrrp_info and vip_info through main(), with their commands answered by a fake run_command (the dump and ARP
themselves are proven on the lab: stage site)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.modules import heartbeat_info, node_state, vip_info, vrrp_info
from ansible_collections.linux_cluster.lvs.plugins.modules.heartbeat_info import HOLDING, resource_groups

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


def test_heartbeat_resource_groups_from_haresources():
    text = ("# comment\n\ndir1 linux-cluster::vip::192.0.2.85/24::vec0 \\\n"
            "    linux-cluster::service::nginx  # the web\ndir2 IPaddr2::192.0.2.86/24\n")
    assert resource_groups(text) == [
        {"node": "dir1", "resources": ["linux-cluster::vip::192.0.2.85/24::vec0", "linux-cluster::service::nginx"]},
        {"node": "dir2", "resources": ["IPaddr2::192.0.2.86/24"]}]
    assert HOLDING[True] == ("local", "all") and HOLDING[False] == ("foreign", "all")


def test_heartbeat_info_says_which_groups_it_holds_here(monkeypatch, run_module, tmp_path):
    """dir2 holds dir1's group (cl_status says foreign); `local` on dir2, which has no group, would hold nothing."""
    haresources = tmp_path / "haresources"
    haresources.write_text("dir1 linux-cluster::vip::192.0.2.85/24::vec0 linux-cluster::service::nginx\n")
    said = {"rscstatus": "foreign"}

    def run_command(self, argv, **_kwargs):
        answers = {"hbstatus": (0, "Heartbeat is running on this machine.\n"),
                   "rscstatus": (0, said["rscstatus"] + "\n"), "listnodes": (0, "dir2\ndir1\n"),
                   "nodestatus": (0, "active\n" if argv[-1] == "dir2" else "dead\n")}
        rc, out = answers[argv[1]]
        return rc, out, ""
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: "/usr/bin/cl_status")
    dir2 = SimpleNamespace(nodename="dir2")
    monkeypatch.setattr(heartbeat_info.os, "uname", lambda: dir2)
    failed, result = run_module(heartbeat_info.main, {"haresources": str(haresources), "_ansible_check_mode": True})
    assert not failed and result["running"] and result["holds"]
    assert result["nodes"] == {"dir2": "active", "dir1": "dead"}
    assert result["groups"][0]["node"] == "dir1" and result["groups"][0]["held"]
    said["rscstatus"] = "local"
    assert run_module(heartbeat_info.main, {"haresources": str(haresources)})[1]["holds"] is False


def test_heartbeat_info_where_heartbeat_is_not_installed(monkeypatch, run_module, tmp_path):
    asked = fake_commands(monkeypatch, {})
    failed, result = run_module(heartbeat_info.main, {"haresources": str(tmp_path / "none")})
    assert not failed and (result["running"], result["holds"], result["groups"]) == (False, False, []) and asked == []


def test_node_state_resolves_names_in_the_resolvers_order_and_connects(monkeypatch, run_module):
    fake_commands(monkeypatch, {})

    def gethostbyname_ex(name):
        if name != "dir1":
            raise OSError("unknown host")
        return name, [], ["192.0.2.11", "127.0.1.1"]
    monkeypatch.setattr(node_state.socket, "gethostbyname_ex", gethostbyname_ex)
    reached = []

    def connect(target, timeout):
        reached.append((target, timeout))
        if target[0] == "192.0.2.22":
            raise ConnectionRefusedError
        return type("conn", (), {"__enter__": lambda self: self, "__exit__": lambda self, *exc: None})()
    monkeypatch.setattr(node_state.socket, "create_connection", connect)
    failed, result = run_module(node_state.main, {
        "names": ["dir1", "nothere"], "connect_timeout": 0.5,
        "connect": [{"host": "192.0.2.21", "port": 80}, {"host": "192.0.2.22", "port": 80},
                    {"host": "192.0.2.21", "port": 80}]})
    assert not failed
    assert result["names"] == {"dir1": ["192.0.2.11", "127.0.1.1"], "nothere": []}
    assert result["connect"] == {"192.0.2.21:80": True, "192.0.2.22:80": False}
    assert sorted(reached) == [(("192.0.2.21", 80), 0.5), (("192.0.2.22", 80), 0.5)]
