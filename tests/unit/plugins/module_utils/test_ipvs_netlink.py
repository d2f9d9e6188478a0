"""The IPVS table's netlink attributes decoded into the form parse_save gives, and real-server changes encoded
the way the decoder reads them back (the kernel itself answers on the lab: stage integration reads every kind of
service and real server both ways, and makes real-server changes over netlink)."""

from __future__ import annotations

import errno
import os
import socket
import struct

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_netlink as nl
from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_runner
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import parse_realserver_command, parse_save


def service_attrs(**given) -> dict:
    """A service's attributes as the kernel sends them, parsed back."""
    family = socket.AF_INET6 if ":" in given.get("address", "") or given.get("ipv6") else socket.AF_INET
    parts = [nl.attribute(nl.SVC_AF, struct.pack("H", family)),
             nl.attribute(nl.SVC_SCHED_NAME, given.get("scheduler", "wlc").encode() + b"\0"),
             nl.attribute(nl.SVC_FLAGS, struct.pack("II", given.get("flags", 0) | 0x2, 0xFFFFFFFF)),
             nl.attribute(nl.SVC_TIMEOUT, struct.pack("I", given.get("timeout", 300)))]
    if "fwmark" in given:
        parts.append(nl.attribute(nl.SVC_FWMARK, struct.pack("I", given["fwmark"])))
    else:
        parts += [nl.attribute(nl.SVC_PROTOCOL, struct.pack("H", given.get("protocol", socket.IPPROTO_TCP))),
                  nl.attribute(nl.SVC_ADDR, socket.inet_pton(family, given["address"]).ljust(16, b"\0")),
                  nl.attribute(nl.SVC_PORT, struct.pack("!H", given["port"]))]
    netmask = given.get("netmask", b"\xff\xff\xff\xff" if family == socket.AF_INET else struct.pack("I", 128))
    parts.append(nl.attribute(nl.SVC_NETMASK, netmask))
    if "pe" in given:
        parts.append(nl.attribute(nl.SVC_PE_NAME, given["pe"].encode() + b"\0"))
    return nl.attributes(b"".join(parts))


def dest_attrs(address: str, port: int, method: int, weight: int, **given) -> dict:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    parts = [nl.attribute(nl.DEST_ADDR, socket.inet_pton(family, address).ljust(16, b"\0")),
             nl.attribute(nl.DEST_PORT, struct.pack("!H", port)),
             nl.attribute(nl.DEST_FWD_METHOD, struct.pack("I", method)),
             nl.attribute(nl.DEST_WEIGHT, struct.pack("i", weight)),
             nl.attribute(nl.DEST_U_THRESH, struct.pack("I", given.get("upper", 0))),
             nl.attribute(nl.DEST_L_THRESH, struct.pack("I", given.get("lower", 0))),
             nl.attribute(nl.DEST_ADDR_FAMILY, struct.pack("H", family))]
    if "tun_type" in given:
        parts += [nl.attribute(nl.DEST_TUN_TYPE, bytes([given["tun_type"]])),
                  nl.attribute(nl.DEST_TUN_PORT, struct.pack("!H", given.get("tun_port", 0))),
                  nl.attribute(nl.DEST_TUN_FLAGS, struct.pack("H", given.get("tun_flags", 0)))]
    return nl.attributes(b"".join(parts))


def test_services_decode_as_the_save_format_reads_them():
    saved = parse_save(
        "-A -t 192.0.2.50:80 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0\n"
        "-A -f 10 -6 -s rr\n"
        "-A -u 192.0.2.53:53 -s wrr -o\n"
        "-A -t [2001:db8::50]:443 -s mh -b mh-port -p 300 -M 64 --pe sip\n")
    assert nl.decode_service(service_attrs(address="192.0.2.50", port=80, scheduler="sh", flags=0x1 | 0x8 | 0x10,
                                           timeout=600, netmask=b"\xff\xff\xff\x00")) \
        == saved[("tcp", "192.0.2.50", 80)]
    assert nl.decode_service(service_attrs(fwmark=10, ipv6=True, scheduler="rr")) == saved[("fwmark", "ipv6", 10)]
    assert nl.decode_service(service_attrs(address="192.0.2.53", port=53, protocol=socket.IPPROTO_UDP,
                                           scheduler="wrr", flags=0x4)) == saved[("udp", "192.0.2.53", 53)]
    assert nl.decode_service(service_attrs(address="2001:db8::50", port=443, scheduler="mh", flags=0x1 | 0x10,
                                           netmask=struct.pack("I", 64), pe="sip")) \
        == saved[("tcp", "2001:db8::50", 443)]


def test_realservers_decode_with_their_thresholds_and_tunnels():
    saved = parse_save(
        "-A -t 192.0.2.60:80 -s wlc\n"
        "-a -t 192.0.2.60:80 -r 198.51.100.21:80 -i -w 3\n"
        "-a -t 192.0.2.60:80 -r 198.51.100.22:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 1\n"
        "-a -t 192.0.2.60:80 -r 198.51.100.23:80 -i --tun-type gre -w 0\n"
        "-a -t 192.0.2.60:80 -r 198.51.100.24:8080 -m -w 2\n"
        "-a -t 192.0.2.60:80 -r 192.0.2.21:80 -g -w 1 -x 100 -y 50\n")
    live = saved[("tcp", "192.0.2.60", 80)]["realservers"]
    live[("192.0.2.21", 80)].update(upper_threshold=100, lower_threshold=50)
    decoded = [nl.decode_realserver(dest_attrs("198.51.100.21", 80, 2, 3, tun_type=0), "ipv4"),
               nl.decode_realserver(dest_attrs("198.51.100.22", 80, 2, 1, tun_type=1, tun_port=6080, tun_flags=1),
                                    "ipv4"),
               nl.decode_realserver(dest_attrs("198.51.100.23", 80, 2, 0, tun_type=2), "ipv4"),
               nl.decode_realserver(dest_attrs("198.51.100.24", 8080, 0, 2), "ipv4"),
               nl.decode_realserver(dest_attrs("192.0.2.21", 80, 3, 1, upper=100, lower=50), "ipv4")]
    assert {(rs["address"], rs["port"]): rs for rs in decoded} == live


def test_messages_and_the_request_that_names_a_service():
    done = struct.pack("IHHII", 20, nl.NLMSG_DONE, 2, 1, 0) + b"\0" * 4
    answer = nl.message(0x20, 2, 1, nl.IPVS_CMD_GET_SERVICE, 1, nl.attribute(1, b"abc"))
    assert [kind for kind, _body in nl.messages(answer + done)] == [0x20, nl.NLMSG_DONE]
    identity = nl.attributes(nl.service_identity({"family": "ipv4", "fwmark": None, "protocol": "udp",
                                                  "address": "192.0.2.53", "port": 53}))
    svc = nl.decode_service({**nl.attributes(identity[nl.IPVS_CMD_ATTR_SERVICE]),
                             nl.SVC_SCHED_NAME: b"rr\0", nl.SVC_FLAGS: struct.pack("II", 0, 0),
                             nl.SVC_NETMASK: b"\xff" * 4})
    assert (svc["protocol"], svc["address"], svc["port"], svc["scheduler"]) == ("udp", "192.0.2.53", 53, "rr")
    mark = nl.attributes(nl.attributes(nl.service_identity({"family": "ipv6", "fwmark": 7}))[nl.IPVS_CMD_ATTR_SERVICE])
    assert struct.unpack("I", mark[nl.SVC_FWMARK])[0] == 7 and struct.unpack("H", mark[nl.SVC_AF])[0] == \
        socket.AF_INET6


REALSERVER_LINES = (
    "-a -t 192.0.2.60:80 -r 198.51.100.21:80 -i -w 3",
    "-a -t 192.0.2.60:80 -r 198.51.100.22:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 1",
    "-a -t 192.0.2.60:80 -r 198.51.100.23:80 -i --tun-type gre --tun-remcsum -w 0",
    "-a -t 192.0.2.60:80 -r 198.51.100.24:8080 -m -w 2",
    "-a -t 192.0.2.60:80 -r 192.0.2.21:80 -g -w 1 -x 100 -y 50",
    "-a -f 7 -6 -r [2001:db8::21]:0 -g -w 5",
)


@pytest.mark.parametrize("line", REALSERVER_LINES)
def test_a_realserver_command_sent_over_netlink_is_what_the_kernel_gives_back(line):
    """ipvsadm's -a/-e line -> the request's attributes -> decoded as a read decodes the kernel's answer: the same
    real server as ipvsadm's save format gives, every setting included."""
    service_line = "-A -f 7 -6 -s rr" if " -f " in line else "-A -t 192.0.2.60:80 -s wlc"
    saved = next(iter(parse_save(f"{service_line}\n{line}\n").values()))
    expected = next(iter(saved["realservers"].values()))
    for command in ("-a", "-e"):
        sent, ident, rs = parse_realserver_command([command, *line.split()[1:]])
        assert (sent, rs) == (command, expected)
        payload = nl.attributes(nl.realserver_request(command, ident, rs))
        service = nl.attributes(payload[nl.IPVS_CMD_ATTR_SERVICE])
        assert service == nl.attributes(nl.attributes(nl.service_identity(saved))[nl.IPVS_CMD_ATTR_SERVICE])
        assert nl.decode_realserver(nl.attributes(payload[nl.IPVS_CMD_ATTR_DEST]), saved["family"]) == expected


def test_a_delete_names_the_realserver_only():
    command, ident, rs = parse_realserver_command(["-d", "-t", "192.0.2.60:80", "-r", "198.51.100.21:80"])
    assert (command, rs) == ("-d", {"address": "198.51.100.21", "port": 80})
    dest = nl.attributes(nl.attributes(nl.realserver_request(command, ident, rs))[nl.IPVS_CMD_ATTR_DEST])
    assert sorted(dest) == sorted([nl.DEST_ADDR_FAMILY, nl.DEST_ADDR, nl.DEST_PORT])
    assert nl.DEST_COMMANDS == {"-a": 5, "-e": 6, "-d": 7}  # IPVS_CMD_NEW_DEST, SET_DEST, DEL_DEST (ip_vs.h)


class Recorded:
    """ipvsadm runs and netlink changes an IPVSAdm made, neither reaching a kernel."""

    def __init__(self, monkeypatch, refuse_at=None):
        self.runs, self.changes = [], []

        def change(changes):
            if refuse_at is not None:
                raise nl.ChangeRefused(refuse_at, OSError(errno.EEXIST, os.strerror(errno.EEXIST)))
            self.changes.append(changes)

        monkeypatch.setattr(nl, "change_realservers", change)
        self.ipvs = _ipvs_runner.IPVSAdm.__new__(_ipvs_runner.IPVSAdm)
        self.ipvs.run = lambda args, data=None: self.runs.append((args, data)) or ""


def test_realserver_changes_alone_go_over_netlink_anything_else_through_ipvsadm(monkeypatch):
    recorded = Recorded(monkeypatch)
    edits = [line.replace("-a ", "-e ", 1).split() for line in REALSERVER_LINES[:2]]
    recorded.ipvs.apply([*edits, ["-d", "-t", "192.0.2.60:80", "-r", "198.51.100.24:8080"]])
    assert [[change[0] for change in batch] for batch in recorded.changes] == [["-e", "-e", "-d"]]
    assert recorded.runs == []
    recorded.ipvs.apply([["-A", "-t", "192.0.2.61:80", "-s", "rr"], REALSERVER_LINES[0].split()])
    assert len(recorded.changes) == 1 and recorded.runs[0][0] == ["-R"]
    monkeypatch.setattr(_ipvs_runner, "OVER_NETLINK", False)
    recorded.ipvs.apply([REALSERVER_LINES[0].split()])
    assert len(recorded.changes) == 1 and recorded.runs[1] == (REALSERVER_LINES[0].split(), None)


def test_a_change_the_kernel_refuses_is_named_as_ipvsadm_would_be(monkeypatch):
    recorded = Recorded(monkeypatch, refuse_at=1)
    with pytest.raises(_ipvs_runner.IPVSCommandError, match=r"'ipvsadm -a -t 192.0.2.60:80 -r 198.51.100.22:80 "
                                                            r"-i --tun-type gue .*refused by the kernel: File exists"):
        recorded.ipvs.apply([line.split() for line in REALSERVER_LINES[:3]])
