# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the IPVS modules, and the helpers that turn a
module's parameters into normalized objects (failing with the field named)."""

from __future__ import annotations

import copy

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    FAMILIES,
    FORWARDING,
    PROTOCOLS,
    SCHEDULERS,
    TUNNEL_CHECKSUMS,
    TUNNEL_TYPES,
)

ALL_SCHEDULER_FLAGS = ["sh-fallback", "sh-port", "mh-fallback", "mh-port"]

REALSERVER_OPTIONS = {
    "address": {"type": "str", "required": True},
    "port": {"type": "int"},
    "forwarding": {"type": "str", "default": "route", "choices": list(FORWARDING)},
    "weight": {"type": "int", "default": 1},
    "upper_threshold": {"type": "int", "default": 0},
    "lower_threshold": {"type": "int", "default": 0},
    "tunnel_type": {"type": "str", "choices": list(TUNNEL_TYPES)},
    "tunnel_port": {"type": "int"},
    "tunnel_checksum": {"type": "str", "choices": list(TUNNEL_CHECKSUMS)},
}

SERVICE_ID_OPTIONS = {
    "protocol": {"type": "str", "choices": list(PROTOCOLS)},
    "address": {"type": "str"},
    "port": {"type": "int"},
    "fwmark": {"type": "int"},
    "family": {"type": "str", "choices": list(FAMILIES)},
}

SERVICE_SETTINGS = {
    "scheduler": {"type": "str", "default": "wlc", "choices": list(SCHEDULERS)},
    "persistence_timeout": {"type": "int"},
    "persistence_netmask": {"type": "str"},
    "scheduler_flags": {"type": "list", "elements": "str", "default": [], "choices": ALL_SCHEDULER_FLAGS},
    "one_packet": {"type": "bool", "default": False},
    "persistence_engine": {"type": "str", "choices": ["sip"]},
}

SERVICE_ID_RULES = {
    "mutually_exclusive": [["fwmark", "address"], ["fwmark", "port"], ["fwmark", "protocol"]],
    "required_one_of": [["address", "fwmark"]],
    "required_together": [["address", "port"]],
}


def realservers_option() -> dict:
    return {"type": "list", "elements": "dict", "options": copy.deepcopy(REALSERVER_OPTIONS)}


def service_options(with_realservers: bool) -> dict:
    """Options describing one whole service (ipvs_service, and each item of ipvs_rules)."""
    spec = copy.deepcopy(SERVICE_ID_OPTIONS)
    spec.update(copy.deepcopy(SERVICE_SETTINGS))
    if with_realservers:
        spec["realservers"] = realservers_option()
    return spec


def service_input(params: dict, prefix: str = "") -> dict:
    """The service part of a module's parameters, as the model's input dict.

    `prefix` maps field names for modules that name them differently
    (ipvs_realserver's service_address / service_port).
    """
    spec = {name: params.get(name) for name in list(SERVICE_ID_OPTIONS) + list(SERVICE_SETTINGS)}
    if prefix:
        spec["address"] = params.get(prefix + "address")
        spec["port"] = params.get(prefix + "port")
    if params.get("realservers") is not None:
        spec["realservers"] = params["realservers"]
    return spec
