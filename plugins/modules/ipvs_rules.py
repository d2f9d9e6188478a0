#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_rules
short_description: Declare the whole IPVS table in one call
version_added: 0.1.0
description:
  - Converges a list of IPVS virtual services, each with its exact set of real servers, in one module run.
  - All changes are applied as a single C(ipvsadm -R) batch, so large tables (thousands of services and
    real servers) converge with one ipvsadm process for the change.
  - Services that are not declared are left alone unless O(purge=true).
  - Optionally manages the IPVS connection timeouts (C(ipvsadm --set)).
  - The task's C(invocation) gives O(services) as a count of services and real servers, not entry by entry; the
    table is in RV(rules).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.ipvs
  - linux_cluster.lvs.ipvs.rules
options:
  services:
    description:
      - The declared services. Each declared service's real servers are converged exactly.
    type: list
    elements: dict
    default: []
  purge:
    description:
      - Remove every service that is not declared in O(services). With O(services=[]) this empties the table.
    type: bool
    default: false
  timeouts:
    description:
      - IPVS connection timeouts in seconds (C(ipvsadm --set)). Omitted values are left as they are.
    type: dict
    suboptions:
      tcp:
        description: Timeout of established TCP connections.
        type: int
      tcpfin:
        description: Timeout of TCP connections after a FIN.
        type: int
      udp:
        description: Timeout of UDP flows.
        type: int
seealso:
  - module: linux_cluster.lvs.ipvs_service
  - module: linux_cluster.lvs.ipvs_info
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: The whole director table, nothing else
  linux_cluster.lvs.ipvs_rules:
    purge: true
    services:
      - address: 192.0.2.100
        port: 80
        scheduler: wrr
        realservers:
          - address: 192.0.2.21
            weight: 1
          - address: 192.0.2.22
            weight: 3
      - fwmark: 10
        scheduler: rr
        persistence_timeout: 600
        realservers:
          - address: 192.0.2.21
          - address: 192.0.2.22
    timeouts:
      tcp: 900
      tcpfin: 120
      udp: 300

- name: Empty the table
  linux_cluster.lvs.ipvs_rules:
    purge: true
    services: []
"""

RETURN = r"""
commands:
  description:
    - The ipvsadm commands run, or their equivalent sent over netlink (or that would run in check mode), in
      order.
  returned: always
  type: list
  elements: str
service_count:
  description: Number of services in the table afterwards.
  returned: always
  type: int
  sample: 2
realserver_count:
  description: Number of real servers in the table afterwards.
  returned: always
  type: int
  sample: 4
rules:
  description:
    - The whole table afterwards (in check mode, as it would be) in the form C(ipvsadm -R) reads, one
      service or real server per line, sorted; thresholds included, which C(ipvsadm -S) leaves out.
    - Write it to the file the distribution restores at boot to make the table survive a reboot.
  returned: always
  type: str
  sample: "-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1\n"
timeouts:
  description: The IPVS timeouts afterwards, when O(timeouts) was given.
  returned: when O(timeouts) is set
  type: dict
  sample: {"tcp": 900, "tcpfin": 120, "udp": 300}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import RULES_INPUT, TIMEOUT_NAMES
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import merge_declared
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_runner import Change, IPVSAdm, IPVSCommandError
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import IPVSParseError, save_text


def timeout_command(current: dict, wanted: dict) -> list[str] | None:
    """`--set tcp tcpfin udp` where 0 leaves a value unchanged; None when nothing differs."""
    if all(current.get(name) == value for name, value in wanted.items()):
        return None
    return ["--set", *[str(wanted.get(name, 0)) for name in TIMEOUT_NAMES]]


def timeouts_line(timeouts: dict) -> str:
    return "# timeouts " + " ".join(f"{name}={timeouts.get(name)}" for name in TIMEOUT_NAMES) + "\n"


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **RULES_INPUT.module_options())
    declared, timeouts = RULES_INPUT.checked(module)
    ipvs = IPVSAdm(module)
    needs_kernel = bool(declared or timeouts) and not module.check_mode
    try:
        loaded = ipvs.kernel_ready(load=needs_kernel)
        current = ipvs.read_table() if loaded else {}
        desired = merge_declared(current, declared, module.params["purge"])
        change = Change(module, ipvs, current)
        change.to(desired)
        result = change.result()
        if timeouts:
            before = ipvs.read_timeouts() if loaded else {}
            command = timeout_command(before, timeouts)
            after = dict(before, **timeouts)
            if command:
                result["changed"] = True
                result["commands"].append("ipvsadm " + " ".join(command))
                if not module.check_mode:
                    ipvs.run(command)
                    after = ipvs.read_timeouts()
                if "diff" in result:
                    result["diff"]["before"] += timeouts_line(before)
                    result["diff"]["after"] += timeouts_line(after)
            result["timeouts"] = after
    except (IPVSCommandError, IPVSParseError) as exc:
        module.fail_json(msg=str(exc))
    result["rules"] = save_text(desired)
    result["service_count"] = len(desired)
    result["realserver_count"] = sum(len(svc["realservers"]) for svc in desired.values())
    # The arguments are not echoed back entry by entry (a large table's would double what the task returns and
    # what Ansible scans for secrets); the result's `rules` is the table.
    given = module.params["services"] or []
    summary = (f"{len(given)} services, {sum(len(svc.get('realservers') or []) for svc in given)} real servers "
               "(the table is in the result's rules)")
    module.exit_json(**result, invocation={"module_args": {**module.params, "services": summary}})


if __name__ == "__main__":
    main()
