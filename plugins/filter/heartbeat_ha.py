# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the heartbeat_ha role. heartbeat has no configuration check, so the role checks what it
would write itself, on every node of the play, before any node changes: heartbeat_probe reads what the
role's probe script reports about a node, heartbeat_problems returns what would make the cluster fail."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    InputError,
    choice,
    errors_of,
    integer,
    ip_address,
    number,
    plain,
    problem_lines,
)

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


def _problem(problems: list, check) -> object:
    """Run one check of the collection's input checks; its InputError(s) join `problems`."""
    try:
        return check()
    except BAD_INPUT as exc:
        problems += errors_of(exc)
        return None


def _timer_problems(config: dict) -> list:
    names = ("keepalive", "warntime", "deadtime", "initdead")
    problems: list = []

    def timer(name: str) -> float:
        return number(f"heartbeat_ha_{name}", config.get(name), 0.001, 86400, places=3)

    timers = {name: _problem(problems, lambda name=name: timer(name)) for name in names}
    if problems:
        return problems
    keepalive, warntime, deadtime, initdead = (timers[name] for name in names)
    if keepalive >= warntime:
        problems.append(InputError("heartbeat_ha_keepalive", config["keepalive"],
                                   f"must be below heartbeat_ha_warntime ({config['warntime']!r})"))
    if warntime >= deadtime:
        problems.append(InputError("heartbeat_ha_warntime", config["warntime"],
                                   f"must be below heartbeat_ha_deadtime ({config['deadtime']!r})"))
    if initdead < max(2 * deadtime, 10):
        problems.append(InputError("heartbeat_ha_initdead", config["initdead"],
                                   f"must be at least twice heartbeat_ha_deadtime ({config['deadtime']!r}) and at "
                                   "least 10 s"))
    return problems


def _auth_problems(config: dict) -> list:
    keys = config.get("authkeys") or []
    if not keys:
        return [InputError("heartbeat_ha_authkeys", keys, "empty; give at least one {index, method, key}")]
    problems: list = []
    indexes: list[int] = []
    for position, entry in enumerate(keys):
        where = f"heartbeat_ha_authkeys[{position}]"
        entry = entry if isinstance(entry, dict) else {}
        index = _problem(problems, lambda entry=entry, where=where: integer(f"{where}.index", entry.get("index"),
                                                                            1, 15))
        if index in indexes:
            problems.append(InputError(f"{where}.index", index, "is used twice"))
        elif index is not None:
            indexes.append(index)
        _problem(problems, lambda entry=entry, where=where: choice(f"{where}.method", entry.get("method"), METHODS))
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            problems.append(InputError(f"{where}.key", why="missing"))
        elif any(char in key for char in KEY_BREAKERS):
            problems.append(InputError(f"{where}.key", key, "contains a blank or '#', which would cut the key",
                                       secret=True))
    selected = config.get("auth_index")
    if str(selected) not in {str(index) for index in indexes}:
        problems.append(InputError("heartbeat_ha_auth_index", selected, "is not an index of heartbeat_ha_authkeys "
                                   f"({', '.join(str(index) for index in indexes) or 'none'})"))
    return problems


def _vip_problems(config: dict) -> list:
    problems: list = []
    for position, vip in enumerate(config.get("vips") or []):
        address = vip.get("address") if isinstance(vip, dict) else vip
        _problem(problems, lambda position=position, address=address: ip_address(
            f"heartbeat_ha_vips[{position}].address", address, version=4, prefix=True))
    return problems


def _media_problems(config: dict) -> list:
    problems: list = []
    media = _problem(problems, lambda: choice("heartbeat_ha_media", config.get("media"), MEDIA))
    _problem(problems, lambda: integer("heartbeat_ha_udpport", config.get("udpport"), 1, 65535))
    if media == "mcast":
        _problem(problems, lambda: ip_address("heartbeat_ha_mcast_group", config.get("mcast_group"), version=4,
                                              multicast=True))
    for position, address in enumerate(config.get("ping_nodes") or []):
        _problem(problems, lambda position=position, address=address: ip_address(
            f"heartbeat_ha_ping_nodes[{position}]", address))
    return problems


def _provided(config: dict, problems: list) -> tuple[set, set]:
    """What the playbook sets up before the role (site.yml: the prerequisites' names, demo_web's nginx), from
    heartbeat_ha_provided {names, services}: two sets of names; a value of another shape joins `problems`."""
    provided, found = config.get("provided") or {}, []
    if not isinstance(provided, dict):
        problems.append(InputError("heartbeat_ha_provided", provided, "a dictionary {names, services} is required"))
        provided = {}
    for key in ("names", "services"):
        values = provided.get(key) or []
        field = f"heartbeat_ha_provided.{key}"
        if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
            problems.append(InputError(field, values, "a list of names is required"))
            values = []
        found.append(set(values))
    return found[0], found[1]


def _node_problems(config: dict, probes: dict) -> list:
    problems: list = []
    nodes = list(config.get("nodes") or [])
    if len(set(nodes)) < 2:
        problems.append(InputError("heartbeat_ha_nodes", nodes, "must name at least two distinct nodes"))
    if config.get("preferred_node") not in nodes:
        problems.append(InputError("heartbeat_ha_preferred_node", config.get("preferred_node"),
                                   f"is not one of heartbeat_ha_nodes {nodes!r}"))
    interfaces = config.get("interfaces") or {}
    names, services = _provided(config, problems)
    for node in nodes:
        probe = probes.get(node)
        if not probe:
            problems.append(InputError("heartbeat_ha_nodes", node, "is not a host of this play (it was not checked)"))
            continue
        if probe["uname"] != node:
            problems.append(InputError("heartbeat_ha_nodes", node, f"calls itself {probe['uname']!r} (uname -n); "
                                       "heartbeat knows a node by that name only"))
        problems += [InputError("heartbeat_ha_nodes", other, f"does not resolve on {node} (add it to /etc/hosts)")
                     for other in nodes if not probe["resolves"].get(other) and other not in names]
        interface = interfaces.get(node) or ""
        if not interface:
            problems.append(InputError("heartbeat_ha_interface", why=f"none given and no interface of {node} has an "
                                       "address in the first VIP's network"))
        elif interface not in probe["interfaces"]:
            problems.append(InputError("heartbeat_ha_interface", interface, f"does not exist on {node}"))
        for position, vip in enumerate(config.get("vips") or []):
            device = vip.get("interface") if isinstance(vip, dict) else None
            if device and device not in probe["interfaces"]:
                problems.append(InputError(f"heartbeat_ha_vips[{position}].interface", device,
                                           f"does not exist on {node}"))
        problems += [InputError("heartbeat_ha_services", service, f"is not a systemd service on {node} "
                                f"({service}.service); install it first")
                     for service in config.get("services") or []
                     if not probe["services"].get(service) and service not in services]
    return problems


def heartbeat_problems(config: dict, probes: dict) -> list[str]:
    """The cluster's settings (nodes, preferred_node, media, interfaces {node: interface}, udpport,
    mcast_group, keepalive, warntime, deadtime, initdead, authkeys, auth_index, vips, services,
    ping_nodes; provided: {names, services} the playbook sets up before the role) and
    {node: heartbeat_probe(...)} -> one sentence per problem, naming the variable and its value (never an
    authkeys key)."""
    config, probes = plain(config), plain(probes)
    if not isinstance(config, dict) or not isinstance(probes, dict):
        raise AnsibleFilterError("heartbeat_problems expects the settings and the probes as dictionaries")
    return problem_lines(_node_problems(config, probes) + _media_problems(config) + _timer_problems(config)
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


def heartbeat_resources(vips: list, services: list, interface: str, stop: str | None = None) -> list[list[str]]:
    """The resources of haresources in the order heartbeat starts them, each as the arguments of the role's
    resource script (/etc/ha.d/resource.d/linux-cluster) before the action: ["vip", ADDRESS/PREFIX, INTERFACE] for
    each VIP (on its own interface or `interface`), then ["service", UNIT]. With `stop` (the script's path), the
    commands that release them instead: [stop, ..., "stop"] in the order heartbeat releases them (reversed)."""
    vips, services = plain(vips) or [], plain(services) or []
    if not isinstance(vips, list) or not isinstance(services, list):
        raise AnsibleFilterError("heartbeat_resources expects the lists of VIPs and services")
    resources = [["vip", str(vip["address"]), str(vip.get("interface") or interface)] for vip in vips]
    resources += [["service", str(service)] for service in services]
    if stop is None:
        return resources
    return [[stop, *resource, "stop"] for resource in reversed(resources)]


class FilterModule:
    def filters(self):
        return {
            "heartbeat_probe": heartbeat_probe,
            "heartbeat_problems": heartbeat_problems,
            "heartbeat_duration": heartbeat_duration,
            "heartbeat_interfaces": heartbeat_interfaces,
            "heartbeat_resources": heartbeat_resources,
        }
