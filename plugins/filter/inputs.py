# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""input_problems: the roles' preflight runs the collection's own validation on the controller, before any
task acts. For a module it is exactly what the module runs on its arguments (its argument spec through
ansible-core's validator, then its own checks); for a role variable the same check the code that uses it
runs. Every problem comes back at once, one sentence each, naming the variable and the value."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._chrony import TIME_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    absolute_path,
    addresses,
    errors_of,
    interface_name,
    ip_address,
    ip_network,
    plain,
    problem_lines,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._iptables import (
    accept_rule_list,
    fwmark_rule_list,
    masquerade_rule_list,
    vrrp_accept_rule_list,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    REALSERVER_INPUT,
    RULES_INPUT,
    SERVICE_INPUT,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import VRRP_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import (
    STATIC_SERVICES_INPUT,
    VIRTUAL_SERVERS_INPUT,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._nginx import PROXY_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl import ARP_INPUT, FILE_INPUT

# Module name -> its input (argument spec, rules, checks): the same object the module runs; and the
# services of an IPVS table as keepalived is to own it, or as a static table keeps them (the roles
# write those, through keepalived_virtual_servers and ipvs_services); an nginx proxy's upstreams and
# servers (nginx_proxy writes them through nginx_proxy_config); a node's time settings (ntp_prereqs writes
# them through chrony_config).
MODULES = {
    "keepalived_virtual_servers": VIRTUAL_SERVERS_INPUT,
    "static_services": STATIC_SERVICES_INPUT,
    "ipvs_rules": RULES_INPUT,
    "ipvs_service": SERVICE_INPUT,
    "ipvs_realserver": REALSERVER_INPUT,
    "vrrp_instance": VRRP_INPUT,
    "sysctl_file": FILE_INPUT,
    "sysctl_arp": ARP_INPUT,
    "nginx_proxy": PROXY_INPUT,
    "ntp_prereqs": TIME_INPUT,
}
# Checks of one role variable: (value, the variable's name, options) -> raises InputError(s).
CHECKS = {
    "address": lambda value, field, version=None, prefix=False, multicast=False: ip_address(
        field, value, version, prefix, multicast),
    "addresses": lambda value, field, version=None, prefix=False, at_least=0: addresses(
        field, value, version, prefix, at_least),
    "network": lambda value, field, version=None: ip_network(field, value, version),
    "interface": lambda value, field: interface_name(field, value),
    "path": lambda value, field: absolute_path(field, value),
    "fwmark_rules": fwmark_rule_list,
    "masquerade_rules": masquerade_rule_list,
    "vrrp_accept_rules": vrrp_accept_rule_list,
    "accept_rules": accept_rule_list,
}


def input_problems(value, kind: str, field: str = "", where: str = "", names: dict | None = None, **options) -> list:
    """Every problem of `value` as `kind` (a module's name: `value` is its arguments; or one of CHECKS:
    `value` is the variable `field`), one sentence each, `where` first. For a module, `names` renames its
    options to the variables they come from and `field` is the variable the arguments sit in."""
    value = plain(value)
    if kind in MODULES:
        if not isinstance(value, dict):
            return [f"{where}{field or kind}: the arguments of {kind} must be a dict, not {type(value).__name__}"]
        return problem_lines(MODULES[kind].problems(value), where, names, field)
    if kind not in CHECKS:
        raise AnsibleFilterError(f"input_problems: unknown kind {kind!r}; one of "
                                 f"{', '.join(sorted([*MODULES, *CHECKS]))}")
    try:
        CHECKS[kind](value, field, **options)
    except BAD_INPUT as exc:
        return problem_lines(errors_of(exc), where)
    return []


class FilterModule:
    def filters(self):
        return {"input_problems": input_problems}
