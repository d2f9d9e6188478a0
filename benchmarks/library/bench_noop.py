# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: bench_noop
short_description: The floor of a module run (benchmarks/bench_ipvs_rules.py)
description:
  - Takes the same O(services) as ipvs_rules, unvalidated, and does nothing with them - what any task shipping that
    argument to the guest costs (the transfer, the interpreter, Ansible's module imports).
options:
  services:
    description: Anything.
    type: raw
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def main() -> None:
    module = AnsibleModule(argument_spec={"services": {"type": "raw"}}, supports_check_mode=True)
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
