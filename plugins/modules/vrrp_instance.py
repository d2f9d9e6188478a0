#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_instance
short_description: One keepalived VRRP instance, checked by keepalived before it is live, applied with a reload
version_added: 0.2.0
description:
  - Keeps one keepalived C(vrrp_instance) as its own file C(O(config_dir)/NAME.conf), which the main configuration
    O(main_config) must include (the C(keepalived_ha) role writes such a main file).
  - Every field is checked first; an error names the field and the value and nothing is changed.
  - The whole candidate configuration (the main file, and every file under its directory and O(config_dir), with
    the new or removed instance) is staged in a private directory, includes pointing there, and checked with
    C(keepalived -t) on the managed host itself. keepalived's message comes back in the error and the live files
    are untouched. A config test that passes only because a file or an include matched nothing, or that
    keepalived 2.2.7 kills when a non-root C(script_user) is set, is refused.
  - When the file changed, keepalived is reloaded (SIGHUP through its service), never restarted, so VIPs stay
    where they are; the module then waits until keepalived runs the instance as declared. keepalived is started
    when it was not running and O(state=present).
  - The password is C(no_log), written quoted in a file only root can read, and masked in the diff and in every
    return value. The live state is read from keepalived's JSON dump, which holds the password in clear text; the
    module keeps only the state fields and removes the dump file it asked for.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.vrrp
  - linux_cluster.lvs.vrrp.instance
seealso:
  - name: keepalived.conf(5)
    description: keepalived's configuration reference.
    link: https://keepalived.readthedocs.io/en/latest/configuration_synopsis.html
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: The VIP of the director pair, master on the node with the highest priority
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    priority: "{{ 150 if inventory_hostname == 'dir1' else 100 }}"
    auth_pass: "{{ vault_vrrp_pass }}"
    virtual_ipaddresses:
      - address: 192.0.2.50/24
        label: eth0:vip
    track_scripts:
      - {name: chk_nginx, weight: -30}
    notify: /etc/keepalived/notify.sh

- name: Unicast adverts where multicast is filtered
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    unicast_src_ip: 192.0.2.11
    unicast_peers: [192.0.2.12]
    virtual_ipaddresses:
      - address: 192.0.2.50/24

- name: A backup's change, then wait until it is backup again before the master is changed
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    priority: 90
    virtual_ipaddresses:
      - address: 192.0.2.50/24
    wait_for: BACKUP
"""

RETURN = r"""
path:
  description: The instance's file.
  returned: always
  type: str
  sample: /etc/keepalived/conf.d/VI_web.conf
instance:
  description: The instance as declared, normalised, the password masked (null with O(state=absent)).
  returned: always
  type: dict
live:
  description:
    - The instance as keepalived runs it, from its JSON dump; null when keepalived is not running or does not run
      the instance. Nothing secret.
  returned: always
  type: dict
  contains:
    state:
      description: INIT, BACKUP, MASTER or FAULT.
      type: str
      sample: MASTER
    base_priority:
      description: Configured priority.
      type: int
    effective_priority:
      description: Priority after tracked scripts, interfaces and files.
      type: int
    vips:
      description: The configured VIPs as keepalived lists them.
      type: list
      elements: str
    virtual_router_id:
      description: The VRID.
      type: int
    interface:
      description: The advert interface.
      type: str
    master_priority:
      description: Priority of the master last heard (0 when this node is master).
      type: int
    last_transition:
      description: Time of the last state change (seconds since the epoch).
      type: float
actions:
  description: What was done, in order (V(tested), V(written), V(removed), V(reloaded), V(started)).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import VRRP_INPUT, included, public, render
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_runner import (
    InstanceFile,
    Keepalived,
    KeepalivedError,
)


def main_config_problem(files: InstanceFile, check_mode: bool) -> str | None:
    """Why keepalived would never load the instance from its file, or None."""
    main_text = files.main_text()
    if main_text is None:
        return None if check_mode else (f"main_config={files.main_config!r}: does not exist, so keepalived would "
                                        "never load the instance (the keepalived_ha role writes it)")
    if not included(files.path, main_text, os.path.dirname(files.main_config)):
        return (f"config_dir={files.config_dir!r}: {files.main_config} has no include matching {files.path}, so "
                "keepalived would silently ignore the instance")
    return None


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **VRRP_INPUT.module_options())
    params = module.params
    inst = VRRP_INPUT.checked(module)
    files = InstanceFile(params["name"], params["config_dir"], params["main_config"], render(inst) if inst else None)
    problem = main_config_problem(files, module.check_mode) if inst else None
    if problem:
        module.fail_json(msg=f"{problem}; nothing was changed")
    if inst and module.check_mode and files.main_text() is None:
        module.warn(f"main_config {files.main_config} does not exist yet: in a real run it must exist and include "
                    f"{files.path}")
    keepalived = Keepalived(module, params["service"])
    running = keepalived.active()
    result = {"changed": files.differs or (inst is not None and not running), "path": files.path,
              "instance": public(inst) if inst else None, "actions": [], "live": None}
    if module._diff:
        result["diff"] = files.diff()
    try:
        if result["changed"] and not module.check_mode:
            keepalived.apply(files, inst, params["apply_timeout"], result["actions"])
        if running or result["actions"]:
            result["live"] = keepalived.live(files.name)
        if params["wait_for"] and inst and not module.check_mode:
            result["live"] = keepalived.wait(files.name, lambda now: bool(now) and now["state"] == params["wait_for"],
                                             params["wait_timeout"])
            if not result["live"] or result["live"]["state"] != params["wait_for"]:
                raise KeepalivedError(f"wait_for={params['wait_for']!r}: instance {files.name} is "
                                      f"{result['live']['state'] if result['live'] else 'not running'} after "
                                      f"{params['wait_timeout']} s")
    except KeepalivedError as exc:
        result["changed"] = bool(result["actions"]) and result["actions"] != ["tested"]
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
