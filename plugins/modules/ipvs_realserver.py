#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_realserver
short_description: Manage one real server of an IPVS virtual service
version_added: 0.1.0
description:
  - Adds, edits, drains or removes one real server of an existing IPVS virtual service.
  - The service is named by O(protocol), O(service_address) and O(service_port), or by O(fwmark) and O(family).
    It must exist; manage it with M(linux_cluster.lvs.ipvs_service) or M(linux_cluster.lvs.ipvs_rules).
  - Draining sets the weight to V(0) so that no new connections are scheduled to the server, and can wait
    for its active connections to end before the module returns or removes it. In check mode it does not wait.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.ipvs
  - linux_cluster.lvs.ipvs.realserver
options:
  state:
    description:
      - V(present) adds or edits the real server.
      - V(drained) makes it present with weight V(0), whatever O(weight) says; with O(drain_timeout) the
        module then waits for its active connections to reach zero and fails if they do not.
      - V(absent) removes it; with O(drain_before_remove) it is drained first.
    type: str
    default: present
    choices: [present, absent, drained]
  drain_timeout:
    description:
      - Seconds to wait for active connections to reach zero when draining. V(0) does not wait.
    type: int
    default: 0
  drain_before_remove:
    description:
      - With O(state=absent), drain the server and wait up to O(drain_timeout) seconds before removing it.
        If connections remain, the module fails and leaves the server drained, not removed.
    type: bool
    default: false
seealso:
  - module: linux_cluster.lvs.ipvs_service
  - module: linux_cluster.lvs.ipvs_rules
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: Add a direct-routing real server with weight 2
  linux_cluster.lvs.ipvs_realserver:
    service_address: 192.0.2.100
    service_port: 80
    address: 192.0.2.21
    weight: 2

- name: Take a server out of rotation and wait up to 5 minutes for its connections to end
  linux_cluster.lvs.ipvs_realserver:
    service_address: 192.0.2.100
    service_port: 80
    address: 192.0.2.21
    state: drained
    drain_timeout: 300

- name: NAT real server behind a firewall-mark service, mapped to port 8080
  linux_cluster.lvs.ipvs_realserver:
    fwmark: 10
    address: 198.51.100.21
    port: 8080
    forwarding: masquerade

- name: Remove a server after draining it
  linux_cluster.lvs.ipvs_realserver:
    service_address: 192.0.2.100
    service_port: 80
    address: 192.0.2.21
    state: absent
    drain_before_remove: true
    drain_timeout: 120
"""

RETURN = r"""
service:
  description: Name of the service, for example C(tcp 192.0.2.100:80).
  returned: always
  type: str
  sample: tcp 192.0.2.100:80
realserver:
  description: The real server after the change; null when absent.
  returned: always
  type: dict
  contains:
    address:
      description: Real server address.
      type: str
    port:
      description: Real server port.
      type: int
    forwarding:
      description: V(route), V(masquerade) or V(tunnel).
      type: str
    weight:
      description: Weight.
      type: int
    upper_threshold:
      description: Upper connection threshold.
      type: int
    lower_threshold:
      description: Lower connection threshold.
      type: int
    tunnel_type:
      description: Tunnel encapsulation, null unless tunnelling.
      type: str
    tunnel_port:
      description: GUE port, or null.
      type: int
    tunnel_checksum:
      description: Tunnel checksum mode, or null.
      type: str
active_connections:
  description: Active connections left when the module finished draining (0 when drained completely).
  returned: when the module waited for a drain
  type: int
commands:
  description:
    - The ipvsadm commands run, or their equivalent sent over netlink (or that would run in check mode), in
      order.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    REALSERVER_INPUT,
    rs_name,
    service_key,
    service_name,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import with_realserver
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_runner import (
    Change,
    IPVSAdm,
    IPVSCommandError,
    wait_drained,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import IPVSParseError


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **REALSERVER_INPUT.module_options())
    params = module.params
    svc, rkey, rs = REALSERVER_INPUT.checked(module)
    key = service_key(svc)
    result: dict = {"service": service_name(key), "realserver": rs, "commands": [], "changed": False}
    ipvs = IPVSAdm(module)
    try:
        current = ipvs.read_table() if ipvs.kernel_ready(load=not module.check_mode) else {}
        if key not in current:
            if params["state"] == "absent":
                module.exit_json(**result)
            module.fail_json(msg=f"service {service_name(key)} does not exist; create it first "
                                 "(linux_cluster.lvs.ipvs_service or ipvs_rules)", **result)
        live = current[key]
        drain_first = params["state"] == "absent" and params["drain_before_remove"] and rkey in live["realservers"]
        change = Change(module, ipvs, current, shown_keys={key})
        if drain_first:
            change.to(with_realserver(current, key, dict(live["realservers"][rkey], weight=0), rkey))
        else:
            change.to(with_realserver(current, key, rs, rkey))
        result.update(change.result())
        if params["drain_timeout"] > 0 and (params["state"] == "drained" or drain_first) and not module.check_mode:
            left = wait_drained(ipvs, live, rkey, params["drain_timeout"])
            result["active_connections"] = left
            if left:
                module.fail_json(msg=f"real server {rs_name(rkey)} of {service_name(key)} still has {left} active "
                                     f"connection(s) after {params['drain_timeout']} s; it is left drained "
                                     "(weight 0)" + (", not removed" if drain_first else ""), **result)
        if drain_first:
            change.to(with_realserver(change.table, key, None, rkey))
            result.update(change.result())
    except (IPVSCommandError, IPVSParseError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
