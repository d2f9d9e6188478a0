#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_info
short_description: Read the live IPVS table as structured data
version_added: 0.1.0
description:
  - Returns every IPVS virtual service with its real servers, their weights, thresholds and connection counts.
  - Optionally adds traffic counters, rates, the connection timeouts and the connection-sync daemons.
  - Never changes anything and never loads the C(ip_vs) kernel module; without it the table is reported empty.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
  - linux_cluster.lvs.read_only.linux
requirements:
  - C(ipvsadm) on the managed host.
options:
  stats:
    description: Add cumulative counters (C(ipvsadm -Ln --stats --exact)) to each service and real server.
    type: bool
    default: false
  rate:
    description: Add rates (C(ipvsadm -Ln --rate --exact)) to each service and real server.
    type: bool
    default: false
  timeouts:
    description: Return the IPVS connection timeouts.
    type: bool
    default: false
  daemon:
    description: Return the connection-synchronisation daemons.
    type: bool
    default: false
seealso:
  - module: linux_cluster.lvs.ipvs_rules
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: Read the table with counters
  linux_cluster.lvs.ipvs_info:
    stats: true
  register: ipvs

- name: Show how many connections each real server of the first service has had
  ansible.builtin.debug:
    msg: "{{ ipvs.services[0].realservers | map(attribute='stats.conns') }}"
"""

RETURN = r"""
available:
  description: Whether IPVS is loaded in the host's kernel.
  returned: always
  type: bool
services:
  description:
    - The virtual services, each with the keys returned by M(linux_cluster.lvs.ipvs_service) plus
      C(stats) and C(rate) when asked.
    - Each real server also has C(active_connections) and C(inactive_connections), and C(stats) / C(rate)
      when asked.
  returned: always
  type: list
  elements: dict
  sample:
    - name: tcp 192.0.2.100:80
      protocol: tcp
      address: 192.0.2.100
      port: 80
      scheduler: wrr
      realservers:
        - address: 192.0.2.21
          port: 80
          forwarding: route
          weight: 1
          active_connections: 0
          inactive_connections: 3
timeouts:
  description: Connection timeouts in seconds.
  returned: when O(timeouts=true) and IPVS is available
  type: dict
  sample: {"tcp": 900, "tcpfin": 120, "udp": 300}
daemons:
  description: Connection-sync daemons, each with C(state) (master or backup) and its settings.
  returned: when O(daemon=true) and IPVS is available
  type: list
  elements: dict
  sample: [{"state": "master", "mcast": "eth0", "syncid": 7}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import ordered, rs_key
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_runner import (
    IPVSAdm,
    IPVSCommandError,
    services_result,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (
    IPVSParseError,
    parse_daemons,
    parse_list,
)

STATS_COLUMNS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
RATE_COLUMNS = ("cps", "inpps", "outpps", "inbps", "outbps")


def add_counters(pairs: list[tuple[dict, tuple]], text: str, columns: tuple, name: str) -> None:
    """Attach service and real-server counters parsed from one `-Ln --stats/--rate` output."""
    listed = parse_list(text, columns)
    for svc, key in pairs:
        entry = listed.get(key, {"counters": {}, "realservers": {}})
        svc[name] = entry["counters"]
        for rs in svc["realservers"]:
            rs[name] = entry["realservers"].get(rs_key(rs), {})


def main() -> None:
    module = AnsibleModule(
        argument_spec={name: {"type": "bool", "default": False} for name in ("stats", "rate", "timeouts", "daemon")},
        supports_check_mode=True,
    )
    ipvs = IPVSAdm(module)
    result: dict = {"changed": False, "available": False, "services": []}
    try:
        if not ipvs.kernel_ready(load=False):
            module.exit_json(**result)
        result["available"] = True
        table, connections = ipvs.read_table_and_connections()
        pairs = list(zip(services_result(table), ordered(table)))
        for svc, key in pairs:
            for rs in svc["realservers"]:
                rs.update(connections[(key, rs_key(rs))])
        if module.params["stats"]:
            add_counters(pairs, ipvs.run(["-Ln", "--stats", "--exact"]), STATS_COLUMNS, "stats")
        if module.params["rate"]:
            add_counters(pairs, ipvs.run(["-Ln", "--rate", "--exact"]), RATE_COLUMNS, "rate")
        if module.params["timeouts"]:
            result["timeouts"] = ipvs.read_timeouts()
        if module.params["daemon"]:
            result["daemons"] = parse_daemons(ipvs.run(["-Ln", "--daemon"]))
    except (IPVSCommandError, IPVSParseError) as exc:
        module.fail_json(msg=str(exc))
    result["services"] = [svc for svc, _key in pairs]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
