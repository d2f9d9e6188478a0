# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ntp_prereqs role's filters: chrony's files from the node's time settings (module_utils/_chrony.py, after
the validation the role's preflight runs through input_problems), what the preflight finds wrong across the
nodes (names against uname -n, /etc/hosts addresses, interfaces, time sources that do not answer), and the
nodes whose clocks are off once chrony runs."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._chrony import (
    TIME_INPUT,
    clock,
    render_conf,
    render_sources,
    servers,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import plain, problem_lines


def chrony_config(time) -> dict:
    """{time_sources, local_stratum, allow, max_offset, sync_timeout} -> {'sources': the sources.d file,
    'conf': the conf.d file, 'servers': the addresses asked for the time, 'max_offset', 'sync_timeout'}."""
    model, problems = TIME_INPUT.built(plain(time) or {})
    if problems:
        raise AnsibleFilterError("chrony_config: " + "; ".join(problem_lines(problems)))
    return {"sources": render_sources(model), "conf": render_conf(model), "servers": servers(model),
            "max_offset": model["max_offset"], "sync_timeout": model["sync_timeout"]}


def cluster_hosts(hosts, hostvars) -> list[dict]:
    """The cluster's nodes as /etc/hosts lists them: [{name, address}] from each inventory name's
    ntp_prereqs_node_name and ntp_prereqs_node_address, its name and ansible_host otherwise."""
    entries = []
    for host in plain(hosts) or []:
        node = hostvars[host]
        entries.append({"name": str(node.get("ntp_prereqs_node_name") or host),
                        "address": str(node.get("ntp_prereqs_node_address") or node.get("ansible_host") or host)})
    return entries


def unresolved_hosts(entries, getent) -> list[str]:
    """The entries ([{name, address}]) whose name does not resolve first to its address in `getent hosts NAME...`'s
    output (a name with several addresses, as Debian's `multi on` lists them, counts by its first)."""
    first: dict[str, str] = {}
    for line in str(getent or "").splitlines():
        fields = line.split()
        for name in fields[1:]:
            first.setdefault(name, fields[0])
    return [f"{entry['name']} resolves to {first.get(entry['name'], 'nothing')}, not {entry['address']}"
            for entry in plain(entries) or [] if first.get(entry["name"]) != entry["address"]]


def _source_problems(host: str, node: dict) -> list[str]:
    """The node's time sources outside the cluster (those in it are set up by the same run), when none answers."""
    asked = (node.get("probe") or {}).get("sources", [])
    if not asked or any("offset" in source for source in asked):
        return []
    why = "; ".join(f"{source['server']}: {source.get('error', 'no answer')}" for source in asked)
    return [f"{host}: ntp_prereqs_time_sources: no time source answers from {host} ({why})"]


def ntp_prereqs_problems(nodes) -> list[str]:
    """What stops the role before it changes anything, across the nodes. `nodes`: {host: {name (the name the
    inventory gives the node), uname (its `uname -n`), address (its address in /etc/hosts), interfaces (declared),
    links (`ip -j link show`), probe (ntp_offset's result for its sources outside the cluster, or None)}}."""
    nodes = plain(nodes) or {}
    problems = []
    seen_names: dict[str, str] = {}
    seen_addresses: dict[str, str] = {}
    for host, node in nodes.items():
        name, uname = node.get("name") or "", node.get("uname") or ""
        if name != uname:
            problems.append(f"{host}: ntp_prereqs_node_name={name!r} is not the node's own name {uname!r} (uname -n): "
                            f"set the inventory (or ntp_prereqs_node_name) to the node's name, or rename the node")
        if name in seen_names:
            problems.append(f"{host}: ntp_prereqs_node_name={name!r}: {seen_names[name]} has that name too")
        seen_names.setdefault(name, host)
        address = node.get("address") or ""
        if address in seen_addresses:
            problems.append(f"{host}: ntp_prereqs_node_address={address!r}: {seen_addresses[address]} has that "
                            f"address too")
        seen_addresses.setdefault(address, host)
        links = {link.get("ifname") for link in node.get("links") or []}
        problems += [f"{host}: ntp_prereqs_interfaces[{index}]={interface!r}: no such interface on {host} "
                     f"(it has {', '.join(sorted(links))})"
                     for index, interface in enumerate(node.get("interfaces") or []) if interface not in links]
        problems += _source_problems(host, node)
    return problems


def clock_problems(nodes) -> list[str]:
    """Nodes whose clock is wrong once chrony runs: {host: {time, waitsync, tracking, probe}} (_chrony.clock) ->
    one sentence per problem, naming the node, its offset and its sources."""
    return [f"{host}: {problem}" for host, node in (plain(nodes) or {}).items() for problem in clock(node)[0]]


def clock_report(node) -> str:
    """A node's clock in one line: its source, chrony's correction, the offset measured from each source."""
    return clock(plain(node))[1]


class FilterModule:
    def filters(self):
        return {"chrony_config": chrony_config, "cluster_hosts": cluster_hosts, "unresolved_hosts": unresolved_hosts,
                "ntp_prereqs_problems": ntp_prereqs_problems, "clock_problems": clock_problems,
                "clock_report": clock_report}
