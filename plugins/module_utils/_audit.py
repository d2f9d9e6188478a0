# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's verdicts: what every node said of itself (vrrp_info, vip_info), compared across the nodes.
Each finding names its check, the node(s), the object, what was expected and what was seen, and sorts by how bad
it is: a split brain first. Pure functions."""

from __future__ import annotations

import json

from ansible_collections.linux_cluster.lvs.plugins.module_utils._chrony import offset_text
from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import number_text
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    declared_services,
    ordered,
    public_service,
    rs_key,
    rs_name,
    service_key,
    service_name,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import REALSERVER_ATTRS, SERVICE_ATTRS
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import ipvs_part

SEVERITIES = ("critical", "error", "warning")
# Instance settings every peer of an instance must share, and how a finding names them.
SHARED = (("virtual_router_id", "VRID"), ("advert_int", "advert interval"), ("version", "VRRP version"),
          ("auth", "authentication (password or type)"))


def finding(severity: str, check: str, node: str, obj: str, expected: str, seen: str, **extra) -> dict:
    return {"severity": severity, "check": check, "node": node, "object": obj, "expected": expected, "seen": seen,
            **extra}


def vip_address(vip: str) -> str:
    """keepalived's VIP text ("192.0.2.50/24 dev eth0 scope global") -> its address."""
    return vip.split()[0].split("/")[0]


def _peers(nodes: dict) -> dict[str, dict[str, dict]]:
    """{instance name: {node: the instance as the node's keepalived runs it}}."""
    peers: dict[str, dict[str, dict]] = {}
    for node, seen in sorted(nodes.items()):
        for name, instance in ((seen.get("vrrp") or {}).get("instances") or {}).items():
            peers.setdefault(name, {})[node] = instance
    return peers


def _views(peers: dict[str, dict]) -> str:
    return ", ".join(f"{node} {inst['state']} (priority {inst['effective_priority']})"
                     for node, inst in peers.items())


def _differing(peers: dict[str, dict], key: str) -> dict[str, object] | None:
    values = {node: inst.get(key) for node, inst in peers.items()}
    return values if len({repr(value) for value in values.values()}) > 1 else None


def _values_text(values: dict[str, object], key: str) -> str:
    """Each peer's value of a shared setting ("dir1 51, dir2 52"; the authentication marked as a digest)."""
    return ", ".join(f"{node} {'(digest) ' if key == 'auth' else ''}{value}" for node, value in values.items())


def split_brain_causes(peers: dict[str, dict]) -> list[str]:
    """Why the peers of an instance may each think itself master, most telling first."""
    causes = []
    for key, label in SHARED:
        values = _differing(peers, key)
        if values:
            causes.append(f"different {label}: " + _values_text(values, key))
    # keepalived counts since it started: failures while the peers' authentication agrees are from before.
    failures = {node: sum(inst.get("stats", {}).get(name, 0) for name in ("auth_failure", "authtype_mismatch"))
                for node, inst in peers.items()}
    if any(failures.values()) and _differing(peers, "auth"):
        causes.append("authentication failures counted: " + ", ".join(
            f"{node} {count}" for node, count in failures.items() if count))
    interfaces = _differing(peers, "interface")
    if interfaces:
        causes.append("different interfaces: " + ", ".join(f"{node} {value}" for node, value in interfaces.items()))
    if not causes:
        causes.append("the peers agree on every setting: their adverts do not reach each other (a host firewall "
                      "dropping IP protocol 112, multicast off or filtered, unicast peers wrong)")
    return causes


def vrrp_findings(nodes: dict) -> list[dict]:
    """Per instance across its peers: exactly one MASTER, settings the peers must share equal, one highest
    priority."""
    findings = []
    for name, peers in _peers(nodes).items():
        vrids = sorted({str(inst.get("virtual_router_id")) for inst in peers.values()})
        obj = f"{name} (VRID {'/'.join(vrids)})"
        masters = [node for node, inst in peers.items() if inst["state"] == "MASTER"]
        if len(masters) > 1:
            findings.append(finding("critical", "vrrp.split_brain", ",".join(masters), obj, "one MASTER",
                                    _views(peers), causes=split_brain_causes(peers)))
        elif not masters:
            findings.append(finding("error", "vrrp.no_master", ",".join(peers), obj, "one MASTER", _views(peers)))
        for key, label in SHARED:
            values = _differing(peers, key)
            if values:
                findings.append(finding("error", "vrrp.peers_differ", ",".join(values), obj,
                                        f"one {label} on every peer", _values_text(values, key)))
        vips = {node: sorted(vip_address(vip) for vip in inst.get("vips", [])) for node, inst in peers.items()}
        if len({tuple(value) for value in vips.values()}) > 1:
            findings.append(finding("error", "vrrp.peers_differ", ",".join(vips), obj, "the same VIPs on every peer",
                                    "; ".join(f"{node} {' '.join(value)}" for node, value in vips.items())))
        priorities = {node: inst.get("base_priority") for node, inst in peers.items()}
        top = max(priorities.values(), key=lambda value: value or 0)
        highest = [node for node, value in priorities.items() if value == top]
        if len(peers) > 1 and len(highest) > 1:
            findings.append(finding("error", "vrrp.equal_priorities", ",".join(highest), obj,
                                    "one node with the highest priority",
                                    ", ".join(f"{node} {value}" for node, value in priorities.items())))
    return findings


def _macs(nodes: dict) -> dict[str, str]:
    """{MAC: "node interface"} of every interface of every node."""
    return {link["mac"]: f"{node} {name}" for node, seen in sorted(nodes.items())
            for name, link in ((seen.get("vips") or {}).get("interfaces") or {}).items()
            if link.get("mac") and name != "lo"}


def _reading(seen: dict, vip: str) -> dict:
    """What a node's vip_info said of `vip`."""
    return ((seen.get("vips") or {}).get("addresses") or {}).get(vip, {})


def held(nodes: dict, vip: str) -> dict[str, list[str]]:
    """{node: the interfaces holding `vip`} of the nodes that hold it; lo does not count (an LVS-DR real server's
    VIP, which answers no ARP)."""
    holding = {node: [link for link in _reading(seen, vip).get("held_on", []) if link != "lo"]
               for node, seen in sorted(nodes.items())}
    return {node: links for node, links in holding.items() if links}


def vip_findings(nodes: dict) -> list[dict]:
    """Per VIP of each instance: held by its MASTER and by no other node (an LVS-DR real server's VIP on lo is
    not held: it answers no ARP), and answered in ARP, as seen from every other node, by the MASTER's MAC alone."""
    findings, macs = [], _macs(nodes)
    for name, peers in _peers(nodes).items():
        masters = [node for node, inst in peers.items() if inst["state"] == "MASTER"]
        if len(masters) != 1:
            continue
        master = masters[0]
        interface = peers[master].get("interface")
        master_mac = ((nodes[master].get("vips") or {}).get("interfaces") or {}).get(interface, {}).get("mac")
        for vip in sorted({vip_address(vip) for inst in peers.values() for vip in inst.get("vips", [])}):
            holding = held(nodes, vip)
            holders = list(holding)
            obj = f"VIP {vip} ({name})"
            if master not in holders:
                findings.append(finding("error", "vip.not_on_master", master, obj, f"held by {master} (MASTER)",
                                        "held by " + (", ".join(holders) or "no node")))
            for node in holders:
                if node != master:
                    findings.append(finding("error", "vip.held_elsewhere", node, obj,
                                            f"held by {master} (MASTER) only",
                                            f"also held by {node} ({peers.get(node, {}).get('state', 'no instance')}) "
                                            f"on {', '.join(holding[node])}"))
            answers = {node: _reading(seen, vip).get("answered_by") for node, seen in sorted(nodes.items())}
            asked = {node: macs_seen for node, macs_seen in answers.items() if macs_seen is not None}
            seen_macs = sorted({mac for macs_seen in asked.values() for mac in macs_seen})
            if asked and seen_macs != [master_mac]:
                described = ", ".join(f"{mac} ({macs.get(mac, 'not a node of the inventory')})" for mac in seen_macs)
                findings.append(finding("error", "vip.arp", ",".join(asked), obj,
                                        f"ARP answered by {master_mac} ({master} {interface}) alone",
                                        f"answered by {described}" if seen_macs else "no answer"))
    return findings


def _table(services: list[dict]) -> dict:
    """Services in the result form (ipvs_info's, public_service's), as plain data keyed as the plan keys them."""
    return {service_key(svc): {**svc, "realservers": {rs_key(rs): rs for rs in svc.get("realservers") or []}}
            for svc in json.loads(json.dumps(services))}


def _settings(values: dict, attrs) -> str:
    return ", ".join(f"{attr} {values.get(attr)}" for attr in attrs)


def table_drift(declared: list[dict], live: list[dict]) -> list[dict]:
    """The live table (ipvs_info's services) against the declaration (ipvs_rules' services), every attribute the
    modules set: [{change, service, realserver, expected, seen}], change one of missing_service, extra_service,
    service_differs, missing_realserver, extra_realserver, realserver_differs."""
    want = _table([public_service(svc) for svc in declared_services(declared)])
    have = _table(live)
    drift = [{"change": "extra_service", "service": service_name(key), "realserver": None, "expected": "not declared",
              "seen": "in the table"} for key in ordered(have.keys() - want.keys())]
    for key in ordered(want):
        name = service_name(key)
        if key not in have:
            drift.append({"change": "missing_service", "service": name, "realserver": None,
                          "expected": _settings(want[key], ("scheduler",)), "seen": "not in the table"})
            continue
        differing = [attr for attr in SERVICE_ATTRS if have[key].get(attr) != want[key][attr]]
        if differing:
            drift.append({"change": "service_differs", "service": name, "realserver": None,
                          "expected": _settings(want[key], differing), "seen": _settings(have[key], differing)})
        wanted, held = want[key]["realservers"], have[key]["realservers"]
        for rkey in ordered(held.keys() - wanted.keys()):
            drift.append({"change": "extra_realserver", "service": name, "realserver": rs_name(rkey),
                          "expected": "not declared", "seen": _settings(held[rkey], ("weight",))})
        for rkey in ordered(wanted):
            if rkey not in held:
                drift.append({"change": "missing_realserver", "service": name, "realserver": rs_name(rkey),
                              "expected": _settings(wanted[rkey], ("weight",)), "seen": "not in the table"})
                continue
            differing = [attr for attr in REALSERVER_ATTRS if held[rkey].get(attr) != wanted[rkey][attr]]
            if differing:
                drift.append({"change": "realserver_differs", "service": name, "realserver": rs_name(rkey),
                              "expected": _settings(wanted[rkey], differing),
                              "seen": _settings(held[rkey], differing)})
    return drift


def _drift_object(item: dict) -> str:
    return item["service"] + (f" -> {item['realserver']}" if item["realserver"] else "")


def realserver_probes(declared: list[dict]) -> list[dict]:
    """Where each declared real server is asked whether it answers: [{object, host, port}] - its health check's
    connect_ip and port, else its own address and port (a real server of a firewall-mark service without a check
    port is not asked). `declared` with keepalived's options (lvs_director_services)."""
    probes = []
    for raw, svc in zip(declared, declared_services([ipvs_part(svc) for svc in declared])):
        for raw_rs, (rkey, _rs) in zip(raw.get("realservers") or [], svc["realservers"].items()):
            check = {**(raw.get("health_check") or {}), **(raw_rs.get("health_check") or {})}
            port = check.get("port") or rkey[1]
            if port:
                probes.append({"object": f"{service_name(service_key(svc))} -> {rs_name(rkey)}",
                               "host": check.get("connect_ip") or rkey[0], "port": int(port)})
    return probes


def ipvs_findings(tables: dict) -> list[dict]:
    """Per director ({node: {owner, declared, live, connect}}): its live table equal to its declaration (`declared`
    as lvs_director_services gives it, keepalived's options left out here), and each declared real server answering
    where realserver_probes asks it from the director (`connect`: node_state's {host:port: answered}). In a table
    keepalived owns, a declared real server missing from it that does not answer is down - the health check took it
    out - not drift; one in the table that does not answer gets traffic it cannot serve (an error in a static table,
    a warning where keepalived's check has yet to take it out)."""
    findings = []
    for node, table in sorted(tables.items()):
        if not (table.get("live") or {}).get("available", True):
            findings.append(finding("error", "ipvs.unavailable", node, "the IPVS table", "the declared table",
                                    "no IPVS in the kernel"))
            continue
        owner = table.get("owner") or "static"
        connect = table.get("connect") or {}
        silent = {probe["object"]: f"{probe['host']}:{probe['port']}"
                  for probe in realserver_probes(table.get("declared") or [])
                  if connect.get(f"{probe['host']}:{probe['port']}") is False}
        declared = [ipvs_part(svc) for svc in table.get("declared") or []]
        absent = set()
        for item in table_drift(declared, (table.get("live") or {}).get("services") or []):
            obj = _drift_object(item)
            if item["change"] in ("missing_realserver", "missing_service"):
                absent.add(obj)
            if item["change"] == "missing_realserver" and owner == "keepalived" and obj in silent:
                findings.append(finding("warning", "ipvs.realserver_down", node, obj, "in the table, answering",
                                        f"taken out by keepalived's health check: no answer on {silent[obj]}"))
            else:
                findings.append(finding("error", f"ipvs.{item['change']}", node, obj, item["expected"], item["seen"],
                                        owner=owner))
        for obj, target in sorted(silent.items()):
            if obj not in absent and obj.split(" -> ")[0] not in absent:
                findings.append(finding("error" if owner == "static" else "warning", "ipvs.realserver_silent", node,
                                        obj, f"answering on {target}",
                                        "in the table, no answer" + ("" if owner == "static" else
                                                                     " (keepalived's check has not taken it out)"),
                                        owner=owner))
    return findings


# What the real-server roles set on the interfaces they are given, per LVS mode (roles/lvs_realserver_dr and
# lvs_realserver_tun, vars/main.yml; a unit test keeps them equal), and where each mode puts the VIPs.
REALSERVER_SYSCTLS = {"dr": {"arp_ignore": "1", "arp_announce": "2"},
                      "tun": {"arp_ignore": "1", "arp_announce": "2", "rp_filter": "0"}}
REALSERVER_VIP_LINK = {"dr": "lo", "tun": "tunl0"}
# The roles' default interfaces for those sysctls (lvs_realserver_dr_arp_interfaces,
# lvs_realserver_tun_sysctl_interfaces; the same unit test keeps them equal).
REALSERVER_SYSCTL_INTERFACES = {"dr": ["all", "lo"], "tun": ["all", "tunl0"]}


def realserver_sysctls(mode: str, interfaces: list[str] | None) -> dict[str, str]:
    """{dotted sysctl name: value} a real server of `mode` must have on `interfaces` (None: the role's default)."""
    chosen = REALSERVER_SYSCTL_INTERFACES.get(mode, []) if interfaces is None else interfaces
    return {f"net.ipv4.conf.{interface.replace('.', '/')}.{name}": value for interface in chosen
            for name, value in REALSERVER_SYSCTLS.get(mode, {}).items()}


def realserver_findings(realservers: dict) -> list[dict]:
    """Per real server ({node: {mode, vips, interfaces, gateway, sysctls, routes, held}}): DR and TUN - each VIP on
    the mode's link (lo, tunl0) and the mode's sysctls on its interfaces; NAT - the default route through the
    gateway declared (the director, or the DIP a director pair floats)."""
    findings = []
    for node, rs in sorted(realservers.items()):
        mode = rs.get("mode")
        if mode in REALSERVER_VIP_LINK:
            link = REALSERVER_VIP_LINK[mode]
            for vip in rs.get("vips") or []:
                where = (rs.get("held") or {}).get(vip) or []
                if link not in where:
                    findings.append(finding("error", "realserver.vip", node, f"VIP {vip} (LVS-{mode.upper()})",
                                            f"on {link}", "on " + (", ".join(where) or "no interface")))
            seen = rs.get("sysctls") or {}
            for name, value in realserver_sysctls(mode, rs.get("interfaces")).items():
                if seen.get(name) != value:
                    findings.append(finding("error", "realserver.sysctl", node, name, value,
                                            str(seen.get(name)) if seen.get(name) is not None else "no such setting"))
        elif mode == "nat" and rs.get("gateway"):
            gateways = [route.get("gateway") for route in rs.get("routes") or []]
            if gateways != [rs["gateway"]]:
                findings.append(finding("error", "realserver.gateway", node, "the default route (LVS-NAT)",
                                        f"through {rs['gateway']}", "through " + (", ".join(
                                            str(gateway) for gateway in gateways) or "nothing")))
    return findings


def _resources(heartbeat: dict) -> list[str]:
    return [f"VIP {vip}" for vip in heartbeat.get("vips") or []] + list(heartbeat.get("services") or [])


def _holding(seen: dict) -> list[str]:
    """The heartbeat pair's resources a node holds: its VIPs on an interface other than lo, its services active."""
    heartbeat, units = seen["heartbeat"], seen["heartbeat"].get("units") or {}
    return ([f"VIP {vip}" for vip in heartbeat.get("vips") or []
             if set(_reading(seen, vip).get("held_on") or []) - {"lo"}]
            + [name for name in heartbeat.get("services") or [] if (units.get(name) or {}).get("active") == "active"])


def heartbeat_findings(nodes: dict) -> list[dict]:
    """Per heartbeat pair (nodes with a `heartbeat` reading: heartbeat_info's result with the pair's `peers`, its
    `vips` and `services`, and node_state's `units` for those; the node's `vips` reading says where it holds
    them): heartbeat running on every
    peer and seeing the others active; the resources held, all of them, by exactly one node (several is a split
    brain: the VIP answered from two nodes); that node the one heartbeat says holds them (heartbeat_info's `holds`,
    from cl_status rscstatus and haresources), and no other node saying so."""
    pairs: dict[tuple, dict[str, dict]] = {}
    for node, seen in sorted(nodes.items()):
        if seen.get("heartbeat"):
            pairs.setdefault(tuple(sorted(seen["heartbeat"].get("peers") or [node])), {})[node] = seen["heartbeat"]
    findings = []
    for readings in pairs.values():
        resources = _resources(next(iter(readings.values())))
        obj = f"heartbeat resources ({', '.join(resources)})"
        for node, beat in readings.items():
            if not beat.get("running"):
                findings.append(finding("error", "heartbeat.down", node, "heartbeat", "running", "not running"))
                continue
            for peer, status in sorted((beat.get("nodes") or {}).items()):
                if peer != node and peer in readings and status != "active":
                    findings.append(finding("error", "heartbeat.peer_dead", node, f"peer {peer}", "active", status))
        holding = {node: _holding(nodes[node]) for node in readings}
        holders = [node for node, held_here in holding.items() if held_here]
        says = {node: beat.get("resources") if beat.get("running") else "heartbeat not running"
                for node, beat in readings.items()}
        views = "; ".join(f"{node} holds {', '.join(holding[node]) or 'nothing'} (heartbeat: "
                          f"{'holds them here' if readings[node].get('holds') else 'not here'}, rscstatus {says[node]})"
                          for node in readings)
        if len(holders) > 1:
            findings.append(finding("critical", "heartbeat.split_brain", ",".join(holders), obj, "held by one node",
                                    views))
        elif not holders and any(beat.get("running") for beat in readings.values()):
            findings.append(finding("error", "heartbeat.not_held", ",".join(readings), obj, "held by one node",
                                    views))
        for node in holders:
            missing = [name for name in resources if name not in holding[node]]
            if missing:
                findings.append(finding("error", "heartbeat.partial", node, obj, "every resource on the node holding "
                                        "them", f"missing {', '.join(missing)}"))
        for node, said in says.items():
            claims = bool(readings[node].get("holds"))
            if claims != (node in holders) and not (len(holders) > 1 and node in holders):
                findings.append(finding("error", "heartbeat.disagrees", node, obj,
                                        "heartbeat saying it holds them where they are held",
                                        f"{node} holds {', '.join(holding[node]) or 'nothing'}, heartbeat: "
                                        f"{'holds them here' if claims else 'not here'} (rscstatus {said})"))
    return findings


def proxy_findings(nodes: dict) -> list[dict]:
    """Per nginx proxy of a pair (a `proxy` reading: node_state's `files` for the configuration the role declares
    and `active`, whether nginx runs): nginx running with the declared configuration - an error on the node
    holding a VIP of its keepalived instances, a warning on the other (it serves after a failover)."""
    findings = []
    for node, seen in sorted(nodes.items()):
        proxy = seen.get("proxy")
        if not proxy:
            continue
        vips = {vip_address(vip) for inst in ((seen.get("vrrp") or {}).get("instances") or {}).values()
                for vip in inst.get("vips", [])}
        holding = sorted(vip for vip in vips if node in held(nodes, vip))
        severity, role = ("error", f"holding {', '.join(holding)}") if holding else ("warning", "not holding a VIP")
        if not proxy.get("active"):
            findings.append(finding(severity, "nginx.down", node, f"nginx ({role})", "running", "not running"))
        for path, state in sorted((proxy.get("files") or {}).items()):
            if not state.get("same"):
                findings.append(finding(severity, "nginx.config", node, f"{path} ({role})",
                                        "the declared configuration",
                                        "a different file" if state.get("exists") else "no such file"))
    return findings


def prerequisite_findings(nodes: dict) -> list[dict]:
    """Per node with a `prereqs` reading (what ntp_prereqs' state.yml read: name, uname, hosts (whether /etc/hosts
    holds the cluster's block), entries ([{name, address}] of the cluster), resolved (node_state's names), files
    (chrony's files: {path: {same}}), chrony (whether the role keeps time), unit (chrony's, node_state's reading),
    max_offset, probe (ntp_offset's result against its sources, or None)): the node's name its uname -n, every
    cluster node's name resolving first to its declared address, chrony running with the declared files, its clock
    within max_offset of each source; and every two nodes asking a common source within the sum of their
    max_offset of each other."""
    findings, offsets = [], {}
    for node, seen in sorted(nodes.items()):
        pre = seen.get("prereqs")
        if not pre:
            continue
        if pre.get("name") != pre.get("uname"):
            findings.append(finding("error", "names.uname", node, "the node's name", str(pre.get("name")),
                                    f"uname -n {pre.get('uname')}"))
        if not pre.get("hosts"):
            findings.append(finding("error", "names.hosts", node, "/etc/hosts", "the cluster's block as declared",
                                    "missing or different"))
        for entry in pre.get("entries") or []:
            resolved = (pre.get("resolved") or {}).get(entry["name"]) or []
            if resolved[:1] != [entry["address"]]:
                findings.append(finding("error", "names.resolve", node, f"name {entry['name']}",
                                        f"resolving first to {entry['address']}",
                                        f"resolves to {', '.join(resolved)}" if resolved else "does not resolve"))
        if not pre.get("chrony"):
            continue
        if (pre.get("unit") or {}).get("active") != "active":
            findings.append(finding("error", "time.chrony", node, "chrony", "running",
                                    (pre.get("unit") or {}).get("active") or "not installed"))
        for path, state in sorted((pre.get("files") or {}).items()):
            if not state.get("same"):
                findings.append(finding("error", "time.config", node, path, "the declared configuration",
                                        "a different file" if state.get("exists") else "no such file"))
        limit = float(pre.get("max_offset") or 0)
        for source in (pre.get("probe") or {}).get("sources") or []:
            if source.get("offset") is None:
                findings.append(finding("error", "time.source", node, f"time source {source['server']}",
                                        "answering NTP", source.get("error") or "no answer"))
                continue
            offsets.setdefault(source["server"], {})[node] = (source["offset"], limit)
            if abs(source["offset"]) > limit:
                findings.append(finding("error", "time.offset", node, f"clock against {source['server']}",
                                        f"within {number_text(limit)} s", offset_text(source["offset"])))
    pairs = {}
    for server, measured in sorted(offsets.items()):
        for one, (offset_one, limit_one) in measured.items():
            for other, (offset_other, limit_other) in measured.items():
                # offset: the source's time minus the node's; one is ahead of the other by their difference.
                ahead = offset_other - offset_one
                if one < other and (one, other) not in pairs and abs(ahead) > limit_one + limit_other:
                    pairs[(one, other)] = finding(
                        "error", "time.pair", f"{one},{other}", f"clocks of {one} and {other} (through {server})",
                        f"within {number_text(limit_one + limit_other)} s of each other",
                        f"{one} {abs(ahead):.6f} s {'ahead of' if ahead > 0 else 'behind'} {other}")
    return findings + list(pairs.values())


def audit_findings(nodes: dict) -> list[dict]:
    """Every finding over the nodes' readings ({node: {vrrp, vips, and where they apply table, realserver,
    heartbeat, proxy, prereqs}}), the worst first."""
    def part(key: str) -> dict:
        return {node: seen[key] for node, seen in nodes.items() if seen.get(key)}
    found = (vrrp_findings(nodes) + vip_findings(nodes) + ipvs_findings(part("table"))
             + realserver_findings(part("realserver")) + heartbeat_findings(nodes) + proxy_findings(nodes)
             + prerequisite_findings(nodes))
    return sorted(found, key=lambda item: (SEVERITIES.index(item["severity"]), item["check"], item["object"]))


def report_lines(findings: list[dict]) -> list[str]:
    """One line per finding: severity, check, node(s), object, expected, seen (and a split brain's likely causes)."""
    lines = []
    for item in findings:
        line = (f"{item['severity'].upper()} {item['check']} {item['node']}: {item['object']}: expected "
                f"{item['expected']}; seen {item['seen']}")
        if item.get("causes"):
            line += "; likely: " + "; ".join(item["causes"])
        lines.append(line)
    return lines


def summary(nodes: dict) -> list[str]:
    """A table of the instances: name, VRID, each peer's state and priority, the VIPs and who holds them."""
    rows = [("instance", "VRID", "peers (state, priority)", "VIPs held by")]
    for name, peers in _peers(nodes).items():
        vips = sorted({vip_address(vip) for inst in peers.values() for vip in inst.get("vips", [])})
        holders = [f"{vip}: {','.join(held(nodes, vip)) or '-'}" for vip in vips]
        rows.append((name, "/".join(sorted({str(inst.get("virtual_router_id")) for inst in peers.values()})),
                     ", ".join(f"{node} {inst['state']} {inst['effective_priority']}" for node, inst in peers.items()),
                     "; ".join(holders)))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
