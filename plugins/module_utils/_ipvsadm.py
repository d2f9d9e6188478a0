# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvsadm text formats: parse its output, render its arguments. Pure functions."""

from __future__ import annotations

import re

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    full_prefix,
    join_hostport,
    netmask_text,
    normalize_netmask,
    rs_key,
    service_key,
)


class IPVSParseError(ValueError):
    """ipvsadm printed something this collection does not understand."""


_PROTO_OPTS = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp",
               "--sctp-service": "sctp"}
_PROTO_FLAG = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
_FWD_OPTS = {"-g": "route", "--gatewaying": "route", "-m": "masquerade", "--masquerading": "masquerade",
             "-i": "tunnel", "--ipip": "tunnel"}
_FWD_FLAG = {"route": "-g", "masquerade": "-m", "tunnel": "-i"}
_LIST_FWD = {"route": "route", "masq": "masquerade", "tunnel": "tunnel", "local": "route"}


def split_hostport(text: str) -> tuple[str, int]:
    """'10.0.0.1:80' or '[2001:db8::1]:80' -> (address, port)."""
    if text.startswith("["):
        address, _sep, port = text[1:].partition("]:")
    else:
        address, _sep, port = text.rpartition(":")
    if not address or not port.isdigit():
        raise IPVSParseError(f"cannot read address:port from {text!r}")
    return address, int(port)


def _family(address: str) -> str:
    return "ipv6" if ":" in address else "ipv4"


def _empty_service(**fields) -> dict:
    svc = {"protocol": None, "address": None, "port": None, "fwmark": None, "family": "ipv4",
           "scheduler": "wlc", "persistence_timeout": None, "persistence_netmask": 32,
           "scheduler_flags": [], "one_packet": False, "persistence_engine": None, "realservers": {}}
    svc.update(fields)
    return svc


def _read_service_id(tokens: list[str], i: int) -> tuple[dict, int]:
    """Read '-t ADDR:PORT' / '-f MARK [-6]' starting at tokens[i]; return (id fields, next index)."""
    opt = tokens[i]
    if opt in _PROTO_OPTS:
        address, port = split_hostport(tokens[i + 1])
        return {"protocol": _PROTO_OPTS[opt], "address": address, "port": port, "family": _family(address)}, i + 2
    if opt in ("-f", "--fwmark-service"):
        fields = {"fwmark": int(tokens[i + 1]), "family": "ipv4"}
        i += 2
        if i < len(tokens) and tokens[i] in ("-6", "--ipv6"):
            fields["family"] = "ipv6"
            i += 1
        return fields, i
    raise IPVSParseError(f"unexpected service option {opt!r}")


def parse_save(text: str) -> dict:
    """Parse `ipvsadm -Sn` output into {service_key: service} (with real servers)."""
    table: dict = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            _parse_save_line(table, tokens)
        except (IndexError, ValueError) as exc:
            raise IPVSParseError(f"ipvsadm -Sn line {lineno} {line!r}: {exc}") from None
    return table


def _parse_save_line(table: dict, tokens: list[str]) -> None:
    command = tokens[0]
    ident, i = _read_service_id(tokens, 1)
    if command == "-A":
        svc = _empty_service(**ident)
        svc["persistence_netmask"] = full_prefix(svc["family"])
        while i < len(tokens):
            opt = tokens[i]
            if opt in ("-6", "--ipv6"):
                i += 1
            elif opt in ("-s", "--scheduler"):
                svc["scheduler"], i = tokens[i + 1], i + 2
            elif opt in ("-p", "--persistent"):
                svc["persistence_timeout"], i = int(tokens[i + 1]), i + 2
            elif opt in ("-M", "--netmask"):
                svc["persistence_netmask"] = normalize_netmask("netmask", tokens[i + 1], svc["family"])
                i += 2
            elif opt in ("-b", "--sched-flags"):
                svc["scheduler_flags"], i = sorted(tokens[i + 1].split(",")), i + 2
            elif opt in ("pe", "--pe"):
                svc["persistence_engine"], i = tokens[i + 1], i + 2
            elif opt in ("ops", "-o", "--ops"):
                svc["one_packet"], i = True, i + 1
            else:
                raise IPVSParseError(f"unknown service option {opt!r}")
        table[service_key(svc)] = svc
    elif command == "-a":
        svc = table.get(service_key(_empty_service(**ident)))
        if svc is None:
            raise IPVSParseError("real server listed before its service")
        if tokens[i] not in ("-r", "--real-server"):
            raise IPVSParseError(f"expected -r, got {tokens[i]!r}")
        address, port = split_hostport(tokens[i + 1])
        rs = {"address": address, "port": port, "forwarding": "route", "weight": 1, "upper_threshold": 0,
              "lower_threshold": 0, "tunnel_type": None, "tunnel_port": None, "tunnel_checksum": None}
        i += 2
        while i < len(tokens):
            opt = tokens[i]
            if opt in _FWD_OPTS:
                rs["forwarding"], i = _FWD_OPTS[opt], i + 1
            elif opt in ("-w", "--weight"):
                rs["weight"], i = int(tokens[i + 1]), i + 2
            elif opt in ("-x", "--u-threshold"):
                rs["upper_threshold"], i = int(tokens[i + 1]), i + 2
            elif opt in ("-y", "--l-threshold"):
                rs["lower_threshold"], i = int(tokens[i + 1]), i + 2
            elif opt == "--tun-type":
                rs["tunnel_type"], i = tokens[i + 1], i + 2
            elif opt == "--tun-port":
                rs["tunnel_port"], i = int(tokens[i + 1]), i + 2
            elif opt in ("--tun-nocsum", "--tun-csum", "--tun-remcsum"):
                rs["tunnel_checksum"], i = opt[len("--tun-"):], i + 1
            else:
                raise IPVSParseError(f"unknown real-server option {opt!r}")
        if rs["forwarding"] == "tunnel":
            rs["tunnel_type"] = rs["tunnel_type"] or "ipip"
            if rs["tunnel_type"] != "ipip":
                rs["tunnel_checksum"] = rs["tunnel_checksum"] or "nocsum"
            else:
                rs["tunnel_checksum"] = None
        svc["realservers"][rs_key(rs)] = rs
    else:
        raise IPVSParseError(f"unknown command {command!r}")


_LIST_SVC = re.compile(r"^(TCP|UDP|SCTP)\s+(\S+)\s*(.*)$|^FWM\s+(\d+)(\s+IPv6)?\s*(.*)$")
_LIST_RS = re.compile(r"^\s+->\s+(\S+)\s+(.*)$")


def _list_key(match: re.Match) -> tuple:
    if match.group(4) is not None:
        return ("fwmark", "ipv6" if match.group(5) else "ipv4", int(match.group(4)))
    address, port = split_hostport(match.group(2))
    return (match.group(1).lower(), address, port)


def _number(text: str) -> int:
    """A counter as ipvsadm prints it; with --exact there is no K/M/G suffix."""
    scale = {"K": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12}
    if text and text[-1] in scale:
        return int(text[:-1]) * scale[text[-1]]
    return int(text)


def parse_list(text: str, columns: tuple[str, ...]) -> dict:
    """Parse an `ipvsadm -Ln` variant: {service_key: {"values": [...], "realservers": {rs_key: {...}}}}.

    `columns` names the numeric columns of the real-server lines (and of the
    service lines for --stats/--rate); the plain listing has
    ("forwarding", "weight", "active_connections", "inactive_connections").
    """
    result: dict = {}
    current = None
    for line in text.splitlines():
        svc_match = _LIST_SVC.match(line)
        if svc_match:
            current = {"realservers": {}, "rest": (svc_match.group(3) or svc_match.group(6) or "").split()}
            result[_list_key(svc_match)] = current
            continue
        rs_match = _LIST_RS.match(line)
        if rs_match and current is not None:
            try:
                address, port = split_hostport(rs_match.group(1))
            except IPVSParseError:
                continue  # the column title "-> RemoteAddress:Port"
            values = rs_match.group(2).split()
            row = {}
            for name, value in zip(columns, values):
                if name == "forwarding":
                    row[name] = _LIST_FWD.get(value.lower(), value.lower())
                else:
                    row[name] = _number(value)
            current["realservers"][(address, port)] = row
    return result


def parse_service_counters(text: str, columns: tuple[str, ...]) -> dict:
    """Service-line counters of `-Ln --stats --exact` / `--rate --exact`: {service_key: {col: n}}."""
    out = {}
    for key, entry in parse_list(text, columns).items():
        numbers = [_number(v) for v in entry["rest"][:len(columns)]]
        out[key] = dict(zip(columns, numbers))
    return out


_TIMEOUT = re.compile(r"Timeout \(tcp tcpfin udp\):\s+(\d+)\s+(\d+)\s+(\d+)")


def parse_timeouts(text: str) -> dict:
    match = _TIMEOUT.search(text)
    if not match:
        raise IPVSParseError(f"cannot read timeouts from {text.strip()!r}")
    return {"tcp": int(match.group(1)), "tcpfin": int(match.group(2)), "udp": int(match.group(3))}


_DAEMON = re.compile(r"^(master|backup) sync daemon \((.*)\)\s*$")


def parse_daemons(text: str) -> list[dict]:
    daemons = []
    for line in text.splitlines():
        match = _DAEMON.match(line.strip())
        if not match:
            continue
        entry: dict = {"state": match.group(1)}
        for pair in match.group(2).split(","):
            name, _sep, value = pair.strip().partition("=")
            entry[name] = int(value) if value.isdigit() else value
        daemons.append(entry)
    return daemons


def service_args(svc: dict) -> list[str]:
    """The arguments that name a service: ['-t', 'ADDR:PORT'] or ['-f', 'MARK'(, '-6')]."""
    if svc.get("fwmark") is not None:
        return ["-f", str(svc["fwmark"])] + (["-6"] if svc["family"] == "ipv6" else [])
    return [_PROTO_FLAG[svc["protocol"]], join_hostport(svc["address"], svc["port"])]


def service_options(svc: dict) -> list[str]:
    args = ["-s", svc["scheduler"]]
    if svc["persistence_timeout"] is not None:
        args += ["-p", str(svc["persistence_timeout"])]
        if svc["persistence_netmask"] != full_prefix(svc["family"]):
            args += ["-M", netmask_text(svc["persistence_netmask"], svc["family"])]
    if svc["scheduler_flags"]:
        args += ["-b", ",".join(svc["scheduler_flags"])]
    if svc["persistence_engine"]:
        args += ["--pe", svc["persistence_engine"]]
    if svc["one_packet"]:
        args.append("-o")
    return args


def realserver_args(rs: dict) -> list[str]:
    args = ["-r", join_hostport(rs["address"], rs["port"]), _FWD_FLAG[rs["forwarding"]], "-w", str(rs["weight"])]
    if rs["upper_threshold"]:
        args += ["-x", str(rs["upper_threshold"])]
    if rs["lower_threshold"]:
        args += ["-y", str(rs["lower_threshold"])]
    if rs["forwarding"] == "tunnel" and rs["tunnel_type"] and rs["tunnel_type"] != "ipip":
        args += ["--tun-type", rs["tunnel_type"]]
        if rs["tunnel_port"]:
            args += ["--tun-port", str(rs["tunnel_port"])]
        args.append("--tun-" + (rs["tunnel_checksum"] or "nocsum"))
    return args


def save_text(table: dict) -> str:
    """Render a table in `ipvsadm -S` form, sorted, thresholds included: the --diff text and what
    `ipvsadm -R` restores at boot."""
    lines = []
    for _key, svc in sorted(table.items(), key=lambda item: _sort_key(item[0])):
        ident = service_args(svc)
        lines.append(" ".join(["-A", *ident, *service_options(svc)]))
        for _rkey, rs in sorted(svc["realservers"].items()):
            lines.append(" ".join(["-a", *ident, *realserver_args(rs)]))
    return "\n".join(lines) + ("\n" if lines else "")


def _sort_key(key: tuple) -> tuple:
    return tuple(str(part) for part in key)
