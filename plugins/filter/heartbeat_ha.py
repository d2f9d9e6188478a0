# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the heartbeat_ha role. heartbeat has no configuration check, so the role checks what it
would write itself, on every node of the play, before any node changes: heartbeat_probe reads what the
role's probe script reports about a node, heartbeat_problems returns what would make the cluster fail."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

MEDIA = ("ucast", "bcast", "mcast")
METHODS = ("sha1", "md5")
# The characters that end or cut a key in authkeys (words split on blanks, `#` starts a comment).
KEY_BREAKERS = (" ", "\t", "\n", "\r", "#")


def heartbeat_probe(text: str) -> dict:
    """The probe script's report (lines `uname NAME`, `resolves NAME [ADDRESS]`, `interface NAME`,
    `vip_interface NAME`, `service NAME present|missing`, `active yes|no`) as
    {uname, resolves: {name: address or ''}, interfaces: [...], vip_interface, services: {name: bool}, active}."""
    probe: dict = {"uname": "", "resolves": {}, "interfaces": [], "vip_interface": "", "services": {},
                   "active": False}
    for line in (text or "").splitlines():
        words = line.split()
        if not words:
            continue
        kind, rest = words[0], words[1:]
        if kind == "uname" and rest:
            probe["uname"] = rest[0]
        elif kind == "resolves" and rest:
            probe["resolves"][rest[0]] = rest[1] if len(rest) > 1 else ""
        elif kind == "interface" and rest:
            probe["interfaces"].append(rest[0].split("@")[0])
        elif kind == "vip_interface" and rest:
            probe["vip_interface"] = rest[0]
        elif kind == "service" and len(rest) == 2:
            probe["services"][rest[0]] = rest[1] == "present"
        elif kind == "active" and rest:
            probe["active"] = rest[0] == "yes"
    return probe


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _timer_problems(config: dict) -> list[str]:
    names = ("keepalive", "warntime", "deadtime", "initdead")
    timers = {name: _number(config.get(name)) for name in names}
    problems = [f"heartbeat_ha_{name}: {config.get(name)!r} is not a number of seconds above 0"
                for name in names if timers[name] is None]
    if problems:
        return problems
    keepalive, warntime, deadtime, initdead = (timers[name] for name in names)
    if keepalive >= warntime:
        problems.append(f"heartbeat_ha_keepalive: {config['keepalive']!r} must be below heartbeat_ha_warntime "
                        f"({config['warntime']!r})")
    if warntime >= deadtime:
        problems.append(f"heartbeat_ha_warntime: {config['warntime']!r} must be below heartbeat_ha_deadtime "
                        f"({config['deadtime']!r})")
    if initdead < max(2 * deadtime, 10):
        problems.append(f"heartbeat_ha_initdead: {config['initdead']!r} must be at least twice heartbeat_ha_deadtime "
                        f"({config['deadtime']!r}) and at least 10 s")
    return problems


def _auth_problems(config: dict) -> list[str]:
    problems = []
    keys = config.get("authkeys") or []
    if not keys:
        return ["heartbeat_ha_authkeys: empty; give at least one {index, method, key}"]
    indexes = []
    for position, entry in enumerate(keys):
        where = f"heartbeat_ha_authkeys[{position}]"
        entry = entry if isinstance(entry, dict) else {}
        index = entry.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= 15:
            problems.append(f"{where}.index: {index!r} is not a number from 1 to 15")
        elif index in indexes:
            problems.append(f"{where}.index: {index} is used twice")
        else:
            indexes.append(index)
        if entry.get("method") not in METHODS:
            problems.append(f"{where}.method: {entry.get('method')!r} is not one of {', '.join(METHODS)}")
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            problems.append(f"{where}.key: missing")
        elif any(char in key for char in KEY_BREAKERS):
            problems.append(f"{where}.key: contains a blank or '#', which would cut the key (value not shown)")
    selected = config.get("auth_index")
    if str(selected) not in {str(index) for index in indexes}:
        problems.append(f"heartbeat_ha_auth_index: {selected!r} is not an index of heartbeat_ha_authkeys "
                        f"({', '.join(str(index) for index in indexes) or 'none'})")
    return problems


def _vip_problems(config: dict) -> list[str]:
    problems = []
    for position, vip in enumerate(config.get("vips") or []):
        address = vip.get("address") if isinstance(vip, dict) else vip
        try:
            network = ipaddress.IPv4Interface(str(address))
        except ValueError:
            problems.append(f"heartbeat_ha_vips[{position}].address: {address!r} is not an IPv4 address/prefix")
            continue
        if "/" not in str(address) or network.network.prefixlen == 0:
            problems.append(f"heartbeat_ha_vips[{position}].address: {address!r} needs a prefix (address/prefix)")
    return problems


def _media_problems(config: dict) -> list[str]:
    problems = []
    media = config.get("media")
    if media not in MEDIA:
        problems.append(f"heartbeat_ha_media: {media!r} is not one of {', '.join(MEDIA)}")
    port = config.get("udpport")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.append(f"heartbeat_ha_udpport: {port!r} is not a port number")
    if media == "mcast":
        try:
            if not ipaddress.IPv4Address(str(config.get("mcast_group"))).is_multicast:
                raise ValueError
        except ValueError:
            problems.append(f"heartbeat_ha_mcast_group: {config.get('mcast_group')!r} is not an IPv4 multicast address")
    for position, address in enumerate(config.get("ping_nodes") or []):
        try:
            ipaddress.ip_address(str(address))
        except ValueError:
            problems.append(f"heartbeat_ha_ping_nodes[{position}]: {address!r} is not an IP address")
    return problems


def _node_problems(config: dict, probes: dict) -> list[str]:
    problems = []
    nodes = list(config.get("nodes") or [])
    if len(set(nodes)) < 2:
        problems.append(f"heartbeat_ha_nodes: {nodes!r} must name at least two distinct nodes")
    if config.get("preferred_node") not in nodes:
        problems.append(f"heartbeat_ha_preferred_node: {config.get('preferred_node')!r} is not one of "
                        f"heartbeat_ha_nodes {nodes!r}")
    interfaces = config.get("interfaces") or {}
    for node in nodes:
        probe = probes.get(node)
        if not probe:
            problems.append(f"heartbeat_ha_nodes: {node!r} is not a host of this play (it was not checked)")
            continue
        if probe["uname"] != node:
            problems.append(f"heartbeat_ha_nodes: {node!r} calls itself {probe['uname']!r} (uname -n); heartbeat "
                            f"knows a node by that name only")
        for other in nodes:
            if not probe["resolves"].get(other):
                problems.append(f"heartbeat_ha_nodes: {other!r} does not resolve on {node} (add it to /etc/hosts)")
        interface = interfaces.get(node) or ""
        if not interface:
            problems.append(f"heartbeat_ha_interface: none given and no interface of {node} has an address in the "
                            f"first VIP's network")
        elif interface not in probe["interfaces"]:
            problems.append(f"heartbeat_ha_interface: {interface!r} does not exist on {node}")
        for position, vip in enumerate(config.get("vips") or []):
            device = vip.get("interface") if isinstance(vip, dict) else None
            if device and device not in probe["interfaces"]:
                problems.append(f"heartbeat_ha_vips[{position}].interface: {device!r} does not exist on {node}")
        for service in config.get("services") or []:
            if not probe["services"].get(service):
                problems.append(f"heartbeat_ha_services: {service!r} has no init script on {node} "
                                f"(/etc/init.d/{service}); install it first")
    return problems


def heartbeat_problems(config: dict, probes: dict) -> list[str]:
    """The cluster's settings (nodes, preferred_node, media, interfaces {node: interface}, udpport,
    mcast_group, keepalive, warntime, deadtime, initdead, authkeys, auth_index, vips, services,
    ping_nodes) and {node: heartbeat_probe(...)} -> one sentence per problem, naming the variable and
    its value (never an authkeys key)."""
    if not isinstance(config, dict) or not isinstance(probes, dict):
        raise AnsibleFilterError("heartbeat_problems expects the settings and the probes as dictionaries")
    return (_node_problems(config, probes) + _media_problems(config) + _timer_problems(config)
            + _auth_problems(config) + _vip_problems(config))


def heartbeat_interfaces(chosen: dict, probes: dict) -> dict:
    """{node: interface set for it or ''} and {node: probe} -> {node: the interface heartbeat uses there}:
    the one set, else the one with an address in the first VIP's network."""
    return {node: (chosen or {}).get(node) or (probes.get(node) or {}).get("vip_interface") or ""
            for node in probes}


def heartbeat_duration(seconds) -> str:
    """A timer of ha.cf: whole seconds as they are, fractions in milliseconds (0.5 -> 500ms)."""
    number = float(seconds)
    return str(int(number)) if number == int(number) else f"{round(number * 1000)}ms"


class FilterModule:
    def filters(self):
        return {
            "heartbeat_probe": heartbeat_probe,
            "heartbeat_problems": heartbeat_problems,
            "heartbeat_duration": heartbeat_duration,
            "heartbeat_interfaces": heartbeat_interfaces,
        }
