# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS table model: validate user input into normalized services and real servers.

Pure functions only. A normalized service is a dict::

    {"protocol": "tcp"|"udp"|"sctp"|None, "address": str|None, "port": int|None,
     "fwmark": int|None, "family": "ipv4"|"ipv6", "scheduler": str,
     "persistence_timeout": int|None, "persistence_netmask": int (prefix length),
     "scheduler_flags": [str, ...] (sorted), "one_packet": bool, "persistence_engine": str|None,
     "realservers": {rs_key: realserver}}

and a normalized real server::

    {"address": str, "port": int, "forwarding": "route"|"masquerade"|"tunnel",
     "weight": int, "upper_threshold": int, "lower_threshold": int,
     "tunnel_type": str|None, "tunnel_port": int|None, "tunnel_checksum": str|None}
"""

from __future__ import annotations

import ipaddress

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
PROTOCOLS = ("tcp", "udp", "sctp")
FAMILIES = ("ipv4", "ipv6")
FORWARDING = ("route", "masquerade", "tunnel")
SCHEDULER_FLAGS = {"sh": ("sh-fallback", "sh-port"), "mh": ("mh-fallback", "mh-port")}
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")
MAX_WEIGHT = 65535
MAX_THRESHOLD = 2 ** 32 - 1
MAX_FWMARK = 2 ** 32 - 1


class IPVSInputError(ValueError):
    """Bad user input; the message names the field and the value."""


def _fail(field: str, value: object, why: str) -> IPVSInputError:
    return IPVSInputError(f"{field}={value!r}: {why}")


def _sub(field: str, name: str) -> str:
    """The name of option `name` inside `field` ('' = top level)."""
    return f"{field}.{name}" if field else name


def family_of(address: str) -> str:
    return "ipv6" if ipaddress.ip_address(address).version == 6 else "ipv4"


def normalize_address(field: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(field, value, "an IPv4 or IPv6 address is required")
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise _fail(field, value, "not an IPv4 or IPv6 address (host names are not accepted)") from None


def _int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise _fail(field, value, f"an integer from {low} to {high} is required")
    try:
        number = int(str(value), 10)
    except (TypeError, ValueError):
        raise _fail(field, value, f"an integer from {low} to {high} is required") from None
    if number < low or number > high:
        raise _fail(field, value, f"must be from {low} to {high}")
    return number


def _choice(field: str, value: object, choices: tuple) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in choices:
        raise _fail(field, value, f"must be one of {', '.join(choices)}")
    return text


def full_prefix(family: str) -> int:
    return 128 if family == "ipv6" else 32


def normalize_netmask(field: str, value: object, family: str) -> int:
    """Accept a prefix length or (IPv4) a dotted netmask; return the prefix length."""
    if value is None or value == "":
        return full_prefix(family)
    text = str(value).strip().lstrip("/")
    if text.isdigit():
        return _int(field, text, 0 if family == "ipv4" else 1, full_prefix(family))
    if family == "ipv4":
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
        except ValueError:
            pass
    raise _fail(field, value, f"not a valid {family} netmask or prefix length")


def netmask_text(prefix: int, family: str) -> str:
    """The form ipvsadm prints and accepts for -M."""
    if family == "ipv6":
        return str(prefix)
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


def service_key(svc: dict) -> tuple:
    if svc.get("fwmark") is not None:
        return ("fwmark", svc["family"], svc["fwmark"])
    return (svc["protocol"], svc["address"], svc["port"])


def join_hostport(address: str, port: int) -> str:
    """address:port as ipvsadm writes it, IPv6 in brackets."""
    return (f"[{address}]" if ":" in address else address) + f":{port}"


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


def normalize_service(spec: dict, field: str = "", with_realservers: bool = True) -> dict:
    """Validate one service as the user wrote it; return its normalized form."""
    fwmark = spec.get("fwmark")
    if fwmark is not None and fwmark != "":
        if spec.get("address") or spec.get("port") not in (None, "") or spec.get("protocol"):
            raise _fail(_sub(field, "fwmark"), fwmark, "a firewall-mark service takes no protocol, address or port")
        svc = {"protocol": None, "address": None, "port": None,
               "fwmark": _int(_sub(field, "fwmark"), fwmark, 1, MAX_FWMARK),
               "family": _choice(_sub(field, "family"), spec.get("family") or "ipv4", FAMILIES)}
    else:
        if spec.get("address") in (None, ""):
            raise _fail(_sub(field, "address"), spec.get("address"), "address and port, or fwmark, is required")
        address = normalize_address(_sub(field, "address"), spec.get("address"))
        if spec.get("port") in (None, ""):
            raise _fail(_sub(field, "port"), spec.get("port"),
                        "a port is required with address (0 = all ports, needs persistence)")
        family = family_of(address)
        if spec.get("family") and spec["family"] != family:
            raise _fail(_sub(field, "family"), spec["family"], f"does not match address {address} ({family})")
        svc = {"protocol": _choice(_sub(field, "protocol"), spec.get("protocol") or "tcp", PROTOCOLS),
               "address": address, "port": _int(_sub(field, "port"), spec.get("port"), 0, 65535),
               "fwmark": None, "family": family}
    svc["scheduler"] = _choice(_sub(field, "scheduler"), spec.get("scheduler") or "wlc", SCHEDULERS)
    timeout = spec.get("persistence_timeout")
    svc["persistence_timeout"] = None if timeout in (None, "") else \
        _int(_sub(field, "persistence_timeout"), timeout, 1, 2 ** 31 - 1)
    netmask = spec.get("persistence_netmask")
    if netmask not in (None, "") and svc["persistence_timeout"] is None:
        raise _fail(_sub(field, "persistence_netmask"), netmask, "only applies with persistence_timeout")
    svc["persistence_netmask"] = normalize_netmask(_sub(field, "persistence_netmask"), netmask, svc["family"])
    if svc["port"] == 0 and svc["persistence_timeout"] is None:
        raise _fail(_sub(field, "port"), 0,
                    "an all-ports service (port 0) must be persistent (set persistence_timeout)")
    flags = sorted(set(spec.get("scheduler_flags") or []))
    allowed = SCHEDULER_FLAGS.get(svc["scheduler"], ())
    for flag in flags:
        if flag not in allowed:
            raise _fail(_sub(field, "scheduler_flags"), flag,
                        f"scheduler {svc['scheduler']} accepts " + (", ".join(allowed) or "no flags"))
    svc["scheduler_flags"] = flags
    svc["one_packet"] = bool(spec.get("one_packet"))
    if svc["one_packet"] and svc["protocol"] != "udp":
        raise _fail(_sub(field, "one_packet"), True, "one-packet scheduling is only for UDP services")
    svc["persistence_engine"] = spec.get("persistence_engine") or None
    if svc["persistence_engine"] not in (None, "sip"):
        raise _fail(_sub(field, "persistence_engine"), svc["persistence_engine"], "the only persistence engine is sip")
    svc["realservers"] = {}
    if with_realservers:
        for index, rs_spec in enumerate(spec.get("realservers") or []):
            rs = normalize_realserver(rs_spec, svc, _sub(field, f"realservers[{index}]"))
            key = rs_key(rs)
            if key in svc["realservers"]:
                raise _fail(_sub(field, f"realservers[{index}].address"), rs_spec.get("address"),
                            f"real server {rs_name(key)} is listed twice")
            svc["realservers"][key] = rs
    return svc


def normalize_realserver(spec: dict, svc: dict, field: str = "") -> dict:
    """Validate one real server of the normalized service `svc`."""
    address = normalize_address(_sub(field, "address"), spec.get("address"))
    if family_of(address) != svc["family"]:
        raise _fail(_sub(field, "address"), spec.get("address"),
                    f"a {family_of(address)} real server cannot serve an {svc['family']} service")
    forwarding = _choice(_sub(field, "forwarding"), spec.get("forwarding") or "route", FORWARDING)
    service_port = svc["port"] or 0
    port = spec.get("port")
    if port in (None, ""):
        port = service_port
    else:
        port = _int(_sub(field, "port"), port, 0, 65535)
        if forwarding != "masquerade" and port != service_port:
            raise _fail(_sub(field, "port"), port,
                        f"only masquerade (NAT) can map ports; with {forwarding} the real server port "
                        f"is the service port ({service_port})")
    weight = _int(_sub(field, "weight"), 1 if spec.get("weight") in (None, "") else spec["weight"], 0, MAX_WEIGHT)
    upper = _int(_sub(field, "upper_threshold"), spec.get("upper_threshold") or 0, 0, MAX_THRESHOLD)
    lower = _int(_sub(field, "lower_threshold"), spec.get("lower_threshold") or 0, 0, MAX_THRESHOLD)
    if upper and lower > upper:
        raise _fail(_sub(field, "lower_threshold"), lower, f"must not exceed upper_threshold ({upper})")
    rs = {"address": address, "port": port, "forwarding": forwarding, "weight": weight,
          "upper_threshold": upper, "lower_threshold": lower,
          "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}
    tun_type, tun_port, tun_csum = spec.get("tunnel_type"), spec.get("tunnel_port"), spec.get("tunnel_checksum")
    if forwarding != "tunnel":
        for name, value in (("tunnel_type", tun_type), ("tunnel_port", tun_port), ("tunnel_checksum", tun_csum)):
            if value not in (None, ""):
                raise _fail(_sub(field, name), value, "only applies with forwarding=tunnel")
        return rs
    rs["tunnel_type"] = _choice(_sub(field, "tunnel_type"), tun_type or "ipip", TUNNEL_TYPES)
    if rs["tunnel_type"] == "ipip":
        for name, value in (("tunnel_port", tun_port), ("tunnel_checksum", tun_csum)):
            if value not in (None, ""):
                raise _fail(_sub(field, name), value, "does not apply to tunnel_type=ipip")
        return rs
    if rs["tunnel_type"] == "gue":
        if tun_port in (None, ""):
            raise _fail(_sub(field, "tunnel_port"), tun_port, "tunnel_type=gue needs a UDP port")
        rs["tunnel_port"] = _int(_sub(field, "tunnel_port"), tun_port, 1, 65535)
    elif tun_port not in (None, ""):
        raise _fail(_sub(field, "tunnel_port"), tun_port, "only applies with tunnel_type=gue")
    rs["tunnel_checksum"] = _choice(_sub(field, "tunnel_checksum"), tun_csum or "nocsum", TUNNEL_CHECKSUMS)
    return rs


def public_service(svc: dict) -> dict:
    """The result form of a service: plain values, real servers as a list."""
    out = {k: v for k, v in svc.items() if k != "realservers"}
    out["name"] = service_name(service_key(svc))
    out["realservers"] = [dict(rs) for _key, rs in sorted(svc["realservers"].items())]
    return out
