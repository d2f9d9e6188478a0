#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sysctl_file
short_description: Kernel settings held by one file in /etc/sysctl.d, live and at boot
version_added: 0.2.0
description:
  - Keeps the file O(path) holding exactly O(settings) (which survive a reboot from there), and sets each one live
    where its value differs.
  - The linux_cluster.lvs roles set their sysctls with this module.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.sysctl
options:
  path:
    description: The file, an absolute path in an existing directory (usually C(/etc/sysctl.d/NN-NAME.conf)).
    type: path
    required: true
  settings:
    description:
      - "The settings, C({name: value}), names as C(sysctl) writes them (V(net.ipv4.ip_forward); a dot inside an
        interface name written as C(/)). Required with O(state=present)."
    type: dict
  modules:
    description:
      - Kernel modules the settings need (the C(net.ipv4.vs.*) settings exist once V(ip_vs) is loaded). Each one
        not loaded yet is loaded (C(modprobe)) before the settings are read and written, and all are listed in a
        file of the same name as O(path) in C(/etc/modules-load.d), so that at boot they are loaded before
        systemd-sysctl applies the settings. Without modules, or with O(state=absent), that file is removed
        (only one this module wrote). A module is never unloaded.
      - In check mode a module that is not loaded is not loaded; its settings cannot be read and are not compared.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  state:
    description: V(present) writes the file and the live values; V(absent) removes the file and restores the values.
    type: str
    default: present
    choices: [present, absent]
seealso:
  - module: linux_cluster.lvs.sysctl_arp
  - module: ansible.posix.sysctl
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: Services may bind a VIP the node does not hold (backups of an HA pair)
  linux_cluster.lvs.sysctl_file:
    path: /etc/sysctl.d/90-keepalived-ha.conf
    settings:
      net.ipv4.ip_nonlocal_bind: 1

- name: An LVS-NAT director forwards
  linux_cluster.lvs.sysctl_file:
    path: /etc/sysctl.d/90-lvs-director.conf
    settings:
      net.ipv4.ip_forward: 1

- name: IPVS connections sent to the backup director by time (the ip_vs module loaded now and at boot)
  linux_cluster.lvs.sysctl_file:
    path: /etc/sysctl.d/90-keepalived-ha-sync.conf
    modules: [ip_vs]
    settings:
      net.ipv4.vs.sync_threshold: 3 0
      net.ipv4.vs.sync_refresh_period: 2

- name: Undo (ip_forward back to its value at boot)
  linux_cluster.lvs.sysctl_file:
    path: /etc/sysctl.d/90-lvs-director.conf
    state: absent
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
settings:
  description: The live value of each setting of the file afterwards (in check mode, as it would be).
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": "1"}
loaded:
  description: The kernel modules loaded now (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [ip_vs]
changed_settings:
  description: The live settings that changed (or would change in check mode).
  returned: always
  type: list
  elements: str
released:
  description: Settings the file no longer holds, with the value each goes back to (its value at boot).
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": "0"}
fixed:
  description: Settings whose live value differs but cannot be written here (read-only C(/proc/sys)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl import FILE_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl_runner import (
    SysctlError,
    converge,
    load,
    read,
    unloaded,
)


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **FILE_INPUT.module_options())
    path, wanted, modules = FILE_INPUT.checked(module)
    loading = unloaded(modules)
    try:
        if loading and not module.check_mode:
            load(module, loading)
        state = read(path, wanted, "sysctl_file", tuple(modules), tuple(loading), module.check_mode)
    except SysctlError as exc:
        module.fail_json(msg=f"{exc}; " + (f"nothing else was changed (loaded: {', '.join(loading)})"
                                           if loading and not module.check_mode else "nothing was changed"))
    module.exit_json(**converge(module, state))


if __name__ == "__main__":
    main()
