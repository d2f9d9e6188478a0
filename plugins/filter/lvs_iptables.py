# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn a director's firewall-mark and masquerade declarations, and the interfaces that
carry VRRP adverts, into iptables rules (module_utils/_iptables.py; the roles' preflight runs the same
checks through linux_cluster.lvs.input_problems before anything changes)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import BAD_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._iptables import (
    accept_rule_list,
    fwmark_rule_list,
    masquerade_rule_list,
    vrrp_accept_rule_list,
)


def _as_filter(build):
    def run(values, name: str | None = None):
        try:
            return build(values, name) if name is not None else build(values)
        except BAD_INPUT as exc:
            raise AnsibleFilterError(str(exc)) from None
    run.__doc__ = build.__doc__
    return run


fwmark_rules = _as_filter(fwmark_rule_list)
masquerade_rules = _as_filter(masquerade_rule_list)
vrrp_accept_rules = _as_filter(vrrp_accept_rule_list)


def accept_rules(interfaces, traffic, name: str = "interfaces"):
    """Interfaces and the cluster traffic to accept on them -> iptables rules (module_utils/_iptables.py)."""
    try:
        return accept_rule_list(interfaces, name, traffic)
    except BAD_INPUT as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"fwmark_rules": fwmark_rules, "masquerade_rules": masquerade_rules,
                "vrrp_accept_rules": vrrp_accept_rules, "accept_rules": accept_rules}
