# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One declaration of the IPVS services, two owners: ipvs_services gives ipvs_rules its part (a static table),
keepalived_virtual_servers renders keepalived's virtual_server blocks (a health-checked table). Both validate
with _keepalived_lvs, the code the roles' preflight runs."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import BAD_INPUT, plain
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import (
    VIRTUAL_SERVERS_INPUT,
    dropped,
    ipvs_part,
    pair_problems,
    render,
)


def ipvs_services(services) -> list:
    """The services as ipvs_rules takes them: keepalived's options left out."""
    services = plain(services) or []
    if not isinstance(services, list):
        raise AnsibleFilterError(f"ipvs_services expects a list of services, not {type(services).__name__}")
    return [ipvs_part(item) if isinstance(item, dict) else item for item in services]


def _entries(services) -> list:
    params, messages = VIRTUAL_SERVERS_INPUT.validate({"services": plain(services) or []})
    if messages:
        raise AnsibleFilterError("; ".join(messages))
    try:
        return VIRTUAL_SERVERS_INPUT.check(params)
    except BAD_INPUT as exc:
        raise AnsibleFilterError(str(exc)) from None


def keepalived_virtual_servers(services) -> str:
    """keepalived.conf's virtual_server blocks of `services` (empty for none)."""
    return render(_entries(services))


def keepalived_dropped_realservers(live_services, services) -> list:
    """The live real servers (ipvs_info's services) that `services` drop from a service they keep: each as
    ipvs_realserver's arguments to drain it before keepalived's reload deletes it."""
    return dropped(plain(live_services) or [], _entries(services))


def director_pair_problems(instances, mode, services, fwmark_rules=None, gateways=None, sync_groups=None) -> list:
    """What the director pair's VRRP instances miss to carry the cluster (_keepalived_lvs.pair_problems): the VIPs
    of `services` and `fwmark_rules` (entries that are not one are the roles' preflight's to name)."""
    vips = [item.get(key) for items, key in ((plain(services), "address"), (plain(fwmark_rules), "vip"))
            for item in (items if isinstance(items, list) else []) if isinstance(item, dict) and item.get(key)]
    return pair_problems(plain(instances), mode, vips, plain(gateways), plain(sync_groups))


class FilterModule:
    def filters(self):
        return {"ipvs_services": ipvs_services, "keepalived_virtual_servers": keepalived_virtual_servers,
                "keepalived_dropped_realservers": keepalived_dropped_realservers,
                "director_pair_problems": director_pair_problems}
