# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvsadm's text formats: read what it prints, write what it reads. Pure functions.

How each option is spelled comes from its declaration in _ipvs_options.
"""

from __future__ import annotations

import re

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    complete_tunnel,
    empty_realserver,
    empty_service,
    ordered,
    service_key,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER_SETTINGS,
    SERVICE_SETTINGS,
    VALUE,
    full_prefix,
    join_hostport,
    split_hostport,
)


class IPVSParseError(ValueError):
    """ipvsadm printed something this collection does not understand."""


_PROTO_OPTS = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp",
               "--sctp-service": "sctp"}
_PROTO_FLAG = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}
_LIST_FWD = {"route": "route", "masq": "masquerade", "tunnel": "tunnel", "local": "route"}


def _flag_index(options) -> dict:
    return {flag: (option, value) for option in options for flag, value in option.flags.items()}


_SERVICE_FLAGS = _flag_index(SERVICE_SETTINGS)
_REALSERVER_FLAGS = _flag_index(REALSERVER_SETTINGS)


def _read_service_id(tokens: list[str], i: int) -> tuple[dict, int]:
    """Read '-t ADDR:PORT' / '-f MARK [-6]' starting at tokens[i]; return (id fields, next index)."""
    opt = tokens[i]
    if opt in _PROTO_OPTS:
        address, port = split_hostport(tokens[i + 1])
        return {"protocol": _PROTO_OPTS[opt], "address": address, "port": port,
                "family": "ipv6" if ":" in address else "ipv4"}, i + 2
    if opt in ("-f", "--fwmark-service"):
        fields = {"fwmark": int(tokens[i + 1]), "family": "ipv4"}
        i += 2
        if i < len(tokens) and tokens[i] in ("-6", "--ipv6"):
            fields["family"] = "ipv6"
            i += 1
        return fields, i
    raise IPVSParseError(f"unexpected service option {opt!r}")


def parse_realserver_command(command: list[str]) -> tuple[str, dict, dict]:
    """A real-server command (-a, -e or -d with its arguments, without the program) -> (the command, the service's
    identity, the real server as parse_save gives it; its address and port alone for -d)."""
    ident, i = _read_service_id(command, 1)
    if command[0] == "-d":
        address, port = split_hostport(command[i + 1])
        return command[0], ident, {"address": address, "port": port}
    key = service_key(ident)
    holder = {key: empty_service(**ident)}
    parse_save_line(holder, ["-a", *command[1:]])
    return command[0], ident, next(iter(holder[key]["realservers"].values()))


def command_service_key(command: list[str]) -> tuple:
    """The key of the service an ipvsadm command (argument list without the program) acts on."""
    return service_key(_read_service_id(command, 1)[0])


def _read_settings(obj: dict, tokens: list[str], i: int, flags: dict, what: str) -> None:
    """Set obj's options from the flags in tokens[i:], as their declarations read them."""
    while i < len(tokens):
        token = tokens[i]
        if token in ("-6", "--ipv6"):
            i += 1
            continue
        if token not in flags:
            raise IPVSParseError(f"unknown {what} option {token!r}")
        option, value = flags[token]
        if value is VALUE:
            text = tokens[i + 1]
            obj[option.name] = option.parse(text, obj) if option.parse else text
            i += 2
        else:
            obj[option.name] = value
            i += 1


def parse_save(text: str) -> dict:
    """Parse `ipvsadm -Sn` output into {service_key: service} (with real servers)."""
    table: dict = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            parse_save_line(table, tokens)
        except (IndexError, ValueError) as exc:
            raise IPVSParseError(f"ipvsadm -Sn line {lineno} {line!r}: {exc}") from None
    return table


def parse_save_line(table: dict, tokens: list[str]) -> None:
    """Add one `-A ...` or `-a ...` line (split into tokens) to `table`."""
    command = tokens[0]
    ident, i = _read_service_id(tokens, 1)
    if command == "-A":
        svc = empty_service(**ident)
        _read_settings(svc, tokens, i, _SERVICE_FLAGS, "service")
        if svc["persistence_netmask"] is None:
            svc["persistence_netmask"] = full_prefix(svc["family"])
        table[service_key(svc)] = svc
    elif command == "-a":
        svc = table.get(service_key(ident))
        if svc is None:
            raise IPVSParseError("real server listed before its service")
        if tokens[i] not in ("-r", "--real-server"):
            raise IPVSParseError(f"expected -r, got {tokens[i]!r}")
        rs = empty_realserver(*split_hostport(tokens[i + 1]))
        _read_settings(rs, tokens, i + 2, _REALSERVER_FLAGS, "real-server")
        complete_tunnel(rs)
        svc["realservers"][(rs["address"], rs["port"])] = rs
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
    """Parse an `ipvsadm -Ln` variant: {service_key: {"counters": {...}, "realservers": {rs_key: {...}}}}.

    `columns` names the numeric columns of the real-server lines, and of the service lines
    for --stats and --rate ("counters"; empty for listings whose service lines carry none).
    The plain listing has ("forwarding", "weight", "active_connections", "inactive_connections").
    """
    result: dict = {}
    current = None
    for line in text.splitlines():
        svc_match = _LIST_SVC.match(line)
        if svc_match:
            rest = (svc_match.group(3) or svc_match.group(6) or "").split()
            counters = {}
            if rest and all(value[:-1].isdigit() or value.isdigit() for value in rest[:len(columns)]):
                counters = {name: _number(value) for name, value in zip(columns, rest)}
            current = {"counters": counters, "realservers": {}}
            result[_list_key(svc_match)] = current
            continue
        rs_match = _LIST_RS.match(line)
        if rs_match and current is not None:
            try:
                address, port = split_hostport(rs_match.group(1))
            except ValueError:
                continue  # the column title "-> RemoteAddress:Port"
            row = {}
            for name, value in zip(columns, rs_match.group(2).split()):
                row[name] = _LIST_FWD.get(value.lower(), value.lower()) if name == "forwarding" else _number(value)
            current["realservers"][(address, port)] = row
    return result


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


def service_settings_args(svc: dict) -> list[str]:
    """Every setting of a service as ipvsadm arguments, in declaration order."""
    return [arg for option in SERVICE_SETTINGS for arg in option.render(svc)]


def realserver_args(rs: dict) -> list[str]:
    """-r ADDR:PORT and every setting of a real server, in declaration order."""
    return ["-r", join_hostport(rs["address"], rs["port"]),
            *[arg for option in REALSERVER_SETTINGS for arg in option.render(rs)]]


def save_text(table: dict) -> str:
    """A table in `ipvsadm -S` form, sorted, thresholds included: the --diff text and what
    `ipvsadm -R` restores at boot."""
    lines = []
    for key in ordered(table):
        svc = table[key]
        ident = service_args(svc)
        lines.append(" ".join(["-A", *ident, *service_settings_args(svc)]))
        for rkey in ordered(svc["realservers"]):
            lines.append(" ".join(["-a", *ident, *realserver_args(svc["realservers"][rkey])]))
    return "\n".join(lines) + ("\n" if lines else "")


def command_line(args: list[str]) -> str:
    """One ipvsadm command as an operator would type it."""
    return " ".join(["ipvsadm", *args])


def restore_script(commands: list[list[str]]) -> str:
    """The `ipvsadm -R` input for a batch of commands (no token contains blanks)."""
    return "".join(" ".join(args) + "\n" for args in commands)
