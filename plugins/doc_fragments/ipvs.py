# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option documentation shared by the IPVS modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the affected services in C(ipvsadm -S) form, before and after.
  platform:
    platforms: linux
requirements:
  - C(ipvsadm) on the managed host.
  - A kernel with IPVS (C(CONFIG_IP_VS)); the module loads C(ip_vs) when it is not loaded yet.
notes:
  - The current table is read with C(ipvsadm -Sn) (and C(ipvsadm -Ln --thresholds) for connection thresholds),
    every attribute is compared, and only what differs is changed.
  - Several changes are applied as one C(ipvsadm -R) batch; the table is read again afterwards and the
    module fails if it does not match what was declared.
  - Addresses must be IP literals; IPv6 addresses are written plainly (V(2001:db8::1)), without brackets.
"""

    SERVICE = r"""
options:
  protocol:
    description:
      - Protocol of an address service. Defaults to V(tcp) when O(address) is given.
      - Not used with O(fwmark).
    type: str
    choices: [tcp, udp, sctp]
  address:
    description:
      - Virtual IP address of the service (IPv4 or IPv6). Use with O(port), or use O(fwmark) instead.
    type: str
  port:
    description:
      - Virtual port. V(0) means all ports and requires O(persistence_timeout).
    type: int
  fwmark:
    description:
      - Firewall mark that selects the service's packets (set by iptables/nftables mangle rules).
      - Mutually exclusive with O(address), O(port) and O(protocol).
    type: int
  family:
    description:
      - Address family of a firewall-mark service. For address services it follows from O(address).
      - Defaults to V(ipv4) for firewall-mark services.
    type: str
    choices: [ipv4, ipv6]
  scheduler:
    description:
      - Scheduling algorithm (C(ipvsadm -s)).
    type: str
    default: wlc
    choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh]
  persistence_timeout:
    description:
      - Persistence timeout in seconds (C(ipvsadm -p)). Omit for a service that is not persistent.
    type: int
  persistence_netmask:
    description:
      - Persistence granularity (C(ipvsadm -M)); clients in one network share a real server.
      - A prefix length (V(24)) or, for IPv4, a netmask (V(255.255.255.0)). Only with O(persistence_timeout).
      - Defaults to a single client address (V(32) or V(128)).
    type: str
  scheduler_flags:
    description:
      - Scheduler flags (C(ipvsadm -b)). V(sh-fallback) and V(sh-port) need O(scheduler=sh);
        V(mh-fallback) and V(mh-port) need O(scheduler=mh).
    type: list
    elements: str
    default: []
    choices: [sh-fallback, sh-port, mh-fallback, mh-port]
  one_packet:
    description:
      - One-packet scheduling (C(ipvsadm -o)), for UDP services only.
    type: bool
    default: false
  persistence_engine:
    description:
      - Persistence engine (C(ipvsadm --pe)); V(sip) keys persistence on the SIP Call-ID.
    type: str
    choices: [sip]
"""

    REALSERVER = r"""
options:
  address:
    description:
      - Address of the real server (IPv4 or IPv6, of the service's family).
    type: str
    required: true
  port:
    description:
      - Port of the real server. Defaults to the service's port.
      - Only O(forwarding=masquerade) (NAT) can map to a different port.
    type: int
  forwarding:
    description:
      - Packet forwarding method. V(route) is direct routing (LVS-DR, C(-g)), V(masquerade) is NAT
        (LVS-NAT, C(-m)), V(tunnel) is IP tunnelling (LVS-TUN, C(-i)).
    type: str
    default: route
    choices: [route, masquerade, tunnel]
  weight:
    description:
      - Weight from V(0) to V(65535). V(0) takes the server out of scheduling (drained) without
        breaking existing connections.
    type: int
    default: 1
  upper_threshold:
    description:
      - Upper connection threshold (C(ipvsadm -x)); V(0) means no limit.
    type: int
    default: 0
  lower_threshold:
    description:
      - Lower connection threshold (C(ipvsadm -y)); V(0) means unset.
    type: int
    default: 0
  tunnel_type:
    description:
      - Encapsulation of O(forwarding=tunnel). Defaults to V(ipip).
    type: str
    choices: [ipip, gue, gre]
  tunnel_port:
    description:
      - Destination UDP port of O(tunnel_type=gue) encapsulation. Required with V(gue).
    type: int
  tunnel_checksum:
    description:
      - Checksum mode of V(gue) and V(gre) tunnels. Defaults to V(nocsum).
    type: str
    choices: [nocsum, csum, remcsum]
"""
