# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS table model: validate user input into normalized services and real servers.

Pure functions only. A normalized service is a dict with the identity fields
{"protocol", "address", "port", "fwmark", "family"}, every setting of
_ipvs_options.SERVICE_SETTINGS (persistence_netmask as a prefix length, scheduler_flags
sorted) and "realservers": {rs_key: realserver}. A normalized real server has "address",
"port" and every setting of _ipvs_options.REALSERVER_SETTINGS.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    InputError,
    ModuleInput,
    collect,
    errors_of,
    given,
    integer,
    ip_address,
    raise_error,
    sub,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER,
    REALSERVER_MODULE_SERVICE_NAMES,
    REALSERVER_MODULE_SERVICE_RULES,
    REALSERVER_SETTINGS,
    SCHEDULER_FLAGS,
    SERVICE,
    SERVICE_ID_RULES,
    SERVICE_SETTINGS,
    Option,
    full_prefix,
    join_hostport,
    netmask_prefix,
    realserver_module_spec,
    service_input,
    service_spec,
)


def family_of(address: str) -> str:
    return "ipv6" if ipaddress.ip_address(address).version == 6 else "ipv4"


def normalize_address(field: str, value: object) -> str:
    """An IP literal (IPv6 also in brackets), compressed; the error names the value as given."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ip_address(field, text)
    except InputError as exc:
        raise InputError(field, value, exc.why) from None


def _choice(field: str, value: object, choices: tuple) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in choices:
        raise InputError(field, value, f"must be one of {', '.join(choices)}")
    return text


def setting(option: Option, field: str, value: object):
    """One option's value checked against its declaration (type, bounds, choices), or its default."""
    if not given(value):
        return option.value_if_unset()
    if option.type == "int":
        return integer(field, value, *option.bounds)
    if option.type == "bool":
        return bool(value)
    if option.type == "list":
        items = value if isinstance(value, list) else [value]
        return sorted({_choice(field, item, option.choices) for item in items})
    if option.choices:
        return _choice(field, value, option.choices)
    return str(value)


def normalize_netmask(field: str, value: object, family: str) -> int:
    """Accept a prefix length or (IPv4) a dotted netmask; return the prefix length."""
    if not given(value):
        return full_prefix(family)
    prefix = netmask_prefix(str(value), family)
    low = 0 if family == "ipv4" else 1
    if prefix is None or not low <= prefix <= full_prefix(family):
        raise InputError(field, value, f"not a valid {family} netmask or prefix length")
    return prefix


def complete_tunnel(rs: dict) -> dict:
    """The tunnel details ipvsadm implies: ipip unless told, nocsum for GUE and GRE."""
    if rs["forwarding"] != "tunnel":
        return rs
    rs["tunnel_type"] = rs["tunnel_type"] or "ipip"
    rs["tunnel_checksum"] = None if rs["tunnel_type"] == "ipip" else (rs["tunnel_checksum"] or "nocsum")
    return rs


def service_key(svc: dict) -> tuple:
    if svc.get("fwmark") is not None:
        return ("fwmark", svc["family"], svc["fwmark"])
    return (svc["protocol"], svc["address"], svc["port"])


def service_name(key: tuple) -> str:
    """Human form of a service key, used in messages and results."""
    if key[0] == "fwmark":
        return f"fwmark {key[2]}" + (" ipv6" if key[1] == "ipv6" else "")
    kind, address, port = key
    return f"{kind} {join_hostport(address, port)}"


def rs_key(rs: dict) -> tuple:
    return (rs["address"], rs["port"])


def rs_name(key: tuple) -> str:
    return join_hostport(*key)


def ordered(keys) -> list:
    """Service or real-server keys in one stable order (their parts compared as text)."""
    return sorted(keys, key=lambda key: tuple(str(part) for part in key))


def _service_identity(spec: dict, field: str) -> dict:
    fwmark = spec.get("fwmark")
    if given(fwmark):
        if spec.get("address") or given(spec.get("port")) or spec.get("protocol"):
            raise InputError(sub(field, "fwmark"), fwmark, "a firewall-mark service takes no protocol, address or port")
        return {"protocol": None, "address": None, "port": None,
                "fwmark": setting(SERVICE["fwmark"], sub(field, "fwmark"), fwmark),
                "family": setting(SERVICE["family"], sub(field, "family"), spec.get("family"))}
    if not given(spec.get("address")):
        raise InputError(sub(field, "address"), spec.get("address"), "address and port, or fwmark, is required")
    address = normalize_address(sub(field, "address"), spec.get("address"))
    if not given(spec.get("port")):
        raise InputError(sub(field, "port"), spec.get("port"),
                         "a port is required with address (0 = all ports, needs persistence)")
    family = family_of(address)
    if spec.get("family") and spec["family"] != family:
        raise InputError(sub(field, "family"), spec["family"], f"does not match address {address} ({family})")
    return {"protocol": setting(SERVICE["protocol"], sub(field, "protocol"), spec.get("protocol")),
            "address": address, "port": setting(SERVICE["port"], sub(field, "port"), spec.get("port")),
            "fwmark": None, "family": family}


def normalize_service(spec: dict, field: str = "", with_realservers: bool = True) -> dict:
    """Validate one service as the user wrote it; return its normalized form."""
    svc = _service_identity(spec, field)
    for option in SERVICE_SETTINGS:
        if option.name != "persistence_netmask":
            svc[option.name] = setting(option, sub(field, option.name), spec.get(option.name))
    netmask = spec.get("persistence_netmask")
    if given(netmask) and svc["persistence_timeout"] is None:
        raise InputError(sub(field, "persistence_netmask"), netmask, "only applies with persistence_timeout")
    svc["persistence_netmask"] = normalize_netmask(sub(field, "persistence_netmask"), netmask, svc["family"])
    if svc["port"] == 0 and svc["persistence_timeout"] is None:
        raise InputError(sub(field, "port"), 0,
                         "an all-ports service (port 0) must be persistent (set persistence_timeout)")
    allowed = SCHEDULER_FLAGS.get(svc["scheduler"], ())
    for flag in svc["scheduler_flags"]:
        if flag not in allowed:
            raise InputError(sub(field, "scheduler_flags"), flag,
                             f"scheduler {svc['scheduler']} accepts " + (", ".join(allowed) or "no flags"))
    if svc["one_packet"] and svc["protocol"] != "udp":
        raise InputError(sub(field, "one_packet"), True, "one-packet scheduling is only for UDP services")
    svc["realservers"] = {}
    if with_realservers:
        listed = spec.get("realservers") or []
        checked = collect([lambda index=index, rs_spec=rs_spec: normalize_realserver(
            rs_spec, svc, sub(field, f"realservers[{index}]")) for index, rs_spec in enumerate(listed)])
        for index, rs in enumerate(checked):
            key = rs_key(rs)
            if key in svc["realservers"]:
                raise InputError(sub(field, f"realservers[{index}].address"), listed[index].get("address"),
                                 f"real server {rs_name(key)} is listed twice")
            svc["realservers"][key] = rs
    return svc


def declared_twice(services: list[tuple[int, dict]]) -> list[InputError]:
    """For (index, normalized service) pairs in declaration order: each service that repeats an earlier one."""
    errors, seen = [], {}
    for index, svc in services:
        key = service_key(svc)
        if key in seen:
            why = f"service {service_name(key)} is already declared at index {seen[key]}"
            errors.append(InputError(f"services[{index}]", why=why))
        seen.setdefault(key, index)
    return errors


def declared_services(items: list[dict]) -> list[dict]:
    """ipvs_rules' services, each validated, none declared twice; every bad service and real server is
    reported at once."""
    services, errors = [], []
    for index, item in enumerate(items):
        try:
            services.append((index, normalize_service(service_input(item), field=f"services[{index}]",
                                                      with_realservers=True)))
        except BAD_INPUT as exc:
            errors += errors_of(exc)
    errors += declared_twice(services)
    collect([lambda error=error: raise_error(error) for error in errors])
    return [svc for _index, svc in services]


def normalize_realserver(spec: dict, svc: dict, field: str = "") -> dict:
    """Validate one real server of the normalized service `svc`."""
    address = normalize_address(sub(field, "address"), spec.get("address"))
    if family_of(address) != svc["family"]:
        raise InputError(sub(field, "address"), spec.get("address"),
                         f"a {family_of(address)} real server cannot serve an {svc['family']} service")
    rs = {"address": address}
    rs.update({option.name: setting(option, sub(field, option.name), spec.get(option.name))
               for option in REALSERVER_SETTINGS})
    service_port = svc["port"] or 0
    if given(spec.get("port")):
        rs["port"] = setting(REALSERVER["port"], sub(field, "port"), spec["port"])
        if rs["forwarding"] != "masquerade" and rs["port"] != service_port:
            raise InputError(sub(field, "port"), rs["port"],
                             f"only masquerade (NAT) can map ports; with {rs['forwarding']} the real server port "
                             f"is the service port ({service_port})")
    else:
        rs["port"] = service_port
    if rs["upper_threshold"] and rs["lower_threshold"] > rs["upper_threshold"]:
        raise InputError(sub(field, "lower_threshold"), rs["lower_threshold"],
                         f"must not exceed upper_threshold ({rs['upper_threshold']})")
    _check_tunnel(rs, field)
    return complete_tunnel(rs)


def _check_tunnel(rs: dict, field: str) -> None:
    """Tunnel details only where they apply: GUE needs its port, ipip takes none of them."""
    named = [name for name in ("tunnel_type", "tunnel_port", "tunnel_checksum") if given(rs[name])]
    if rs["forwarding"] != "tunnel":
        if named:
            raise InputError(sub(field, named[0]), rs[named[0]], "only applies with forwarding=tunnel")
        return
    kind = rs["tunnel_type"] or "ipip"
    if kind == "ipip":
        for name in ("tunnel_port", "tunnel_checksum"):
            if name in named:
                raise InputError(sub(field, name), rs[name], "does not apply to tunnel_type=ipip")
    elif kind == "gue" and not given(rs["tunnel_port"]):
        raise InputError(sub(field, "tunnel_port"), rs["tunnel_port"], "tunnel_type=gue needs a UDP port")
    elif kind != "gue" and "tunnel_port" in named:
        raise InputError(sub(field, "tunnel_port"), rs["tunnel_port"], "only applies with tunnel_type=gue")


def public_service(svc: dict) -> dict:
    """The result form of a service: plain values, real servers as a list."""
    out = {k: v for k, v in svc.items() if k != "realservers"}
    out["name"] = service_name(service_key(svc))
    out["realservers"] = [dict(svc["realservers"][key]) for key in ordered(svc["realservers"])]
    return out


def empty_service(**identity) -> dict:
    """A service with every setting at its default (what ipvsadm assumes when a flag is absent)."""
    svc = {"protocol": None, "address": None, "port": None, "fwmark": None, "family": "ipv4"}
    svc.update(identity)
    svc.update({option.name: option.value_if_unset() for option in SERVICE_SETTINGS})
    svc["realservers"] = {}
    return svc


def empty_realserver(address: str, port: int) -> dict:
    rs = {"address": address, "port": port}
    rs.update({option.name: option.value_if_unset() for option in REALSERVER_SETTINGS})
    return rs


# --- the modules' inputs (run by the modules and by the roles' preflight alike) ---------------

TIMEOUT_NAMES = ("tcp", "tcpfin", "udp")
MAX_TIMEOUT = 2 ** 31 - 1


def wanted_timeouts(given_timeouts: dict | None) -> dict:
    """ipvs_rules' connection timeouts that are set, each from 1 s to 2^31 - 1 s."""
    return {name: integer(f"timeouts.{name}", value, 1, MAX_TIMEOUT)
            for name, value in (given_timeouts or {}).items() if name in TIMEOUT_NAMES and value is not None}


def _rules(params: dict) -> tuple[list[dict], dict]:
    services, timeouts = collect([lambda: declared_services(params["services"] or []),
                                  lambda: wanted_timeouts(params["timeouts"])])
    return services, timeouts


RULES_INPUT = ModuleInput(
    argument_spec={
        "services": {"type": "list", "elements": "dict", "default": [], "options": service_spec(True)},
        "purge": {"type": "bool", "default": False},
        "timeouts": {"type": "dict", "options": {name: {"type": "int"} for name in TIMEOUT_NAMES}},
    },
    check=_rules,
)

SERVICE_INPUT = ModuleInput(
    argument_spec={**service_spec(with_realservers=True),
                   "state": {"type": "str", "default": "present", "choices": ["present", "absent"]}},
    check=lambda params: normalize_service(service_input(params), with_realservers=True),
    rules=SERVICE_ID_RULES,
)


def _realserver_target(params: dict) -> tuple[dict, tuple, dict | None]:
    """ipvs_realserver: the normalized service, the real server's key and, unless it is to be removed,
    its desired form (weight 0 when drained)."""
    svc = normalize_service(service_input(params, REALSERVER_MODULE_SERVICE_NAMES), with_realservers=False)
    integer("drain_timeout", params["drain_timeout"], 0, MAX_TIMEOUT)
    if params["state"] == "absent":
        address = normalize_address("address", params["address"])
        port = params["port"] if params["port"] is not None else (svc["port"] or 0)
        return svc, (address, port), None
    rs = normalize_realserver(params, svc)
    if params["state"] == "drained":
        rs["weight"] = 0
    return svc, (rs["address"], rs["port"]), rs


REALSERVER_INPUT = ModuleInput(
    argument_spec={**realserver_module_spec(),
                   "state": {"type": "str", "default": "present", "choices": ["present", "absent", "drained"]},
                   "drain_timeout": {"type": "int", "default": 0},
                   "drain_before_remove": {"type": "bool", "default": False}},
    check=_realserver_target,
    rules=REALSERVER_MODULE_SERVICE_RULES,
)
