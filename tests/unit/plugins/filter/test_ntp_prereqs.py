"""The ntp_prereqs role's checks across nodes (names against uname -n, addresses, interfaces, silent sources),
its /etc/hosts entries, chrony_config's refusal, and the cluster traffic it lets through a host firewall."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.filter.lvs_iptables import accept_rules, vrrp_accept_rules
from ansible_collections.linux_cluster.lvs.plugins.filter.ntp_prereqs import (
    chrony_config,
    clock_problems,
    cluster_hosts,
    ntp_prereqs_problems,
    unresolved_hosts,
)

LINKS = [{"ifname": "lo"}, {"ifname": "eth0"}]


def node(name, address, uname=None, interfaces=(), probe=None):
    return {"name": name, "address": address, "uname": uname or name, "interfaces": list(interfaces),
            "links": LINKS, "probe": probe}


def test_a_consistent_cluster_has_no_problem():
    assert ntp_prereqs_problems({"dir1": node("dir1", "192.0.2.11", interfaces=["eth0"]),
                                 "dir2": node("dir2", "192.0.2.12")}) == []


def test_names_addresses_and_interfaces_are_checked_across_the_nodes():
    assert ntp_prereqs_problems({
        "dir1": node("dir1", "192.0.2.11", uname="lb1"),
        "dir2": node("dir1", "192.0.2.11", interfaces=["eth1"]),
    }) == [
        "dir1: ntp_prereqs_node_name='dir1' is not the node's own name 'lb1' (uname -n): set the inventory (or "
        "ntp_prereqs_node_name) to the node's name, or rename the node",
        "dir2: ntp_prereqs_node_name='dir1': dir1 has that name too",
        "dir2: ntp_prereqs_node_address='192.0.2.11': dir1 has that address too",
        "dir2: ntp_prereqs_interfaces[0]='eth1': no such interface on dir2 (it has eth0, lo)",
    ]


def test_sources_none_of_which_answers_stop_the_role_one_that_answers_is_enough():
    silent = {"sources": [{"server": "192.0.2.100", "error": "no answer within 1 s"},
                          {"server": "ntp.example.org", "error": "cannot resolve: Name or service not known"}]}
    assert ntp_prereqs_problems({"rs1": node("rs1", "192.0.2.21", probe=silent)}) == [
        "rs1: ntp_prereqs_time_sources: no time source answers from rs1 (192.0.2.100: no answer within 1 s; "
        "ntp.example.org: cannot resolve: Name or service not known)"]
    one = {"sources": [silent["sources"][0], {"server": "192.0.2.101", "offset": 0.2, "delay": 0.001}]}
    assert ntp_prereqs_problems({"rs1": node("rs1", "192.0.2.21", probe=one)}) == []


def test_hosts_entries_from_what_each_node_declares():
    hostvars = {"dir1": {"ansible_host": "192.0.2.11"}, "dir2": {"ntp_prereqs_node_name": "lb2",
                                                                 "ntp_prereqs_node_address": "198.51.100.12",
                                                                 "ansible_host": "192.0.2.12"},
                "client": {}}
    assert cluster_hosts(["dir1", "dir2", "client"], hostvars) == [
        {"name": "dir1", "address": "192.0.2.11"}, {"name": "lb2", "address": "198.51.100.12"},
        {"name": "client", "address": "client"}]


def test_chrony_config_refuses_what_the_preflight_refuses():
    assert chrony_config({"time_sources": [{"address": "192.0.2.100"}]})["sources"] == "server 192.0.2.100 iburst\n"
    with pytest.raises(AnsibleFilterError, match=r"chrony_config: allow\[0\]='x': not a network"):
        chrony_config({"local_stratum": 8, "allow": ["x"]})


def test_clock_problems_name_the_node():
    time = chrony_config({"time_sources": [{"address": "192.0.2.100"}], "max_offset": 0.5})
    probe = {"offset": 1.25, "sources": [{"server": "192.0.2.100", "offset": 1.25}]}
    problems = clock_problems({"rs1": {"time": time, "waitsync": 0, "tracking": "", "probe": probe}})
    assert problems[0].startswith("rs1: chrony did not synchronise within 120 s")
    assert problems[1].startswith("rs1: clock off by +1.250000 s from its time sources, beyond ntp_prereqs_max_offset "
                                  "0.5 s")


def test_cluster_traffic_accepted_on_each_interface():
    rules = accept_rules(["eth0"], ["vrrp", "ipvs_sync", "heartbeat", "ntp"], "ntp_prereqs_interfaces")
    assert [rule["rule"][:6] for rule in rules] == [
        ["-i", "eth0", "-p", "112", "-m", "comment"],
        ["-i", "eth0", "-p", "udp", "--dport", "8848"],
        ["-i", "eth0", "-p", "udp", "--dport", "694"],
        ["-i", "eth0", "-p", "udp", "--dport", "123"],
    ]
    assert all(rule["insert"] and rule["chain"] == "INPUT" and rule["rule"][-2:] == ["-j", "ACCEPT"] for rule in rules)
    # VRRP alone is the same rule keepalived_ha inserts.
    assert vrrp_accept_rules(["eth0"]) == accept_rules(["eth0"], ["vrrp"])
    with pytest.raises(AnsibleFilterError, match="ssh"):
        accept_rules(["eth0"], ["ssh"])
    with pytest.raises(AnsibleFilterError, match=r"ntp_prereqs_interfaces\[0\]"):
        accept_rules(["eth0; reboot"], ["ntp"], "ntp_prereqs_interfaces")


def test_names_count_by_their_first_address():
    entries = [{"name": "dir1", "address": "192.0.2.11"}, {"name": "dir2", "address": "192.0.2.12"},
               {"name": "rs1", "address": "192.0.2.21"}]
    getent = "192.0.2.11      dir1\n127.0.1.1       dir1\n10.0.0.12       dir2 dir2.example\n"
    assert unresolved_hosts(entries, getent) == ["dir2 resolves to 10.0.0.12, not 192.0.2.12",
                                                 "rs1 resolves to nothing, not 192.0.2.21"]
    assert unresolved_hosts(entries[:1], getent) == []
