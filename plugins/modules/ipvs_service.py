#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_service
short_description: Manage one IPVS virtual service (and optionally its real servers)
version_added: 0.1.0
description:
  - Creates, edits or removes one IPVS virtual service, keyed by protocol, address and port,
    or by firewall mark and family.
  - With O(realservers), the service's real servers are converged exactly in the same call;
    missing ones are added, differing ones edited, unlisted ones removed.
    Without it, the service's real servers are left as they are.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.ipvs
  - linux_cluster.lvs.ipvs.service
options:
  realservers:
    description:
      - The complete list of the service's real servers. Omit to leave them unmanaged.
      - An empty list removes every real server.
    type: list
    elements: dict
  state:
    description:
      - V(present) creates or edits the service; V(absent) removes it with its real servers.
    type: str
    default: present
    choices: [present, absent]
seealso:
  - module: linux_cluster.lvs.ipvs_realserver
  - module: linux_cluster.lvs.ipvs_rules
  - module: linux_cluster.lvs.ipvs_info
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: HTTP on the VIP, weighted least-connection, two DR real servers
  linux_cluster.lvs.ipvs_service:
    address: 192.0.2.100
    port: 80
    scheduler: wlc
    realservers:
      - address: 192.0.2.21
        weight: 1
      - address: 192.0.2.22
        weight: 2

- name: HTTP and HTTPS under one firewall mark, persistent for 10 minutes per /24
  linux_cluster.lvs.ipvs_service:
    fwmark: 10
    scheduler: rr
    persistence_timeout: 600
    persistence_netmask: 24

- name: NAT with port mapping, IPv6
  linux_cluster.lvs.ipvs_service:
    address: "2001:db8::100"
    port: 443
    realservers:
      - address: "2001:db8:1::21"
        port: 8443
        forwarding: masquerade

- name: Remove a service
  linux_cluster.lvs.ipvs_service:
    address: 192.0.2.100
    port: 80
    state: absent
"""

RETURN = r"""
service:
  description: The service after the change (as it would be in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Short name, for example C(tcp 192.0.2.100:80) or C(fwmark 10).
      type: str
      sample: tcp 192.0.2.100:80
    protocol:
      description: V(tcp), V(udp), V(sctp), or null for a firewall-mark service.
      type: str
    address:
      description: Virtual address, or null for a firewall-mark service.
      type: str
    port:
      description: Virtual port, or null for a firewall-mark service.
      type: int
    fwmark:
      description: Firewall mark, or null for an address service.
      type: int
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    scheduler:
      description: Scheduler name.
      type: str
    persistence_timeout:
      description: Persistence timeout in seconds, null when not persistent.
      type: int
    persistence_netmask:
      description: Persistence granularity as a prefix length.
      type: int
    scheduler_flags:
      description: Scheduler flags.
      type: list
      elements: str
    one_packet:
      description: Whether one-packet scheduling is on.
      type: bool
    persistence_engine:
      description: Persistence engine, or null.
      type: str
    realservers:
      description: Real servers with C(address), C(port), C(forwarding), C(weight), C(upper_threshold),
        C(lower_threshold), C(tunnel_type), C(tunnel_port) and C(tunnel_checksum).
      type: list
      elements: dict
commands:
  description:
    - The ipvsadm commands run, or their equivalent sent over netlink (or that would run in check mode), in
      order.
  returned: always
  type: list
  elements: str
  sample: ["ipvsadm -A -t 192.0.2.100:80 -s wlc", "ipvsadm -a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 1"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    SERVICE_INPUT,
    public_service,
    service_key,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import with_service
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_runner import Change, IPVSAdm, IPVSCommandError
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import IPVSParseError


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **SERVICE_INPUT.module_options())
    present = module.params["state"] == "present"
    wanted = SERVICE_INPUT.checked(module)
    key = service_key(wanted)
    ipvs = IPVSAdm(module)
    try:
        current = ipvs.read_table() if ipvs.kernel_ready(load=present and not module.check_mode) else {}
        if present and module.params["realservers"] is None and key in current:
            wanted["realservers"] = current[key]["realservers"]
        change = Change(module, ipvs, current, shown_keys={key})
        change.to(with_service(current, wanted if present else None, key))
    except (IPVSCommandError, IPVSParseError) as exc:
        module.fail_json(msg=str(exc))
    result = change.result()
    result["service"] = public_service(wanted) if present else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
