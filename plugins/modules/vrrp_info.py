#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_info
short_description: The VRRP instances a node's keepalived runs, as keepalived itself sees them
version_added: 0.2.0
description:
  - Asks the running keepalived for one dump of its state (its JSON signal; keepalived writes the dump to
    C(/tmp/keepalived.json), which is read and removed at once) and returns each VRRP instance - its state, its
    priorities, VRID, interface, advert interval, VRRP version, VIPs - with keepalived's counters that explain a
    split brain (adverts received, authentication failures).
  - The password is never returned. With O(digest_key), the authentication is returned keyed with it (an HMAC);
    two nodes' digests are equal when their passwords are, and a digest tells nothing of the password without the
    key. The collection's audit (C(playbooks/audit.yml)) gives every node one random key per run.
  - A node where keepalived does not run returns RV(running=false) and no instances.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
  - linux_cluster.lvs.read_only.linux
options:
  service:
    description: keepalived's systemd unit.
    type: str
    default: keepalived
  digest_key:
    description: The key the authentication is returned with (RV(instances.auth)).
    type: str
seealso:
  - module: linux_cluster.lvs.vrrp_instance
  - module: linux_cluster.lvs.vip_info
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: What keepalived runs here
  linux_cluster.lvs.vrrp_info:
  register: vrrp

- name: This node is the master of VI_web
  ansible.builtin.assert:
    that: vrrp.instances.VI_web.state == 'MASTER'
"""

RETURN = r"""
running:
  description: Whether keepalived runs (and answered with its dump).
  returned: always
  type: bool
instances:
  description: Each instance keepalived runs, by name.
  returned: always
  type: dict
  sample:
    VI_web:
      state: MASTER
      base_priority: 150
      effective_priority: 150
      virtual_router_id: 51
      interface: eth0
      vips: ["192.0.2.50/24 dev eth0 scope global"]
      master_priority: 0
      last_transition: 1796528415.64
      advert_int: 1
      version: 2
      nopreempt: false
      auth_type: PASS
      auth: 3f1c0a9d5e7b2c11
      stats: {advert_rcvd: 0, advert_sent: 1210, auth_failure: 0, become_master: 1}
  contains:
    state:
      description: V(MASTER), V(BACKUP), V(FAULT) or V(INIT).
      type: str
    auth:
      description: The authentication keyed with O(digest_key); only with it.
      type: str
    stats:
      description: keepalived's counters for the instance since it started.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_runner import Keepalived


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str", "default": "keepalived"},
            "digest_key": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    keepalived = Keepalived(module, module.params["service"], required=False)
    instances = keepalived.dump(digest_key=module.params["digest_key"]) if keepalived.binary else None
    module.exit_json(changed=False, running=instances is not None, instances=instances or {})


if __name__ == "__main__":
    main()
