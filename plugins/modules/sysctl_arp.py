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
  - The module owns the file at O(path) completely; use one path per set of settings.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the persistent file, and the live values that change as comments.
  platform:
    platforms: linux
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
      - V(absent) removes O(path) and sets every value it held back to the kernel default V(0).
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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._files import read_text, replace_file
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl_arp import (
    SysctlInputError,
    parse_file,
    proc_path,
    render,
    runtime_changes,
    sysctl_name,
    validate,
)

PROC_SYS = "/proc/sys"


def read_live(items) -> dict:
    live = {}
    for interface, key in items:
        try:
            with open(os.path.join(PROC_SYS, proc_path(interface, key))) as handle:
                live[(interface, key)] = int(handle.read().strip())
        except FileNotFoundError:
            live[(interface, key)] = None
    return live


def write_live(changes: dict) -> None:
    for (interface, key), (_before, after) in changes.items():
        with open(os.path.join(PROC_SYS, proc_path(interface, key)), "w") as handle:
            handle.write(f"{after}\n")


def path_problem(path: str, present: bool) -> str | None:
    """Why `path` cannot be the persistent file, or None. Checked before anything changes."""
    if not os.path.isabs(path):
        return "must be an absolute path"
    if os.path.isdir(path):
        return "is a directory"
    if present and not os.path.isdir(os.path.dirname(path)):
        return f"directory {os.path.dirname(path)} does not exist"
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "interfaces": {"type": "list", "elements": "str", "default": ["all"]},
            "arp_ignore": {"type": "int", "choices": [0, 1, 2, 3, 4, 5, 6, 7, 8]},
            "arp_announce": {"type": "int", "choices": [0, 1, 2]},
            "rp_filter": {"type": "int", "choices": [0, 1, 2]},
            "path": {"type": "path", "default": "/etc/sysctl.d/90-linux-cluster-lvs-arp.conf"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[["state", "present", ["arp_ignore", "arp_announce", "rp_filter"], True]],
        supports_check_mode=True,
    )
    params, path = module.params, module.params["path"]
    problem = path_problem(path, params["state"] == "present")
    if problem:
        module.fail_json(msg=f"path={path!r}: {problem}; nothing was changed")
    old_text = read_text(path)
    if params["state"] == "present":
        try:
            wanted = validate(params["interfaces"], params)
        except SysctlInputError as exc:
            module.fail_json(msg=str(exc))
        new_text = render(wanted)
    else:
        wanted = {item: 0 for item in parse_file(old_text or "")}
        new_text = None
    live = read_live(wanted)
    missing = sorted({iface for (iface, _key), value in live.items() if value is None})
    if missing and params["state"] == "present":
        module.fail_json(msg=f"interfaces={missing[0]!r}: no such interface "
                             f"(no {PROC_SYS}/net/ipv4/conf/{missing[0]}); nothing was changed")
    changes = {item: pair for item, pair in runtime_changes(live, wanted).items() if pair[0] is not None}
    file_changed = old_text != new_text
    result = {
        "changed": bool(changes) or file_changed,
        "path": path,
        "changed_settings": [sysctl_name(*item) for item in changes],
        "settings": {f"{iface}.{key}": value for (iface, key), value in sorted(wanted.items())
                     if live.get((iface, key)) is not None},
    }
    if module._diff:
        def live_lines(pairs, side):
            return "".join(f"# live {sysctl_name(*item)} = {pair[side]}\n" for item, pair in pairs.items())
        result["diff"] = {"before": (old_text or "") + live_lines(changes, 0),
                          "after": (new_text or "") + live_lines(changes, 1),
                          "before_header": path, "after_header": path}
    if result["changed"] and not module.check_mode:
        write_live(changes)
        if new_text is None:
            os.unlink(path)
        elif file_changed:
            replace_file(path, new_text, 0o644)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
