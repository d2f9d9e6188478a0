# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS table over generic netlink, the interface ipvsadm itself talks to the kernel through.

Read: every service with every attribute, every real server with its thresholds and connection counts, in one
socket and no process started (`ipvsadm -Sn` and `ipvsadm -Ln --thresholds` are two processes that print what is
read here, and two parses). The table comes out in the form parse_save gives, with the thresholds filled in.
Written: real servers added, edited and deleted (what `ipvsadm -a`, `-e` and `-d` send), so that a change of a
few real servers starts no process: a module holding a large table pays more for forking than for the change.
Encoding and decoding are pure functions; the Netlink class talks to the kernel."""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    complete_tunnel,
    empty_realserver,
    empty_service,
    service_key,
)

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

IPVS_FAMILY = "IPVS"
IPVS_GENL_VERSION = 1
IPVS_CMD_GET_SERVICE = 4
IPVS_CMD_NEW_DEST, IPVS_CMD_SET_DEST, IPVS_CMD_DEL_DEST, IPVS_CMD_GET_DEST = 5, 6, 7, 8
# ipvsadm's real-server commands and the requests that make them.
DEST_COMMANDS = {"-a": IPVS_CMD_NEW_DEST, "-e": IPVS_CMD_SET_DEST, "-d": IPVS_CMD_DEL_DEST}
IPVS_CMD_ATTR_SERVICE = 1
IPVS_CMD_ATTR_DEST = 2
# A service's attributes (include/uapi/linux/ip_vs.h).
SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT, SVC_FWMARK, SVC_SCHED_NAME, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK = range(1, 10)
SVC_PE_NAME = 11
# A real server's.
DEST_ADDR, DEST_PORT, DEST_FWD_METHOD, DEST_WEIGHT, DEST_U_THRESH, DEST_L_THRESH = range(1, 7)
DEST_ACTIVE_CONNS, DEST_INACT_CONNS = 7, 8
DEST_ADDR_FAMILY = 11
DEST_TUN_TYPE, DEST_TUN_PORT, DEST_TUN_FLAGS = 13, 14, 15

SVC_F_PERSISTENT = 0x1
SVC_F_ONEPACKET = 0x4
SVC_F_SCHED1 = 0x8
SVC_F_SCHED2 = 0x10
# Scheduler flags as ipvsadm names them, per scheduler (the kernel's SCHED1 and SCHED2 bits).
SCHED_FLAGS = {"sh": {SVC_F_SCHED1: "sh-fallback", SVC_F_SCHED2: "sh-port"},
               "mh": {SVC_F_SCHED1: "mh-fallback", SVC_F_SCHED2: "mh-port"}}
PROTOCOLS = {socket.IPPROTO_TCP: "tcp", socket.IPPROTO_UDP: "udp", 132: "sctp"}
FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
# IP_VS_CONN_F_FWD_MASK's methods, as `ipvsadm -S` writes them (a local real server as -m: it was added so).
FORWARDING = {0: "masquerade", 1: "masquerade", 2: "tunnel", 3: "route"}
TUNNEL_TYPES = {0: "ipip", 1: "gue", 2: "gre"}
TUNNEL_CHECKSUMS = {0: "nocsum", 1: "csum", 2: "remcsum"}
FORWARDING_CODES = {"masquerade": 0, "tunnel": 2, "route": 3}
TUNNEL_TYPE_CODES = {name: code for code, name in TUNNEL_TYPES.items()}
TUNNEL_CHECKSUM_CODES = {name: code for code, name in TUNNEL_CHECKSUMS.items()}


class NetlinkUnavailable(OSError):
    """The kernel offers no IPVS family over generic netlink (or it cannot be asked): use ipvsadm."""


class ChangeRefused(OSError):
    """The kernel refused change number `index` of a batch (those before it are made)."""

    def __init__(self, index: int, error: OSError):
        super().__init__(error.errno, error.strerror)
        self.index = index


def attribute(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("HH", length, kind) + payload + b"\0" * (-length % 4)


def attributes(data: bytes) -> dict[int, bytes]:
    """Netlink attributes -> {type: payload} (the nested flag dropped)."""
    found, offset = {}, 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("HH", data, offset)
        if length < 4:
            break
        found[kind & NLA_TYPE_MASK] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return found


def message(family: int, flags: int, seq: int, command: int, version: int, payload: bytes) -> bytes:
    body = struct.pack("BBH", command, version, 0) + payload
    return struct.pack("IHHII", 16 + len(body), family, flags, seq, 0) + body


def messages(data: bytes):
    """Each netlink message of a datagram: (type, its payload after the netlink header)."""
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("IH", data, offset)
        if length < 16:
            break
        yield kind, data[offset + 16:offset + length]
        offset += (length + 3) & ~3


def _address(family: str, raw: bytes) -> str:
    if family == "ipv6":
        return socket.inet_ntop(socket.AF_INET6, raw[:16])
    return socket.inet_ntop(socket.AF_INET, raw[:4])


def _u16(raw: bytes) -> int:
    return struct.unpack("H", raw[:2])[0]


def _u32(raw: bytes) -> int:
    return struct.unpack("I", raw[:4])[0]


def _be16(raw: bytes) -> int:
    return struct.unpack("!H", raw[:2])[0]


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


def decode_service(attrs: dict[int, bytes]) -> dict:
    """A service's netlink attributes -> the service as parse_save gives it (no real servers yet)."""
    family = FAMILIES[_u16(attrs[SVC_AF])]
    if SVC_FWMARK in attrs and _u32(attrs[SVC_FWMARK]):
        svc = empty_service(fwmark=_u32(attrs[SVC_FWMARK]), family=family)
    else:
        svc = empty_service(protocol=PROTOCOLS[_u16(attrs[SVC_PROTOCOL])], address=_address(family, attrs[SVC_ADDR]),
                            port=_be16(attrs[SVC_PORT]), family=family)
    flags = _u32(attrs[SVC_FLAGS]) if SVC_FLAGS in attrs else 0
    svc["scheduler"] = _text(attrs[SVC_SCHED_NAME])
    if flags & SVC_F_PERSISTENT:
        svc["persistence_timeout"] = _u32(attrs[SVC_TIMEOUT])
    svc["one_packet"] = bool(flags & SVC_F_ONEPACKET)
    svc["scheduler_flags"] = sorted(name for bit, name in SCHED_FLAGS.get(svc["scheduler"], {}).items()
                                    if flags & bit)
    netmask = _u32(attrs[SVC_NETMASK]) if SVC_NETMASK in attrs else None
    if family == "ipv4":
        # A dotted mask in network order.
        svc["persistence_netmask"] = bin(struct.unpack("!I", attrs[SVC_NETMASK][:4])[0]).count("1") \
            if netmask is not None else 32
    else:
        svc["persistence_netmask"] = netmask if netmask is not None else 128
    if SVC_PE_NAME in attrs and _text(attrs[SVC_PE_NAME]):
        svc["persistence_engine"] = _text(attrs[SVC_PE_NAME])
    return svc


def decode_realserver(attrs: dict[int, bytes], family: str) -> dict:
    """A real server's netlink attributes -> the real server as parse_save gives it, thresholds included."""
    own = FAMILIES.get(_u16(attrs[DEST_ADDR_FAMILY]), family) if DEST_ADDR_FAMILY in attrs else family
    rs = empty_realserver(_address(own, attrs[DEST_ADDR]), _be16(attrs[DEST_PORT]))
    rs["forwarding"] = FORWARDING[_u32(attrs[DEST_FWD_METHOD]) & 0x7]
    rs["weight"] = struct.unpack("i", attrs[DEST_WEIGHT][:4])[0]
    rs["upper_threshold"] = _u32(attrs[DEST_U_THRESH])
    rs["lower_threshold"] = _u32(attrs[DEST_L_THRESH])
    if rs["forwarding"] == "tunnel":
        if DEST_TUN_TYPE in attrs:
            rs["tunnel_type"] = TUNNEL_TYPES.get(attrs[DEST_TUN_TYPE][0], "ipip")
        if rs["tunnel_type"] == "gue" and DEST_TUN_PORT in attrs:
            rs["tunnel_port"] = _be16(attrs[DEST_TUN_PORT])
        if rs["tunnel_type"] in ("gue", "gre") and DEST_TUN_FLAGS in attrs:
            rs["tunnel_checksum"] = TUNNEL_CHECKSUMS.get(_u16(attrs[DEST_TUN_FLAGS]) & 0x3, "nocsum")
    return complete_tunnel(rs)


def service_identity(svc: dict) -> bytes:
    """The attributes that name a service in a request (the dump of its real servers)."""
    family = socket.AF_INET6 if svc["family"] == "ipv6" else socket.AF_INET
    parts = [attribute(SVC_AF, struct.pack("H", family))]
    if svc.get("fwmark") is not None:
        parts.append(attribute(SVC_FWMARK, struct.pack("I", svc["fwmark"])))
    else:
        protocol = {name: number for number, name in PROTOCOLS.items()}[svc["protocol"]]
        raw = socket.inet_pton(family, svc["address"]).ljust(16, b"\0")
        parts += [attribute(SVC_PROTOCOL, struct.pack("H", protocol)), attribute(SVC_ADDR, raw),
                  attribute(SVC_PORT, struct.pack("!H", svc["port"]))]
    return attribute(IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, b"".join(parts))


def encode_realserver(rs: dict, full: bool) -> bytes:
    """A real server as a request's nested attribute: its address and port, and with `full` every setting (what
    an add or an edit sends; a delete names the real server only)."""
    family = socket.AF_INET6 if ":" in rs["address"] else socket.AF_INET
    parts = [attribute(DEST_ADDR_FAMILY, struct.pack("H", family)),
             attribute(DEST_ADDR, socket.inet_pton(family, rs["address"]).ljust(16, b"\0")),
             attribute(DEST_PORT, struct.pack("!H", rs["port"]))]
    if full:
        parts += [attribute(DEST_FWD_METHOD, struct.pack("I", FORWARDING_CODES[rs["forwarding"]])),
                  attribute(DEST_WEIGHT, struct.pack("i", rs["weight"])),
                  attribute(DEST_U_THRESH, struct.pack("I", rs["upper_threshold"] or 0)),
                  attribute(DEST_L_THRESH, struct.pack("I", rs["lower_threshold"] or 0))]
        if rs["forwarding"] == "tunnel":
            kind = rs["tunnel_type"] or "ipip"
            parts.append(attribute(DEST_TUN_TYPE, struct.pack("B", TUNNEL_TYPE_CODES[kind])))
            if kind == "gue":
                parts.append(attribute(DEST_TUN_PORT, struct.pack("!H", rs["tunnel_port"])))
            if kind in ("gue", "gre"):
                checksum = TUNNEL_CHECKSUM_CODES[rs["tunnel_checksum"] or "nocsum"]
                parts.append(attribute(DEST_TUN_FLAGS, struct.pack("H", checksum)))
    return attribute(IPVS_CMD_ATTR_DEST | NLA_F_NESTED, b"".join(parts))


def realserver_request(command: str, svc: dict, rs: dict) -> bytes:
    """The payload of the request for ipvsadm's `command` (-a, -e or -d) on real server `rs` of service `svc`."""
    return service_identity(svc) + encode_realserver(rs, full=command != "-d")


class Netlink:
    """One generic-netlink socket to the kernel's IPVS family."""

    def __init__(self):
        try:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
            self.sock.bind((0, 0))
        except (OSError, AttributeError) as exc:
            raise NetlinkUnavailable(f"no generic netlink socket: {exc}") from None
        self.seq = 0
        # One buffer for every answer (a fresh megabyte per receive costs a small guest more than the read).
        self.buffer = bytearray(1 << 20)
        self.view = memoryview(self.buffer)
        self.family = self._family_id()

    def close(self) -> None:
        self.view.release()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def request(self, family: int, command: int, version: int, payload: bytes, dump: bool,
                ack: bool = False) -> list[bytes]:
        """Send one request; every answer's payload after the generic-netlink header, until the dump ends (or,
        with `ack`, until the kernel acknowledges a change)."""
        self.seq += 1
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else 0) | (NLM_F_ACK if ack else 0)
        self.sock.send(message(family, flags, self.seq, command, version, payload))
        answers = []
        while True:
            size = self.sock.recv_into(self.buffer)
            for kind, body in messages(self.view[:size].tobytes()):
                if kind == NLMSG_DONE:
                    return answers
                if kind == NLMSG_ERROR:
                    error = -struct.unpack_from("i", body)[0]
                    if error:
                        raise OSError(error, os.strerror(error))
                    return answers
                answers.append(body[4:])
            if not dump and answers:
                return answers

    def _family_id(self) -> int:
        try:
            answers = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
                                   attribute(CTRL_ATTR_FAMILY_NAME, IPVS_FAMILY.encode() + b"\0"), dump=False)
        except OSError as exc:
            raise NetlinkUnavailable(f"the kernel has no {IPVS_FAMILY} netlink family: {exc.strerror}") from None
        return _u16(attributes(answers[0])[CTRL_ATTR_FAMILY_ID])

    def service(self, svc: dict) -> dict | None:
        """One service (named by `svc`'s identity) as the kernel holds it, None when it has no such service."""
        try:
            answers = self.request(self.family, IPVS_CMD_GET_SERVICE, IPVS_GENL_VERSION, service_identity(svc),
                                   dump=False)
        except OSError as exc:
            if exc.errno in (errno.ESRCH, errno.ENOENT):
                return None
            raise
        return decode_service(attributes(attributes(answers[0])[IPVS_CMD_ATTR_SERVICE])) if answers else None

    def services(self) -> list[dict]:
        return [decode_service(attributes(attributes(body)[IPVS_CMD_ATTR_SERVICE]))
                for body in self.request(self.family, IPVS_CMD_GET_SERVICE, IPVS_GENL_VERSION, b"", dump=True)]

    def realservers(self, svc: dict) -> list[dict]:
        """The service's real servers, each with its connection counts."""
        return [attributes(attributes(body)[IPVS_CMD_ATTR_DEST])
                for body in self.request(self.family, IPVS_CMD_GET_DEST, IPVS_GENL_VERSION, service_identity(svc),
                                         dump=True)]


def _with_realservers(link: Netlink, svc: dict, connections: dict | None = None) -> dict:
    key = service_key(svc)
    for attrs in link.realservers(svc):
        rs = decode_realserver(attrs, svc["family"])
        rkey = (rs["address"], rs["port"])
        svc["realservers"][rkey] = rs
        if connections is not None:
            connections[(key, rkey)] = {"active_connections": _u32(attrs[DEST_ACTIVE_CONNS]),
                                        "inactive_connections": _u32(attrs[DEST_INACT_CONNS])}
    return svc


def read_services(wanted: list[dict]) -> dict:
    """Only the services named by `wanted` (each a service's identity), as read_table_and_connections gives them:
    {service key: service} of those the kernel holds."""
    with Netlink() as link:
        found = [link.service(svc) for svc in wanted]
        return {service_key(svc): _with_realservers(link, svc) for svc in found if svc is not None}


def change_realservers(changes: list[tuple[str, dict, dict]]) -> None:
    """Make real-server changes, each (ipvsadm's command -a, -e or -d; the service's identity; the real server),
    in order, each acknowledged by the kernel; ChangeRefused names the first it refuses (those before it are
    made, as in an `ipvsadm -R` batch)."""
    with Netlink() as link:
        for index, (command, svc, rs) in enumerate(changes):
            try:
                link.request(link.family, DEST_COMMANDS[command], IPVS_GENL_VERSION,
                             realserver_request(command, svc, rs), dump=False, ack=True)
            except OSError as exc:
                raise ChangeRefused(index, exc) from None


def read_table_and_connections() -> tuple[dict, dict]:
    """The whole live table as parse_save gives it, thresholds included, and {(service key, rs key): {
    active_connections, inactive_connections}}; NetlinkUnavailable where the kernel cannot be asked this way."""
    table, connections = {}, {}
    with Netlink() as link:
        for svc in link.services():
            table[service_key(svc)] = _with_realservers(link, svc, connections)
    return table, connections
