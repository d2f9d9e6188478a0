# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn a director's firewall-mark and masquerade declarations, and the interfaces that
carry VRRP adverts, into iptables rules (the rule lists linux_cluster.lvs.boot_unit holds), checking
each field on the way."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

PROTOCOLS = ("tcp", "udp", "sctp")


def _fail(field: str, value: object, why: str) -> AnsibleFilterError:
    return AnsibleFilterError(f"{field}={value!r}: {why}")


def _int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
        raise _fail(field, value, f"must be an integer from {low} to {high}")
    return int(value)


def fwmark_rules(rules: list, name: str = "fwmark_rules") -> list[dict]:
    """[{mark, vip, protocol, ports}] -> mangle PREROUTING rules that mark the VIP's ports."""
    result = []
    for index, rule in enumerate(rules or []):
        field = f"{name}[{index}]"
        if not isinstance(rule, dict):
            raise _fail(field, rule, "must be a dict with mark, vip, protocol and ports")
        mark = _int(f"{field}.mark", rule.get("mark"), 1, 2 ** 32 - 1)
        try:
            vip = ipaddress.ip_address(str(rule.get("vip"))).compressed
        except ValueError:
            raise _fail(f"{field}.vip", rule.get("vip"), "must be an IP address") from None
        protocol = str(rule.get("protocol") or "tcp")
        if protocol not in PROTOCOLS:
            raise _fail(f"{field}.protocol", protocol, f"must be one of {', '.join(PROTOCOLS)}")
        ports = rule.get("ports")
        if not isinstance(ports, list) or not ports:
            raise _fail(f"{field}.ports", ports, "must be a non-empty list of ports")
        ports = [_int(f"{field}.ports[{pos}]", port, 1, 65535) for pos, port in enumerate(ports)]
        result.append({"table": "mangle", "chain": "PREROUTING", "rule": [
            "-d", vip, "-p", protocol, "-m", "multiport", "--dports", ",".join(map(str, ports)),
            "-m", "comment", "--comment", f"linux_cluster.lvs fwmark {mark}", "-j", "MARK", "--set-mark", str(mark)]})
    return result


def masquerade_rules(networks: list, name: str = "masquerade") -> list[dict]:
    """[NETWORK, ...] -> nat POSTROUTING rules masquerading what leaves each network for elsewhere."""
    result = []
    for index, network in enumerate(networks or []):
        try:
            text = ipaddress.ip_network(str(network), strict=False).with_prefixlen
        except ValueError:
            raise _fail(f"{name}[{index}]", network, "must be a network such as 198.51.100.0/24") from None
        result.append({"table": "nat", "chain": "POSTROUTING", "rule": [
            "-s", text, "!", "-d", text, "-m", "comment", "--comment", f"linux_cluster.lvs masquerade {text}",
            "-j", "MASQUERADE"]})
    return result


VRRP_PROTOCOL = "112"


def vrrp_accept_rules(interfaces: list, name: str = "interfaces") -> list[dict]:
    """[INTERFACE, ...] -> filter INPUT rules, inserted first, that accept VRRP adverts on each interface."""
    result = []
    for index, interface in enumerate(interfaces or []):
        text = str(interface or "")
        if not text or len(text) > 15 or any(char in text for char in " /\t\n"):
            raise _fail(f"{name}[{index}]", interface, "must be an interface name")
        result.append({"table": "filter", "chain": "INPUT", "insert": True, "rule": [
            "-i", text, "-p", VRRP_PROTOCOL, "-m", "comment", "--comment", f"linux_cluster.lvs VRRP on {text}",
            "-j", "ACCEPT"]})
    return result


class FilterModule:
    def filters(self):
        return {"fwmark_rules": fwmark_rules, "masquerade_rules": masquerade_rules,
                "vrrp_accept_rules": vrrp_accept_rules}
