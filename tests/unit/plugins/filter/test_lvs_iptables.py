"""The director's firewall-mark and masquerade declarations turned into iptables rules as data."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.filter.lvs_iptables import (
    fwmark_rules,
    masquerade_rules,
    vrrp_accept_rules,
)


def test_fwmark_rule():
    assert fwmark_rules([{"mark": 10, "vip": "192.0.2.51", "ports": [80, 8080]}]) == [{
        "table": "mangle", "chain": "PREROUTING",
        "rule": ["-d", "192.0.2.51", "-p", "tcp", "-m", "multiport", "--dports", "80,8080", "-m", "comment",
                 "--comment", "linux_cluster.lvs fwmark 10", "-j", "MARK", "--set-mark", "10"]}]


def test_masquerade_rule_and_the_drop_of_untranslated_replies_before_it():
    net = "198.51.100.0/24"
    assert masquerade_rules([net]) == [
        {"table": "mangle", "chain": "POSTROUTING",
         "rule": ["-s", net, "!", "-d", net, "-p", "tcp", "!", "--syn", "-m", "conntrack", "--ctstate", "NEW,INVALID",
                  "-m", "addrtype", "!", "--src-type", "LOCAL", "-m", "comment", "--comment",
                  f"linux_cluster.lvs untranslated reply from {net}", "-j", "DROP"]},
        {"table": "nat", "chain": "POSTROUTING",
         "rule": ["-s", net, "!", "-d", net, "-m", "comment", "--comment", f"linux_cluster.lvs masquerade {net}",
                  "-j", "MASQUERADE"]}]


@pytest.mark.parametrize("rules, message", [
    ([{"mark": 10, "ports": [80]}], "rules[0].vip=None: an IP address is required"),
    ([{"mark": 10, "vip": "www", "ports": [80]}], "rules[0].vip='www': not an IP address"),
    ([{"vip": "192.0.2.51", "ports": [80]}], "rules[0].mark=None: an integer from 1 to 4294967295 is required"),
    ([{"mark": 0, "vip": "192.0.2.51", "ports": [80]}], "rules[0].mark=0: must be from 1"),
    ([{"mark": 10, "vip": "192.0.2.51"}], "rules[0].ports=None: must be a non-empty list"),
    ([{"mark": 10, "vip": "192.0.2.51", "ports": [80, 70000]}], "rules[0].ports[1]=70000: must be from 1 to 65535"),
    ([{"mark": 10, "vip": "192.0.2.51", "ports": [80], "protocol": "icmp"}], "rules[0].protocol='icmp': must be"),
])
def test_bad_fwmark_rule_names_field_and_value(rules, message):
    with pytest.raises(AnsibleFilterError) as exc:
        fwmark_rules(rules, "rules")
    assert str(exc.value).startswith(message), str(exc.value)


def test_every_bad_field_at_once():
    with pytest.raises(AnsibleFilterError) as exc:
        fwmark_rules([{"mark": 0, "vip": "1.2", "ports": ["http"]}, {"mark": 5, "vip": "999.1.1.1", "ports": [1]}],
                     "lvs_director_fwmark_rules")
    assert str(exc.value) == ("lvs_director_fwmark_rules[0].mark=0: must be from 1 to 4294967295; "
                              "lvs_director_fwmark_rules[0].vip='1.2': not an IP address (host names are not "
                              "accepted); lvs_director_fwmark_rules[0].ports[0]='http': an integer from 1 to 65535 "
                              "is required; lvs_director_fwmark_rules[1].vip='999.1.1.1': not an IP address (host "
                              "names are not accepted)")


def test_bad_network():
    with pytest.raises(AnsibleFilterError, match=r"^masquerade\[1\]='10.0.0.0/33'"):
        masquerade_rules(["10.0.0.0/8", "10.0.0.0/33"])


def test_vrrp_accept_rule_is_inserted_first_per_interface():
    assert vrrp_accept_rules(["vec0", "eth1"]) == [
        {"table": "filter", "chain": "INPUT", "insert": True,
         "rule": ["-i", name, "-p", "112", "-m", "comment", "--comment", f"linux_cluster.lvs VRRP on {name}",
                  "-j", "ACCEPT"]}
        for name in ("vec0", "eth1")]


@pytest.mark.parametrize("interface", ["", None, "eth 0", "a-very-long-interface-name"])
def test_bad_interface(interface):
    with pytest.raises(AnsibleFilterError, match=r"^keepalived_ha_instances\[\]\.interface\[1\]="):
        vrrp_accept_rules(["eth0", interface], "keepalived_ha_instances[].interface")
