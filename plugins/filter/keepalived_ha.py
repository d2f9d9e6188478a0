# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the keepalived_ha role: the play-wide checks of a VRRP cluster before any node changes,
and each node's vrrp_instance arguments from the cluster's shared declaration."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Fields every node of an instance must agree on (the secret compared, never shown).
SHARED = ("virtual_router_id", "virtual_ipaddresses", "auth_pass", "version", "advert_int", "nopreempt")
# Instance fields passed to vrrp_instance as they are.
PASSED = ("virtual_router_id", "advert_int", "version", "auth_pass", "virtual_ipaddresses",
          "virtual_ipaddresses_excluded", "track_interfaces", "nopreempt", "preempt_delay",
          "garp_master_delay", "garp_master_refresh")


def _vips(instance: dict) -> list[str]:
    return sorted(str(vip.get("address") if isinstance(vip, dict) else vip)
                  for vip in instance.get("virtual_ipaddresses") or [])


def _shown(field: str, value) -> str:
    return "(secret)" if field == "auth_pass" else repr(value)


def vrrp_problems(instances_by_host: dict, interfaces: dict | None = None, default_priority: int = 100) -> list[str]:
    """{host: [instance, ...]} for every host of the play (and {host: advert interface}) -> what would make
    the cluster misbehave, one sentence each: peers that disagree on an instance's VRID, VIPs, password,
    version, advert interval or nopreempt; a VRID used twice on one interface; no single highest priority
    (without nopreempt); nopreempt with initial_state MASTER."""
    problems = []
    seen: dict[str, tuple[str, dict]] = {}
    vrids: dict[tuple[str, int], str] = {}
    priorities: dict[str, dict[str, int]] = {}
    for host in sorted(instances_by_host):
        for index, instance in enumerate(instances_by_host[host] or []):
            name = instance.get("name")
            where = f"{host}: keepalived_ha_instances[{index}]"
            if not name:
                problems.append(f"{where}.name: missing")
                continue
            shared = {field: (_vips(instance) if field == "virtual_ipaddresses" else instance.get(field))
                      for field in SHARED}
            if name in seen:
                other, theirs = seen[name]
                for field in SHARED:
                    if shared[field] != theirs[field]:
                        problems.append(f"instance {name}: {field} differs between {other} "
                                        f"({_shown(field, theirs[field])}) and {host} ({_shown(field, shared[field])})")
            else:
                seen[name] = (host, shared)
            interface = instance.get("interface") or (interfaces or {}).get(host) or ""
            key = (interface, instance.get("virtual_router_id"))
            owner = vrids.setdefault(key, name)
            if owner != name:
                problems.append(f"{host}: virtual_router_id {key[1]} on {interface or 'the default interface'} is "
                                f"used by instances {owner} and {name}")
            if instance.get("nopreempt") and instance.get("initial_state") == "MASTER":
                problems.append(f"instance {name}: nopreempt with initial_state MASTER (keepalived ignores it)")
            priority = (instance.get("priorities") or {}).get(host, instance.get("priority", default_priority))
            priorities.setdefault(name, {})[host] = priority
    for name, by_host in sorted(priorities.items()):
        if seen[name][1]["nopreempt"] or len(by_host) < 2:
            continue
        top = max(by_host.values())
        highest = sorted(host for host, priority in by_host.items() if priority == top)
        if len(highest) > 1:
            problems.append(f"instance {name}: {' and '.join(highest)} share the highest priority {top}; "
                            "give exactly one node the highest")
    return problems


def vrrp_node_instances(instances: list, host: str, addresses: dict, interface: str = "",
                        tracked_scripts: list | None = None, notify: str = "", default_priority: int = 100) -> list:
    """The vrrp_instance arguments of `host` for each instance: its own priority (`priorities[host]`, else
    `priority`), the role's interface, tracked scripts and notify command, and with `unicast: true` its own
    address (from `addresses`, {host: address} of every node) as source and the other nodes' as peers."""
    result = []
    for index, instance in enumerate(instances or []):
        if not isinstance(instance, dict) or not instance.get("name"):
            raise AnsibleFilterError(f"keepalived_ha_instances[{index}]: each instance needs a name")
        args = {field: instance[field] for field in PASSED if instance.get(field) is not None}
        args["name"] = instance["name"]
        args["interface"] = instance.get("interface") or interface
        args["priority"] = (instance.get("priorities") or {}).get(host, instance.get("priority", default_priority))
        args["initial_state"] = instance.get("initial_state") or "BACKUP"
        scripts = [{"name": name, "weight": None} for name in (tracked_scripts or [])]
        args["track_scripts"] = scripts + list(instance.get("track_scripts") or [])
        if notify:
            args["notify"] = notify
        if instance.get("unicast"):
            if host not in addresses:
                raise AnsibleFilterError(f"keepalived_ha_instances[{index}].unicast: no address for {host}")
            args["unicast_src_ip"] = addresses[host]
            args["unicast_peers"] = [address for other, address in sorted(addresses.items()) if other != host]
        result.append(args)
    return result


class FilterModule:
    def filters(self):
        return {"vrrp_problems": vrrp_problems, "vrrp_node_instances": vrrp_node_instances}
