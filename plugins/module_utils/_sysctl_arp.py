# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARP and reverse-path sysctls of LVS real servers: validate, plan, render. Pure functions."""

from __future__ import annotations

import re

ALLOWED = {
    "arp_ignore": (0, 1, 2, 3, 4, 5, 6, 7, 8),
    "arp_announce": (0, 1, 2),
    "rp_filter": (0, 1, 2),
}
KEYS = tuple(ALLOWED)
SPECIAL_INTERFACES = ("all", "default")
_IFNAME = re.compile(r"^[A-Za-z0-9_.@:-]{1,15}$")
HEADER = "# Managed by linux_cluster.lvs.sysctl_arp: ARP and reverse-path settings of LVS real servers.\n"


class SysctlInputError(ValueError):
    """Bad user input; the message names the field and the value."""


def validate(interfaces: list[str], values: dict) -> dict:
    """{(interface, key): value} for every interface and every key given (None = not managed)."""
    if not interfaces:
        raise SysctlInputError("interfaces=[]: name at least one interface (all, default, lo, eth0...)")
    for name in interfaces:
        if name in (".", "..") or not _IFNAME.match(name or ""):
            raise SysctlInputError(f"interfaces={name!r}: not a valid interface name")
    wanted = {}
    for key in KEYS:
        value = values.get(key)
        if value is None:
            continue
        if value not in ALLOWED[key]:
            raise SysctlInputError(f"{key}={value!r}: must be one of {', '.join(map(str, ALLOWED[key]))}")
        for name in interfaces:
            wanted[(name, key)] = value
    if not wanted:
        raise SysctlInputError("nothing to set: give arp_ignore, arp_announce or rp_filter")
    return wanted


def proc_path(interface: str, key: str) -> str:
    """Path below /proc/sys of one setting."""
    return f"net/ipv4/conf/{interface}/{key}"


def sysctl_name(interface: str, key: str) -> str:
    """sysctl.d spelling: dots in an interface name (VLANs) become slashes."""
    return f"net.ipv4.conf.{interface.replace('.', '/')}.{key}"


def runtime_changes(current: dict, wanted: dict) -> dict:
    """The settings whose live value differs: {(interface, key): (before, after)}."""
    return {item: (current.get(item), value) for item, value in sorted(wanted.items())
            if current.get(item) != value}


def render(wanted: dict) -> str:
    """The persistent file; `all` and `default` first so named interfaces are set after them."""
    order = {"all": 0, "default": 1}
    items = sorted(wanted.items(), key=lambda item: (order.get(item[0][0], 2), item[0][0], KEYS.index(item[0][1])))
    return HEADER + "".join(f"{sysctl_name(iface, key)} = {value}\n" for (iface, key), value in items)


def parse_file(text: str) -> dict:
    """Read back a file written by `render` (or by hand, in the same syntax)."""
    settings = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or "=" not in line:
            continue
        name, _sep, value = (part.strip() for part in line.partition("="))
        match = re.match(r"^net\.ipv4\.conf\.([^.]+)\.([a-z_]+)$", name)
        if match and match.group(2) in KEYS and value.lstrip("-").isdigit():
            settings[(match.group(1).replace("/", "."), match.group(2))] = int(value)
    return settings
