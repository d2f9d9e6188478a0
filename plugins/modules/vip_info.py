#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vip_info
short_description: Which interfaces of a node hold given addresses, and who answers ARP for them from there
version_added: 0.2.0
description:
  - Returns the node's interfaces (MAC, addresses) and, for each address of O(addresses), the interfaces that hold
    it and, when the node does not hold it, the MACs that answer ARP for it on the node's interface whose network
    holds it.
  - ARP is asked with probes (sender address 0.0.0.0, as duplicate address detection sends them), all addresses of
    an interface at once, for O(arp_timeout) seconds. A probe updates no ARP cache on the network. A node with
    C(arp_ignore=1) does not answer for an address it holds only on another interface (an LVS-DR real server's VIP on
    C(lo)), as it would not answer a client.
  - The collection's audit (C(playbooks/audit.yml)) asks every node, to find VIPs held twice and VIPs answered by the
    wrong node.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
  - linux_cluster.lvs.read_only.linux
options:
  addresses:
    description: IPv4 or IPv6 addresses (ARP is asked for the IPv4 ones).
    type: list
    elements: str
    default: []
  arp:
    description: Ask who answers ARP for the addresses the node does not hold.
    type: bool
    default: true
  arp_timeout:
    description: Seconds to collect the answers, per interface.
    type: float
    default: 1.0
seealso:
  - module: linux_cluster.lvs.vrrp_info
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: Who holds the VIP, and who answers for it seen from here
  linux_cluster.lvs.vip_info:
    addresses: [192.0.2.50]
  register: vip

- name: Answered by one MAC only
  ansible.builtin.assert:
    that: vip.addresses['192.0.2.50'].answered_by | length <= 1
"""

RETURN = r"""
interfaces:
  description: The node's interfaces.
  returned: always
  type: dict
  sample: {"eth0": {"mac": "52:54:00:00:00:11", "up": true, "addresses": ["192.0.2.11/24", "192.0.2.50/32"]}}
addresses:
  description: Each address asked about.
  returned: always
  type: dict
  sample: {"192.0.2.50": {"held_on": [], "asked_on": "eth0", "answered_by": ["52:54:00:00:00:11"]}}
  contains:
    held_on:
      description: The node's interfaces that hold it (V(lo) for an LVS-DR real server's VIP).
      type: list
      elements: str
    asked_on:
      description: The interface ARP was asked on; null when the node holds the address, has no interface on its
        network, or O(arp) is false.
      type: str
    answered_by:
      description: The MACs that answered, in the order they did (two or more - the address is live on two nodes);
        null when not asked.
      type: list
      elements: str
"""

import ipaddress
import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._arp import ask, asking_interface, holders, interfaces


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "addresses": {"type": "list", "elements": "str", "default": []},
            "arp": {"type": "bool", "default": True},
            "arp_timeout": {"type": "float", "default": 1.0},
        },
        supports_check_mode=True,
    )
    params = module.params
    bad = []
    for address in params["addresses"]:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            bad.append(f"addresses: {address!r} is not an IP address")
    if not 0 < params["arp_timeout"] <= 10:
        bad.append(f"arp_timeout={params['arp_timeout']!r}: from 0 to 10 seconds")
    if bad:
        module.fail_json(msg="; ".join(bad))
    ip = module.get_bin_path("ip", required=True)
    rc, out, err = module.run_command([ip, "-j", "addr", "show"], environ_update={"LC_ALL": "C"})
    if rc != 0:
        module.fail_json(msg=f"ip -j addr show: exit status {rc}: {err.strip()}")
    links = interfaces(json.loads(out))
    result = {address: {"held_on": holders(links, address),
                        "asked_on": asking_interface(links, address) if params["arp"] else None,
                        "answered_by": None} for address in params["addresses"]}
    for interface in sorted({entry["asked_on"] for entry in result.values() if entry["asked_on"]}):
        asked = [address for address, entry in result.items() if entry["asked_on"] == interface]
        try:
            answers = ask(interface, asked, params["arp_timeout"])
        except OSError as exc:
            module.fail_json(msg=f"ARP on {interface}: {exc}")
        for address in asked:
            result[address]["answered_by"] = answers[address]
    module.exit_json(changed=False, interfaces=links, addresses=result)


if __name__ == "__main__":
    main()
