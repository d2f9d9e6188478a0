# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who answers ARP for an address: an ARP probe (sender address 0.0.0.0, as duplicate address detection sends)
broadcast on one interface, and every reply for that address collected for a while. A probe updates no
neighbour's ARP cache, so asking changes nothing on the network. The frame building and parsing are pure; `ask`
opens the raw socket (root, Linux)."""

from __future__ import annotations

import ipaddress
import socket
import struct
import time

ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6


def mac_bytes(mac: str) -> bytes:
    return bytes(int(part, 16) for part in mac.split(":"))


def mac_text(raw: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in raw)


def probe_frame(own_mac: str, address: str) -> bytes:
    """The Ethernet frame of an ARP probe from `own_mac` for `address`."""
    sender = mac_bytes(own_mac)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, sender, b"\0" * 4, b"\0" * 6,
                      ipaddress.IPv4Address(address).packed)
    return BROADCAST + sender + struct.pack("!H", ETH_P_ARP) + arp


def reply_mac(frame: bytes, address: str) -> str | None:
    """The sender's MAC of an ARP reply for `address` in `frame`, or None when the frame is something else."""
    if len(frame) < 42 or struct.unpack("!H", frame[12:14])[0] != ETH_P_ARP:
        return None
    _htype, ptype, hlen, plen, op, sha, spa = struct.unpack("!HHBBH6s4s", frame[14:32])
    if (ptype, hlen, plen, op) != (0x0800, 6, 4, 2) or spa != ipaddress.IPv4Address(address).packed:
        return None
    return mac_text(sha)


def own_mac(interface: str) -> str:
    with open(f"/sys/class/net/{interface}/address") as handle:
        return handle.read().strip()


def ask(interface: str, addresses: list[str], timeout: float) -> dict[str, list[str]]:
    """The MACs that answer a probe for each of `addresses` on `interface` within `timeout` seconds (all asked at
    once), in the order they answered, each once: {address: [mac...]}."""
    seen: dict[str, list[str]] = {address: [] for address in addresses}
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((interface, ETH_P_ARP))
        mac = own_mac(interface)
        for address in addresses:
            sock.send(probe_frame(mac, address))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                frame = sock.recv(2048)
            except socket.timeout:
                break
            for address, macs in seen.items():
                answer = reply_mac(frame, address)
                if answer and answer not in macs:
                    macs.append(answer)
    return seen


def interfaces(ip_addr_json: list[dict]) -> dict[str, dict]:
    """`ip -j addr show`, parsed: {ifname: {mac, up, addresses: [address/prefix...]}}."""
    return {link["ifname"]: {"mac": link.get("address", ""), "up": "UP" in link.get("flags", []),
                             "addresses": [f"{entry['local']}/{entry['prefixlen']}"
                                           for entry in link.get("addr_info", []) if "local" in entry]}
            for link in ip_addr_json}


def holders(links: dict[str, dict], address: str) -> list[str]:
    """The interfaces that hold `address`."""
    return [name for name, link in links.items()
            if any(held.split("/")[0] == address for held in link["addresses"])]


def asking_interface(links: dict[str, dict], address: str) -> str | None:
    """The interface (up, not loopback) on whose IPv4 network `address` lies, for asking who answers ARP for it;
    None when the node has none, or holds the address itself."""
    if holders(links, address):
        return None
    target = ipaddress.ip_address(address)
    for name, link in links.items():
        if name == "lo" or not link["up"]:
            continue
        for held in link["addresses"]:
            network = ipaddress.ip_interface(held).network
            if network.version == target.version == 4 and target in network and network.prefixlen < 32:
                return name
    return None
