"""The lab's networks and guests: names, bridges and fixed addresses.

Everything uses documentation address ranges (RFC 5737 / RFC 3849), so no lab
address can ever be confused with a real host.
"""

from __future__ import annotations

import ipaddress

# name -> (IPv4 network, IPv6 network, bridge index)
NETWORKS = {
    "front": ("192.0.2.0/24", "2001:db8:0:2::/64", 1),
    "back": ("198.51.100.0/24", "2001:db8:0:3::/64", 2),
}

# Address ranges that ride on another network's bridge: name -> (IPv4 network, IPv6 network,
# carrying network, guests that hold an address in it). "outside" is the LVS-NAT client side:
# the directors and the client share it, the real servers reach it only through a director.
OVERLAYS = {
    "outside": ("203.0.113.0/24", "2001:db8:0:1::/64", "front", ("dir1", "dir2", "client")),
}

# name -> (host number, networks joined, Ansible groups)
GUESTS = {
    "dir1": (11, ("front", "back"), ("directors",)),
    "dir2": (12, ("front", "back"), ("directors",)),
    "rs1": (21, ("front", "back"), ("realservers",)),
    "rs2": (22, ("front", "back"), ("realservers",)),
    "client": (100, ("front",), ("clients",)),
}

# The groups of site.yml's other topologies, empty here: a switch in inventories/lab-topologies puts the
# directors (and for the nginx pair the real servers) in one of them.
TOPOLOGY_GROUPS = ("keepalived_pair", "nginx_pair", "nginx_backends", "heartbeat_pair")

# The namespace itself takes host number 1 on every bridge (the controller).
CONTROLLER_HOST = 1


def net_address(net: str, host: int, family: int = 4) -> str:
    """Address with prefix length of host number `host` on network (or overlay) `net`."""
    v4, v6 = (NETWORKS.get(net) or OVERLAYS[net])[:2]
    network = ipaddress.ip_network(v4 if family == 4 else v6)
    return f"{network[host]}/{network.prefixlen}"


def bridge_name(net: str) -> str:
    return f"lvs-{net}"


def mac_address(net: str, host: int) -> str:
    return f"02:4c:56:00:{NETWORKS[net][2]:02x}:{host:02x}"


def guest_overlays(name: str, net: str) -> list[str]:
    """The overlay ranges a guest holds an address in on its NIC of network `net`."""
    return [overlay for overlay, (_v4, _v6, carrier, members) in OVERLAYS.items()
            if carrier == net and name in members]


def guest_interfaces(name: str) -> list[dict]:
    """One entry per NIC of a guest, in the order the guest sees them (vec0, vec1...)."""
    host, nets, _groups = GUESTS[name]
    return [
        {
            "net": net,
            "device": f"vec{index}",
            "tap": f"t-{name}-{index}"[:15],
            "mac": mac_address(net, host),
            "ipv4": net_address(net, host, 4),
            "ipv6": net_address(net, host, 6),
            "overlays": {overlay: (net_address(overlay, host, 4), net_address(overlay, host, 6))
                         for overlay in guest_overlays(name, net)},
        }
        for index, net in enumerate(nets)
    ]


def guest_address(name: str) -> str:
    """The address Ansible reaches a guest on: its first network's IPv4."""
    return guest_interfaces(name)[0]["ipv4"].split("/", 1)[0]


def select(names: list[str] | None) -> list[str]:
    if not names:
        return list(GUESTS)
    unknown = [n for n in names if n not in GUESTS]
    if unknown:
        raise SystemExit(f"lab: unknown guest(s) {', '.join(unknown)}; known: {', '.join(GUESTS)}")
    return names


def inventory(key_path_expr: str) -> dict:
    """The Ansible inventory of the whole topology, as data."""
    children: dict[str, dict | None] = {}
    for name, (_host, _nets, member_of) in GUESTS.items():
        variables: dict[str, str] = {"ansible_host": guest_address(name)}
        for nic in guest_interfaces(name):
            for net, (ipv4, ipv6) in {nic["net"]: (nic["ipv4"], nic["ipv6"]), **nic["overlays"]}.items():
                variables[f"lab_{net}_ipv4"] = ipv4.split("/")[0]
                variables[f"lab_{net}_ipv6"] = ipv6.split("/")[0]
        for group in member_of:
            children.setdefault(group, {"hosts": {}})["hosts"][name] = variables
    children.update(dict.fromkeys(TOPOLOGY_GROUPS))
    return {"all": {"vars": {"ansible_user": "root", "ansible_ssh_private_key_file": key_path_expr},
                    "children": children}}


def inventory_text(key_path_expr: str) -> str:
    """The inventory as YAML (PyYAML, imported here: the lab's other commands do without it)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    # Empty groups as `name:`; templates and IPv6 addresses in double quotes (an address of digits and colons
    # alone would read as a YAML 1.1 sexagesimal number).
    Dumper.add_representer(type(None), lambda dumper, _value: dumper.represent_scalar("tag:yaml.org,2002:null", ""))
    Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if "{{" in value or ":" in value else None))
    body = yaml.dump(inventory(key_path_expr), Dumper=Dumper, sort_keys=False, default_flow_style=False, width=200)
    return "---\n# Generated by `tools/lab inventory`; the lab's fixed topology.\n" + body
