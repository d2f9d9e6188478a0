# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's verdicts: what every node said of itself (vrrp_info, vip_info), compared across the nodes.
Each finding names its check, the node(s), the object, what was expected and what was seen, and sorts by how bad
it is: a split brain first. Pure functions."""

from __future__ import annotations

import json

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


def health_probes(declared: list[dict], live: list[dict]) -> list[dict]:
    """For each declared real server missing from the live table, where its health check connects: [{object,
    host, port}] (the check's connect_ip and port, else the real server's address and port; none for a real server
    of a firewall-mark service without a check port). `declared` with keepalived's options
    (lvs_director_services)."""
    missing = {_drift_object(item) for item in table_drift([ipvs_part(svc) for svc in declared], live)
               if item["change"] == "missing_realserver"}
    probes = []
    for raw, svc in zip(declared, declared_services([ipvs_part(svc) for svc in declared])):
        for raw_rs, (rkey, _rs) in zip(raw.get("realservers") or [], svc["realservers"].items()):
            obj = f"{service_name(service_key(svc))} -> {rs_name(rkey)}"
            check = {**(raw.get("health_check") or {}), **(raw_rs.get("health_check") or {})}
            port = check.get("port") or rkey[1]
            if obj in missing and port:
                probes.append({"object": obj, "host": check.get("connect_ip") or rkey[0], "port": int(port)})
    return probes


def ipvs_findings(tables: dict) -> list[dict]:
    """Per director ({node: {owner, declared, live, probed, answered}}): its live table equal to its declaration
    (`declared` as lvs_director_services gives it, keepalived's options left out here). In a table keepalived owns, a
    declared real server missing from it that was asked where its health check connects (`probed`, health_probes'
    objects) and did not answer (not in `answered`) is down - the health check took it out - not drift."""
    findings = []
    for node, table in sorted(tables.items()):
        if not (table.get("live") or {}).get("available", True):
            findings.append(finding("error", "ipvs.unavailable", node, "the IPVS table", "the declared table",
                                    "no IPVS in the kernel"))
            continue
        declared = [ipvs_part(svc) for svc in table.get("declared") or []]
        for item in table_drift(declared, (table.get("live") or {}).get("services") or []):
            obj = _drift_object(item)
            down = (item["change"] == "missing_realserver" and table.get("owner") == "keepalived"
                    and obj in (table.get("probed") or []) and obj not in (table.get("answered") or []))
            if down:
                findings.append(finding("warning", "ipvs.realserver_down", node, obj, "in the table, answering",
                                        "taken out by keepalived's health check: no answer on its port"))
            else:
                findings.append(finding("error", f"ipvs.{item['change']}", node, obj, item["expected"], item["seen"],
                                        owner=table.get("owner") or "static"))
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


def audit_findings(nodes: dict, tables: dict | None = None, realservers: dict | None = None) -> list[dict]:
    """Every finding over the nodes' readings ({node: {vrrp, vips}}), the directors' tables (ipvs_findings) and the
    real servers' (realserver_findings), the worst first."""
    found = (vrrp_findings(nodes) + vip_findings(nodes) + ipvs_findings(tables or {})
             + realserver_findings(realservers or {}))
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
