#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sysctl_arp
short_description: ARP and reverse-path sysctls for LVS real servers, live and persistent
version_added: 0.1.0
description:
  - Sets C(arp_ignore), C(arp_announce) and optionally C(rp_filter) under C(net.ipv4.conf) for the named
    interfaces (V(all), V(default), V(lo) or real interface names), in the running kernel and in a file under
    C(/etc/sysctl.d) so that they survive a reboot.
  - LVS-DR and LVS-TUN real servers carry the virtual IP on C(lo) or C(tunl0) and must neither answer nor
    announce ARP for it; the usual settings are O(arp_ignore=1) and O(arp_announce=2) on V(all) (and on the
    interface that holds the VIP). Set them before the VIP is added.
  - M(linux_cluster.lvs.sysctl_file) does the same for any settings.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.sysctl
options:
  interfaces:
    description:
      - Interfaces whose settings are managed. V(all) and V(default) are the kernel's special entries; other
        names must exist when O(state=present).
    type: list
    elements: str
    default: [all]
  arp_ignore:
    description:
      - V(1) answers ARP only for addresses configured on the receiving interface.
    type: int
    choices: [0, 1, 2, 3, 4, 5, 6, 7, 8]
  arp_announce:
    description:
      - V(2) always uses the best local address of the outgoing interface as ARP source.
    type: int
    choices: [0, 1, 2]
  rp_filter:
    description:
      - Reverse-path filtering; V(0) off, V(1) strict, V(2) loose. LVS-TUN real servers usually need V(0)
        on V(all) and C(tunl0).
    type: int
    choices: [0, 1, 2]
  path:
    description: The persistent file, an absolute path; its directory must exist.
    type: path
    default: /etc/sysctl.d/90-linux-cluster-lvs-arp.conf
  state:
    description:
      - V(present) sets the values live and in O(path).
      - V(absent) removes O(path) and sets every value it held back to the value it gets at boot (V(0) for these
        settings unless the sysctl configuration says otherwise).
    type: str
    default: present
    choices: [present, absent]
seealso:
  - module: ansible.posix.sysctl
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: LVS-DR real server, before its VIP goes on lo
  linux_cluster.lvs.sysctl_arp:
    interfaces: [all, lo]
    arp_ignore: 1
    arp_announce: 2

- name: LVS-TUN real server
  linux_cluster.lvs.sysctl_arp:
    interfaces: [all, tunl0]
    arp_ignore: 1
    arp_announce: 2
    rp_filter: 0
    path: /etc/sysctl.d/90-lvs-tun.conf

- name: Undo
  linux_cluster.lvs.sysctl_arp:
    state: absent
"""

RETURN = r"""
settings:
  description: The live value of each managed setting afterwards, keyed C(INTERFACE.KEY).
  returned: always
  type: dict
  sample: {"all.arp_ignore": 1, "all.arp_announce": 2, "lo.arp_ignore": 1, "lo.arp_announce": 2}
released:
  description: Settings the file no longer holds, with the value each goes back to (its value at boot).
  returned: always
  type: dict
fixed:
  description: Settings whose live value differs but cannot be written here (read-only C(/proc/sys)).
  returned: always
  type: list
  elements: str
changed_settings:
  description: The live settings that changed (or would change in check mode), as C(net.ipv4.conf...) names.
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.conf.all.arp_ignore"]
path:
  description: The persistent file.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl import ARP_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl_runner import SysctlError, converge, read


def interface_key(name: str) -> str:
    """net.ipv4.conf.eth0/100.arp_ignore -> eth0.100.arp_ignore, as the result names a setting."""
    _net, _ipv4, _conf, interface, key = name.split(".")
    return f"{interface.replace('/', '.')}.{key}"


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **ARP_INPUT.module_options())
    path, wanted = ARP_INPUT.checked(module)
    try:
        state = read(path, wanted, "sysctl_arp")
    except SysctlError as exc:
        if exc.missing:
            interface = interface_key(exc.missing).rsplit(".", 1)[0]
            module.fail_json(msg=f"interfaces={interface!r}: no such interface (no /proc/sys/net/ipv4/conf/"
                                 f"{interface}); nothing was changed")
        module.fail_json(msg=f"{exc}; nothing was changed")
    result = converge(module, state)
    result["settings"] = {interface_key(name): int(value) for name, value in result["settings"].items()}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
