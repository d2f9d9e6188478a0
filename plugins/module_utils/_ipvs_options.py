# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every option of an IPVS service and real server, declared once.

One `Option` holds what the rest of the collection derives from it: the module argument
spec, the option documentation (the `linux_cluster.lvs.ipvs` doc fragment renders it), the
default the model fills in, how ipvsadm spells the option (the parser reads `flags`) and how
the collection writes it: as ipvsadm arguments (`render`) and as keepalived.conf lines of a
`virtual_server` or `real_server` block (`keepalived`, _keepalived_lvs). The planner compares
every setting declared here.

Adding an ipvsadm option: one `Option` in SERVICE_SETTINGS or REALSERVER_SETTINGS with its
flags, parse, render and keepalived spelling; a validation rule in _ipvs_model only if it depends
on other options.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
PROTOCOLS = ("tcp", "udp", "sctp")
FAMILIES = ("ipv4", "ipv6")
FORWARDING = ("route", "masquerade", "tunnel")
KEEPALIVED_METHODS = {"route": "DR", "masquerade": "NAT", "tunnel": "TUN"}
SCHEDULER_FLAGS = {"sh": ("sh-fallback", "sh-port"), "mh": ("mh-fallback", "mh-port")}
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")

# The value of a flag that takes the next token as its value.
VALUE = object()


@dataclass(frozen=True)
class Option:
    """One user-settable option.

    `doc` sentences name sibling options as O(name) or O(name=value); each context writes
    them as they are called there (O(services[].port), O(service_port)), or as C(name) where
    the module has no such option.
    `fallback` is what the model uses when the option is not given and has no spec default
    (it depends on other options, so the module's argument spec leaves it unset).
    `flags` maps every ipvsadm spelling to VALUE (the next token is the value, read by
    `parse`) or to the value the flag itself stands for. `render` writes the option for an
    object (a normalized service or real server), [] when ipvsadm's default applies.
    `keepalived` writes it as keepalived.conf lines of the same object ([] for the default), or
    returns None for a value keepalived 2.2.7 cannot write (refused when keepalived owns the table).
    """

    name: str
    type: str
    doc: tuple[str, ...]
    default: Any = None
    fallback: Any = None
    choices: tuple = ()
    elements: str | None = None
    bounds: tuple[int, int] | None = None
    flags: dict = field(default_factory=dict)
    parse: Callable[[str, dict], Any] | None = None
    render: Callable[[dict], list[str]] | None = None
    keepalived: Callable[[dict], list[str]] | None = None

    def value_if_unset(self) -> Any:
        value = self.default if self.default is not None else self.fallback
        # A fresh copy only of what could be changed in place (a list of flags); a scalar is shared.
        return copy.deepcopy(value) if isinstance(value, (list, dict)) else value

    def argument_spec(self) -> dict:
        spec: dict = {"type": self.type}
        if self.elements:
            spec["elements"] = self.elements
        if self.default is not None:
            spec["default"] = copy.deepcopy(self.default)
        if self.choices:
            spec["choices"] = list(self.choices)
        return spec

    def documentation(self, refs: dict) -> dict:
        def reference(match: re.Match) -> str:
            name = match.group(1)
            return f"O({refs[name]}" if name in refs else f"C({name}"
        text = [re.sub(r"O\((\w+)", reference, sentence) for sentence in self.doc]
        if self.bounds:
            text.append(f"From V({self.bounds[0]}) to V({self.bounds[1]}).")
        doc = {"description": text, **self.argument_spec()}
        doc.pop("required", None)
        return doc


# --- how ipvsadm spells addresses and netmasks -----------------------------------------

def join_hostport(address: str, port: int) -> str:
    """address:port as ipvsadm writes it, IPv6 in brackets."""
    return (f"[{address}]" if ":" in address else address) + f":{port}"


def split_hostport(text: str) -> tuple[str, int]:
    """'10.0.0.1:80' or '[2001:db8::1]:80' -> (address, port); ValueError when it is neither."""
    if text.startswith("["):
        address, _sep, port = text[1:].partition("]:")
    else:
        address, _sep, port = text.rpartition(":")
    if not address or not port.isdigit():
        raise ValueError(f"cannot read address:port from {text!r}")
    return address, int(port)


def full_prefix(family: str) -> int:
    return 128 if family == "ipv6" else 32


def netmask_prefix(text: str, family: str) -> int | None:
    """A prefix length from '24', '/24' or (IPv4) '255.255.255.0'; None when it is neither."""
    text = str(text).strip().lstrip("/")
    if text.isdigit():
        return int(text)
    if family == "ipv4":
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
        except ValueError:
            return None
    return None


def _netmask_value(text: str, svc: dict) -> int:
    prefix = netmask_prefix(text, svc["family"])
    if prefix is None or prefix > full_prefix(svc["family"]):
        raise ValueError(f"cannot read a {svc['family']} netmask from {text!r}")
    return prefix


def netmask_text(prefix: int, family: str) -> str:
    """The form ipvsadm prints and accepts for -M: a dotted mask (IPv4) or a prefix length (IPv6)."""
    if family == "ipv6":
        return str(prefix)
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


def _with_value(flag: str, name: str) -> Callable[[dict], list[str]]:
    """Render `flag VALUE` whenever the value is set (not None, 0, False or empty)."""
    return lambda obj: [flag, str(obj[name])] if obj[name] else []


def _netmask_args(svc: dict) -> list[str]:
    prefix = svc["persistence_netmask"]
    if svc["persistence_timeout"] is None or prefix == full_prefix(svc["family"]):
        return []
    return ["-M", netmask_text(prefix, svc["family"])]


def _tunnel_args(rs: dict) -> list[str]:
    """GUE/GRE details; ipip is ipvsadm's default tunnel and is written as plain -i."""
    if rs["forwarding"] != "tunnel" or rs["tunnel_type"] in (None, "ipip"):
        return []
    return ["--tun-type", rs["tunnel_type"]]


def _keyword(word: str, name: str) -> Callable[[dict], list[str]]:
    """keepalived's `word VALUE` whenever the value is set (not None, 0, False or empty)."""
    return lambda obj: [f"{word} {obj[name]}"] if obj[name] else []


def _granularity_lines(svc: dict) -> list[str]:
    args = _netmask_args(svc)
    return [f"persistence_granularity {args[1]}"] if args else []


def _tunnel_checksum_args(rs: dict) -> list[str]:
    if rs["forwarding"] != "tunnel" or rs["tunnel_type"] in (None, "ipip"):
        return []
    return ["--tun-" + (rs["tunnel_checksum"] or "nocsum")]


# --- the service -----------------------------------------------------------------------

SERVICE_ID = (
    Option("protocol", "str", ("Protocol of an address service. Defaults to V(tcp) when O(address) is given.",
                               "Not used with O(fwmark)."),
           fallback="tcp", choices=PROTOCOLS),
    Option("address", "str", ("Virtual IP address of the service (IPv4 or IPv6). Use with O(port), or use "
                              "O(fwmark) instead.",)),
    Option("port", "int", ("Virtual port. V(0) means all ports and requires O(persistence_timeout).",),
           bounds=(0, 65535)),
    Option("fwmark", "int", ("Firewall mark that selects the service's packets (set by iptables or nftables "
                             "mangle rules).", "Mutually exclusive with O(address), O(port) and O(protocol)."),
           bounds=(1, 2 ** 32 - 1)),
    Option("family", "str", ("Address family of a firewall-mark service; V(ipv4) when not given. For address "
                             "services it follows from O(address).",),
           fallback="ipv4", choices=FAMILIES),
)

SERVICE_SETTINGS = (
    Option("scheduler", "str", ("Scheduling algorithm (C(ipvsadm -s)).",),
           default="wlc", choices=SCHEDULERS,
           flags={"-s": VALUE, "--scheduler": VALUE},
           render=lambda svc: ["-s", svc["scheduler"]],
           keepalived=lambda svc: [f"lvs_sched {svc['scheduler']}"]),
    Option("persistence_timeout", "int", ("Persistence timeout in seconds (C(ipvsadm -p)). Omit for a service "
                                          "that is not persistent.",),
           bounds=(1, 2 ** 31 - 1),
           flags={"-p": VALUE, "--persistent": VALUE}, parse=lambda text, _svc: int(text),
           render=_with_value("-p", "persistence_timeout"),
           keepalived=_keyword("persistence_timeout", "persistence_timeout")),
    Option("persistence_netmask", "str", ("Persistence granularity (C(ipvsadm -M)): clients in one network share "
                                          "a real server. Only with O(persistence_timeout).",
                                          "A prefix length (V(24)) or, for IPv4, a netmask (V(255.255.255.0)); "
                                          "a single client address (V(32) or V(128)) when not given."),
           flags={"-M": VALUE, "--netmask": VALUE},
           parse=_netmask_value,
           render=_netmask_args,
           keepalived=_granularity_lines),
    Option("scheduler_flags", "list", ("Scheduler flags (C(ipvsadm -b)). V(sh-fallback) and V(sh-port) need "
                                       "O(scheduler=sh); V(mh-fallback) and V(mh-port) need V(mh).",),
           default=[], elements="str", choices=tuple(flag for flags in SCHEDULER_FLAGS.values() for flag in flags),
           flags={"-b": VALUE, "--sched-flags": VALUE}, parse=lambda text, _svc: sorted(text.split(",")),
           render=lambda svc: ["-b", ",".join(svc["scheduler_flags"])] if svc["scheduler_flags"] else [],
           keepalived=lambda svc: list(svc["scheduler_flags"])),
    Option("persistence_engine", "str", ("Persistence engine (C(ipvsadm --pe)); V(sip) keys persistence on the "
                                         "SIP Call-ID.",),
           choices=("sip",),
           flags={"--pe": VALUE, "pe": VALUE},
           render=_with_value("--pe", "persistence_engine"),
           keepalived=_keyword("persistence_engine", "persistence_engine")),
    Option("one_packet", "bool", ("One-packet scheduling (C(ipvsadm -o)), for UDP services only.",),
           default=False,
           flags={"-o": True, "--ops": True, "ops": True},
           render=lambda svc: ["-o"] if svc["one_packet"] else [],
           keepalived=lambda svc: ["ops"] if svc["one_packet"] else []),
)

# --- a real server ---------------------------------------------------------------------

REALSERVER_ID = (
    Option("address", "str", ("Address of the real server (IPv4 or IPv6, of the service's family).",)),
    Option("port", "int", ("Port of the real server; the service's port when not given.",
                           "Only O(forwarding=masquerade) (NAT) can map to a different port."),
           bounds=(0, 65535)),
)

REALSERVER_SETTINGS = (
    Option("forwarding", "str", ("Packet forwarding method. V(route) is direct routing (LVS-DR, C(-g)), "
                                 "V(masquerade) is NAT (LVS-NAT, C(-m)), V(tunnel) is IP tunnelling "
                                 "(LVS-TUN, C(-i)).",),
           default="route", choices=FORWARDING,
           flags={"-g": "route", "--gatewaying": "route", "-m": "masquerade", "--masquerading": "masquerade",
                  "-i": "tunnel", "--ipip": "tunnel"},
           render=lambda rs: [{"route": "-g", "masquerade": "-m", "tunnel": "-i"}[rs["forwarding"]]],
           keepalived=lambda rs: ["lvs_method " + KEEPALIVED_METHODS[rs["forwarding"]]]),
    Option("weight", "int", ("Weight (C(ipvsadm -w)). V(0) takes the server out of scheduling (drained) "
                             "without breaking existing connections.",),
           default=1, bounds=(0, 65535),
           flags={"-w": VALUE, "--weight": VALUE}, parse=lambda text, _rs: int(text),
           render=lambda rs: ["-w", str(rs["weight"])],
           keepalived=lambda rs: [f"weight {rs['weight']}"]),
    Option("upper_threshold", "int", ("Upper connection threshold (C(ipvsadm -x)); V(0) means no limit.",),
           default=0, bounds=(0, 2 ** 32 - 1),
           flags={"-x": VALUE, "--u-threshold": VALUE}, parse=lambda text, _rs: int(text),
           render=_with_value("-x", "upper_threshold"),
           keepalived=_keyword("uthreshold", "upper_threshold")),
    Option("lower_threshold", "int", ("Lower connection threshold (C(ipvsadm -y)); V(0) means unset. At most "
                                      "O(upper_threshold) when that is set.",),
           default=0, bounds=(0, 2 ** 32 - 1),
           flags={"-y": VALUE, "--l-threshold": VALUE}, parse=lambda text, _rs: int(text),
           render=_with_value("-y", "lower_threshold"),
           keepalived=_keyword("lthreshold", "lower_threshold")),
    Option("tunnel_type", "str", ("Encapsulation of O(forwarding=tunnel); V(ipip) when not given.",),
           choices=TUNNEL_TYPES,
           flags={"--tun-type": VALUE},
           render=_tunnel_args,
           keepalived=lambda rs: [] if rs["tunnel_type"] in (None, "ipip") else None),
    Option("tunnel_port", "int", ("Destination UDP port of O(tunnel_type=gue) encapsulation; required "
                                  "with V(gue).",),
           bounds=(1, 65535),
           flags={"--tun-port": VALUE}, parse=lambda text, _rs: int(text),
           render=lambda rs: ["--tun-port", str(rs["tunnel_port"])] if rs["tunnel_port"] else [],
           keepalived=lambda rs: []),  # only with GUE, which keepalived refuses by tunnel_type
    Option("tunnel_checksum", "str", ("Checksum mode of V(gue) and V(gre) tunnels; V(nocsum) when not "
                                      "given.",),
           choices=TUNNEL_CHECKSUMS,
           flags={f"--tun-{mode}": mode for mode in TUNNEL_CHECKSUMS},
           render=_tunnel_checksum_args,
           keepalived=lambda rs: []),  # only with GUE or GRE, refused by tunnel_type
)


def by_name(options: tuple[Option, ...]) -> dict[str, Option]:
    return {option.name: option for option in options}


SERVICE = by_name(SERVICE_ID + SERVICE_SETTINGS)
REALSERVER = by_name(REALSERVER_ID + REALSERVER_SETTINGS)
SERVICE_ATTRS = tuple(option.name for option in SERVICE_SETTINGS)
REALSERVER_ATTRS = tuple(option.name for option in REALSERVER_SETTINGS)

SERVICE_ID_RULES = {
    "mutually_exclusive": [["fwmark", "address"], ["fwmark", "port"], ["fwmark", "protocol"]],
    "required_one_of": [["address", "fwmark"]],
    "required_together": [["address", "port"]],
}

# ipvs_realserver names its service's address and port service_address and service_port.
REALSERVER_MODULE_SERVICE_NAMES = {"address": "service_address", "port": "service_port"}


def _renamed_rules(rules: dict, names: dict) -> dict:
    return {kind: [[names.get(name, name) for name in group] for group in groups] for kind, groups in rules.items()}


REALSERVER_MODULE_SERVICE_RULES = _renamed_rules(SERVICE_ID_RULES, REALSERVER_MODULE_SERVICE_NAMES)


# --- argument specs ----------------------------------------------------------------------

def argument_spec(options, names: dict | None = None) -> dict:
    names = names or {}
    return {names.get(option.name, option.name): option.argument_spec() for option in options}


def realserver_spec() -> dict:
    spec = argument_spec(REALSERVER_ID + REALSERVER_SETTINGS)
    spec["address"]["required"] = True
    return spec


def service_spec(with_realservers: bool) -> dict:
    """One whole service: ipvs_service's options, and each item of ipvs_rules' services."""
    spec = argument_spec(SERVICE_ID + SERVICE_SETTINGS)
    if with_realservers:
        spec["realservers"] = {"type": "list", "elements": "dict", "options": realserver_spec()}
    return spec


def realserver_module_spec() -> dict:
    """ipvs_realserver: one real server, and the service it belongs to under its own names."""
    spec = realserver_spec()
    spec.update(argument_spec(SERVICE_ID, REALSERVER_MODULE_SERVICE_NAMES))
    return spec


def service_input(params: dict, names: dict | None = None) -> dict:
    """The service part of a module's parameters, under the model's names."""
    names = names or {}
    spec = {option.name: params.get(names.get(option.name, option.name)) for option in SERVICE_ID + SERVICE_SETTINGS}
    if params.get("realservers") is not None:
        spec["realservers"] = params["realservers"]
    return spec


# --- documentation -----------------------------------------------------------------------

def options_doc(options, prefix: str = "", names: dict | None = None) -> dict:
    """Documentation of `options` (the options of a service, or of a real server) as they appear
    under `prefix` (for example 'services[].'), renamed by `names`."""
    names = names or {}
    refs = {option.name: prefix + names.get(option.name, option.name) for option in options}
    return {names.get(option.name, option.name): option.documentation(refs) for option in options}


def realserver_doc(prefix: str = "") -> dict:
    """A real server's options as they appear under `prefix` ('', 'realservers[].', ...)."""
    docs = options_doc(REALSERVER_ID + REALSERVER_SETTINGS, prefix)
    docs["address"]["required"] = True
    return docs
