#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: heartbeat_info
short_description: What a node's heartbeat says of itself and of its peers
version_added: 0.2.0
description:
  - Asks the running heartbeat (C(cl_status)) whether it runs, which of the cluster's resources it says this node
    holds, and how it sees every node of the cluster; reads the resource groups of C(haresources) and says, for
    each, whether heartbeat holds it here. C(cl_status rscstatus) alone does not say that - it answers V(local)
    on a node holding its own groups and on a node that has none.
  - A node where heartbeat is not installed or does not run returns RV(running=false).
  - The collection's audit (C(playbooks/audit.yml)) compares what every node of a pair says with what each holds.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
  - linux_cluster.lvs.read_only.linux
options:
  haresources:
    description: heartbeat's resource file.
    type: path
    default: /etc/ha.d/haresources
requirements:
  - heartbeat's C(cl_status) on the managed host.
seealso:
  - module: linux_cluster.lvs.vip_info
  - module: linux_cluster.lvs.vrrp_info
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: What heartbeat says here
  linux_cluster.lvs.heartbeat_info:
  register: beat

- name: This node holds the resources and sees its peer
  ansible.builtin.assert:
    that:
      - beat.resources in ['all', 'local']
      - beat.nodes.dir2 == 'active'
"""

RETURN = r"""
running:
  description: Whether heartbeat runs on the node (C(cl_status hbstatus)).
  returned: always
  type: bool
resources:
  description: Which resources heartbeat says this node holds (C(cl_status rscstatus)) - V(all), V(local) (those
    whose preferred node it is), V(foreign) (its peer's), V(none) or V(transition); null when heartbeat does not run.
  returned: always
  type: str
  sample: all
groups:
  description: Each resource group of O(haresources) - its preferred node, its resources, and whether heartbeat holds
    it on this node (its own group while it says V(local) or V(all), its peer's while it says V(foreign) or V(all)).
  returned: always
  type: list
  elements: dict
  sample: [{"node": "dir1", "resources": ["IPaddr2::192.0.2.85/24", "nginx"], "held": true}]
holds:
  description: Whether heartbeat holds any resource group on this node.
  returned: always
  type: bool
nodes:
  description: Each node of the cluster (ping nodes left out) and its status as this node's heartbeat sees it
    (V(active), V(dead), V(up)...).
  returned: always
  type: dict
  sample: {"dir1": "active", "dir2": "active"}
"""

import os

from ansible.module_utils.basic import AnsibleModule

# What `cl_status rscstatus` says on a node holding its own resource groups, and its peer's.
HOLDING = {True: ("local", "all"), False: ("foreign", "all")}


def resource_groups(text: str) -> list[dict]:
    """haresources' lines (comments dropped, a backslash continuing a line) -> [{node, resources}]."""
    groups, line = [], ""
    for raw in text.splitlines():
        raw = raw.split("#", 1)[0].rstrip()
        if raw.endswith("\\"):
            line += raw[:-1] + " "
            continue
        fields = (line + raw).split()
        line = ""
        if fields:
            groups.append({"node": fields[0], "resources": fields[1:]})
    return groups


def main() -> None:
    module = AnsibleModule(argument_spec={"haresources": {"type": "path", "default": "/etc/ha.d/haresources"}},
                           supports_check_mode=True)
    binary = module.get_bin_path("cl_status")
    result: dict = {"changed": False, "running": False, "resources": None, "nodes": {}, "groups": [], "holds": False}
    try:
        with open(module.params["haresources"], encoding="utf-8") as handle:
            groups = resource_groups(handle.read())
    except FileNotFoundError:
        groups = []

    def ask(*args: str) -> tuple[int, str]:
        rc, out, _err = module.run_command([binary, *args], environ_update={"LC_ALL": "C"})
        return rc, out.strip()

    if binary and ask("hbstatus")[0] == 0:
        result["running"] = True
        rc, out = ask("rscstatus")
        result["resources"] = out if rc == 0 else None
        # -n: the cluster's nodes, not its ping nodes.
        _rc, listed = ask("listnodes", "-n")
        for name in listed.split():
            rc, out = ask("nodestatus", name)
            result["nodes"][name] = out if out else f"unknown (exit status {rc})"
    own = os.uname().nodename
    result["groups"] = [{**group, "held": result["resources"] in HOLDING[group["node"] == own]} for group in groups]
    result["holds"] = any(group["held"] for group in result["groups"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
