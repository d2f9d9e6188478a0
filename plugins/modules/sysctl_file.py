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
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl_runner import SysctlError, converge, read


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **FILE_INPUT.module_options())
    path, wanted = FILE_INPUT.checked(module)
    try:
        state = read(path, wanted, "sysctl_file")
    except SysctlError as exc:
        module.fail_json(msg=f"{exc}; nothing was changed")
    module.exit_json(**converge(module, state))


if __name__ == "__main__":
    main()
