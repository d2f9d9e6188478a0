# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iptables rules as data (the rule lists linux_cluster.lvs.boot_unit holds): a director's firewall marks
and masquerade, and the cluster's own traffic (VRRP adverts, IPVS connection sync, heartbeat, NTP) accepted on
an interface. Each field checked; InputError(s) name them.
Pure functions."""

from __future__ import annotations

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    InputError,
    collect,
    integer,
    interface_name,
    ip_address,
    ip_network,
)

PROTOCOLS = ("tcp", "udp", "sctp")
VRRP_PROTOCOL = "112"


def _fwmark_rule(field: str, rule: object) -> dict:
    if not isinstance(rule, dict):
        raise InputError(field, rule, "must be a dict with mark, vip, protocol and ports")
    protocol = str(rule.get("protocol") or "tcp")
    ports = rule.get("ports")

    def port_list() -> list[int]:
        if not isinstance(ports, list) or not ports:
            raise InputError(f"{field}.ports", ports, "must be a non-empty list of ports")
        return collect([lambda pos=pos, port=port: integer(f"{field}.ports[{pos}]", port, 1, 65535)
                        for pos, port in enumerate(ports)])

    def protocol_name() -> str:
        if protocol not in PROTOCOLS:
            raise InputError(f"{field}.protocol", protocol, f"must be one of {', '.join(PROTOCOLS)}")
        return protocol

    mark, vip, protocol, ports = collect([
        lambda: integer(f"{field}.mark", rule.get("mark"), 1, 2 ** 32 - 1),
        lambda: ip_address(f"{field}.vip", rule.get("vip")),
        protocol_name,
        port_list,
    ])
    return {"table": "mangle", "chain": "PREROUTING", "rule": [
        "-d", vip, "-p", protocol, "-m", "multiport", "--dports", ",".join(map(str, ports)),
        "-m", "comment", "--comment", f"linux_cluster.lvs fwmark {mark}", "-j", "MARK", "--set-mark", str(mark)]}


def fwmark_rule_list(rules: list, name: str = "fwmark_rules") -> list[dict]:
    """[{mark, vip, protocol, ports}] -> mangle PREROUTING rules that mark the VIP's ports; InputError(s)."""
    return collect([lambda index=index, rule=rule: _fwmark_rule(f"{name}[{index}]", rule)
                    for index, rule in enumerate(rules or [])])


def masquerade_rule_list(networks: list, name: str = "masquerade") -> list[dict]:
    """[NETWORK, ...] -> per network, nat POSTROUTING masquerading what leaves it for elsewhere and, first, a
    mangle POSTROUTING drop of a forwarded TCP segment from it that is no SYN and of no connection conntrack
    tracks: a reply IPVS did not translate. After a failover the old director has deleted its services (and,
    with expire_nodest_conn=1, their connections) while a real server still sends there until the gateway's
    gratuitous ARP reaches it; masqueraded, the segment reached the client from the director's own address and
    the client's reset, translated back, reset the real server's end of a connection the new director holds.
    Dropped, the real server sends it again, to the new director."""
    texts = collect([lambda index=index, network=network: ip_network(f"{name}[{index}]", network)
                     for index, network in enumerate(networks or [])])
    rules = []
    for text in texts:
        leaving = ["-s", text, "!", "-d", text]
        rules += [
            {"table": "mangle", "chain": "POSTROUTING", "rule": [
                *leaving, "-p", "tcp", "!", "--syn", "-m", "conntrack", "--ctstate", "NEW,INVALID",
                "-m", "addrtype", "!", "--src-type", "LOCAL",
                "-m", "comment", "--comment", f"linux_cluster.lvs untranslated reply from {text}", "-j", "DROP"]},
            {"table": "nat", "chain": "POSTROUTING", "rule": [
                *leaving, "-m", "comment", "--comment", f"linux_cluster.lvs masquerade {text}", "-j", "MASQUERADE"]},
        ]
    return rules


# What a cluster's nodes send each other: (protocol, destination port or None, what it is).
CLUSTER_TRAFFIC = {
    "vrrp": (VRRP_PROTOCOL, None, "VRRP"),
    "ipvs_sync": ("udp", 8848, "IPVS connection sync"),
    "heartbeat": ("udp", 694, "heartbeat"),
    "ntp": ("udp", 123, "NTP"),
}


def accept_rule_list(interfaces: list, name: str = "interfaces", traffic: list | tuple = ("vrrp",)) -> list[dict]:
    """[INTERFACE, ...] -> filter INPUT rules, inserted first, that accept on each interface the cluster traffic
    named in `traffic` (keys of CLUSTER_TRAFFIC)."""
    names = collect([lambda index=index, interface=interface: interface_name(f"{name}[{index}]", interface)
                     for index, interface in enumerate(interfaces or [])])
    unknown = [kind for kind in traffic if kind not in CLUSTER_TRAFFIC]
    if unknown:
        raise InputError("traffic", unknown, f"one of {', '.join(CLUSTER_TRAFFIC)}")
    rules = []
    for text in names:
        for kind in traffic:
            protocol, port, what = CLUSTER_TRAFFIC[kind]
            rules.append({"table": "filter", "chain": "INPUT", "insert": True, "rule": [
                "-i", text, "-p", protocol, *(["--dport", str(port)] if port else []),
                "-m", "comment", "--comment", f"linux_cluster.lvs {what} on {text}", "-j", "ACCEPT"]})
    return rules


def vrrp_accept_rule_list(interfaces: list, name: str = "interfaces") -> list[dict]:
    """[INTERFACE, ...] -> filter INPUT rules, inserted first, that accept VRRP adverts on each interface."""
    return accept_rule_list(interfaces, name, ("vrrp",))
