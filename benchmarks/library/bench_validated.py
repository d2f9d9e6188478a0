# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: bench_validated
short_description: Argument validation of ipvs_rules and nothing else (benchmarks/bench_ipvs_rules.py)
description:
  - Takes the options of ipvs_rules, validated by AnsibleModule with ipvs_rules' own argument spec, and does nothing
    with them - what Ansible's validated copy of a table costs before the module does any work of its own.
options: {}
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import RULES_INPUT  # noqa: E402


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **RULES_INPUT.module_options())
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
