# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel settings held by one managed file in /etc/sysctl.d: names and values checked, the file's
text, the value a setting gets at boot from the rest of the sysctl configuration, and the plan of
live changes. Pure functions; the host I/O is in _sysctl_runner.

Both sysctl modules share this: sysctl_file (any settings) and sysctl_arp (the ARP and reverse-path
settings of LVS real servers, per interface).
"""

from __future__ import annotations

import fnmatch
import os
import re

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    InputError,
    ModuleInput,
    collect,
    integer,
    interface_name,
)

# A sysctl name as sysctl.d writes it: dot-separated words; '/' stands for a dot inside a word (a VLAN
# interface eth0.100 is net.ipv4.conf.eth0/100.arp_ignore).
NAME = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_@:/-]+)+$")
VALUE = re.compile(r"^[A-Za-z0-9_.:,/ \t-]{1,200}$")
# The sysctl.d directories in systemd-sysctl's order of precedence, then the file read last.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSCTL_CONF = "/etc/sysctl.conf"
# What the kernel sets when no sysctl file does, for the settings this collection manages (a setting of
# an interface inherits `default`, whose kernel default is this too).
KERNEL_DEFAULTS = {
    "net.ipv4.ip_forward": "0",
    "net.ipv4.ip_nonlocal_bind": "0",
    "net.ipv6.ip_nonlocal_bind": "0",
    "net.ipv4.conf.*.send_redirects": "1",
    "net.ipv4.conf.*.arp_ignore": "0",
    "net.ipv4.conf.*.arp_announce": "0",
    "net.ipv4.conf.*.rp_filter": "0",
    "net.ipv4.vs.expire_nodest_conn": "0",
    "net.ipv4.vs.sync_threshold": "3\t50",
    "net.ipv4.vs.sync_refresh_period": "0",
}
HEADER = "# Managed by linux_cluster.lvs.{module}: changes made here are replaced.\n"
# Kernel modules a settings file needs (net.ipv4.vs.* exist once ip_vs is loaded) are listed for systemd-modules-load,
# which runs before systemd-sysctl at boot, in a file of the same name in this directory.
MODULES_LOAD_DIR = "/etc/modules-load.d"
MODULE_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")


def setting_name(field: str, name: object) -> str:
    if not isinstance(name, str) or not NAME.match(name) or "/." in name or "./" in name or "//" in name:
        raise InputError(field, name, "not a sysctl name (for example net.ipv4.ip_forward)")
    return name


def setting_value(field: str, value: object) -> str:
    """The value as the kernel prints it: words separated by one tab (one word for most settings)."""
    if isinstance(value, bool):
        value = int(value)
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not text or not VALUE.match(text):
        raise InputError(field, value, "a number or words (letters, digits, '.', ':', ',', '/', '-')")
    return "\t".join(text.split())


def settings(given: dict) -> dict[str, str]:
    """{name: value} checked, every bad one reported at once."""
    if not isinstance(given, dict) or not given:
        raise InputError("settings", given, "give at least one {name: value}")
    names = list(given)
    checked = collect([lambda name=name: (setting_name(f"settings.{name}", name),
                                          setting_value(f"settings.{name}", given[name])) for name in names])
    return dict(checked)


def proc_path(name: str) -> str:
    """Path below /proc/sys: dots are directories, a '/' is a dot inside a word."""
    return "/".join(part.replace("/", ".") for part in name.split("."))


def same(live: str | None, wanted: str) -> bool:
    return live is not None and live.split() == wanted.split()


def kernel_modules(given: list | None) -> list[str]:
    """The kernel modules a settings file needs, checked (every bad one named)."""
    def name(index: int, value: object) -> str:
        if not isinstance(value, str) or not MODULE_NAME.match(value):
            raise InputError(f"modules[{index}]", value, "not a kernel module name (for example ip_vs)")
        return value
    return collect([lambda index=index, value=value: name(index, value) for index, value in enumerate(given or [])])


def modules_load_path(path: str, directory: str = MODULES_LOAD_DIR) -> str:
    """Where the kernel modules of the settings file `path` are listed for the boot: the same file name."""
    return os.path.join(directory, os.path.basename(path))


def render_modules(modules: list[str], module: str) -> str | None:
    """The modules-load.d file listing `modules`; None for none (no file)."""
    return HEADER.format(module=module) + "".join(f"{name}\n" for name in modules) if modules else None


def render(wanted: dict[str, str], module: str) -> str:
    return HEADER.format(module=module) + "".join(f"{name} = {value.replace(chr(9), ' ')}\n"
                                                  for name, value in wanted.items())


def parse(text: str | None) -> list[tuple[str, str]]:
    """The assignments of a sysctl.d file in order, a leading '-' (ignore errors) dropped; names as written
    (possibly globs)."""
    assignments = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, _sep, value = (part.strip() for part in line.partition("="))
        assignments.append((dotted(name.lstrip("-")), "\t".join(value.split())))
    return assignments


def dotted(name: str) -> str:
    """A name in the dotted form: when its first separator is '/', slashes separate and dots belong to words
    (net/ipv4/conf/eth0.100/arp_ignore -> net.ipv4.conf.eth0/100.arp_ignore), as systemd-sysctl reads it."""
    first = re.search(r"[./]", name)
    if first and first.group() == "/":
        return ".".join(part.replace(".", "/") for part in name.split("/"))
    return name


def parse_file(text: str | None) -> dict[str, str]:
    return dict(parse(text))


def boot_order(listing: dict[str, list[str]], dirs: tuple[str, ...] = SYSCTL_DIRS,
               conf: str | None = SYSCTL_CONF) -> list[str]:
    """The files systemd-sysctl reads at boot, in order, from {directory: [file names]} of `dirs`: every
    *.conf name once, from the first of `dirs` that has it, sorted by name; then `conf` (/etc/sysctl.conf)
    when it exists (None: it does not)."""
    chosen: dict[str, str] = {}
    for directory in dirs:
        for name in listing.get(directory, []):
            if name.endswith(".conf"):
                chosen.setdefault(name, os.path.join(directory, name))
    return [chosen[name] for name in sorted(chosen)] + ([conf] if conf else [])


def _matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) if any(char in pattern for char in "*?[") else pattern == name


def boot_value(name: str, files: list[tuple[str, str]]) -> str | None:
    """The value `name` gets at boot from `files` ([(path, text)] in boot order), else the kernel's default
    for the settings this collection manages; None when neither is known."""
    value = None
    for _path, text in files:
        for pattern, assigned in parse(text):
            if _matches(pattern, name):
                value = assigned
    if value is not None:
        return value
    return next((default for pattern, default in KERNEL_DEFAULTS.items() if _matches(pattern, name)), None)


def plan(live: dict[str, str | None], wanted: dict[str, str], released: dict[str, str | None]) -> dict:
    """The live changes: {name: (before, after)} for each wanted setting that differs, and for each setting
    the file no longer holds (`released`: {name: its boot value}) that differs from its boot value."""
    changes = {name: (live.get(name), value) for name, value in wanted.items()
               if live.get(name) is not None and not same(live.get(name), value)}
    changes.update({name: (live.get(name), value) for name, value in released.items()
                    if value is not None and live.get(name) is not None and not same(live.get(name), value)})
    return changes


# --- the ARP and reverse-path settings of LVS real servers (sysctl_arp) -----------------------

ARP_ALLOWED = {
    "arp_ignore": (0, 1, 2, 3, 4, 5, 6, 7, 8),
    "arp_announce": (0, 1, 2),
    "rp_filter": (0, 1, 2),
}
ARP_KEYS = tuple(ARP_ALLOWED)
ARP_ORDER = {"all": 0, "default": 1}


def arp_name(interface: str, key: str) -> str:
    """sysctl.d spelling: dots in an interface name (VLANs) become slashes."""
    return f"net.ipv4.conf.{interface.replace('.', '/')}.{key}"


def arp_settings(interfaces: list[str], values: dict) -> dict[str, str]:
    """sysctl_arp's options -> {name: value}, `all` and `default` first so named interfaces are set after them."""
    if not interfaces:
        raise InputError("interfaces", [], "name at least one interface (all, default, lo, eth0...)")
    names = collect([lambda name=name: interface_name("interfaces", name) for name in interfaces])
    given = {key: integer(key, values[key], 0, max(ARP_ALLOWED[key])) for key in ARP_KEYS
             if values.get(key) is not None}
    if not given:
        raise InputError("", why="nothing to set: give arp_ignore, arp_announce or rp_filter")
    ordered = sorted(names, key=lambda name: (ARP_ORDER.get(name, 2), name))
    return {arp_name(interface, key): str(value) for interface in ordered for key, value in given.items()}


def _arp_check(params: dict) -> dict[str, str] | None:
    return arp_settings(params["interfaces"], params) if params["state"] == "present" else None


def _path(field: str, path: str) -> str:
    if not os.path.isabs(path):
        raise InputError(field, path, "must be an absolute path")
    return path


COMMON_SPEC = {
    "path": {"type": "path"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}

ARP_INPUT = ModuleInput(
    argument_spec={
        "interfaces": {"type": "list", "elements": "str", "default": ["all"]},
        "arp_ignore": {"type": "int", "choices": list(ARP_ALLOWED["arp_ignore"])},
        "arp_announce": {"type": "int", "choices": list(ARP_ALLOWED["arp_announce"])},
        "rp_filter": {"type": "int", "choices": list(ARP_ALLOWED["rp_filter"])},
        **COMMON_SPEC,
        "path": {"type": "path", "default": "/etc/sysctl.d/90-linux-cluster-lvs-arp.conf"},
    },
    check=lambda params: (_path("path", params["path"]), _arp_check(params)),
    rules={"required_if": [["state", "present", ["arp_ignore", "arp_announce", "rp_filter"], True]]},
)

FILE_INPUT = ModuleInput(
    argument_spec={"settings": {"type": "dict"}, "modules": {"type": "list", "elements": "str", "default": []},
                   **COMMON_SPEC, "path": {"type": "path", "required": True}},
    check=lambda params: (_path("path", params["path"]),
                          settings(params["settings"]) if params["state"] == "present" else None,
                          kernel_modules(params["modules"]) if params["state"] == "present" else []),
    rules={"required_if": [["state", "present", ["settings"]]]},
)
