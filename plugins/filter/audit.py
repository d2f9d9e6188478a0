# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's filters (playbooks/audit.yml): every node's readings gathered, the findings over them, the
report's lines and its summary table (module_utils/_audit.py)."""

from __future__ import annotations

from ansible_collections.linux_cluster.lvs.plugins.module_utils._audit import (
    audit_findings,
    realserver_probes,
    realserver_sysctls,
    report_lines,
    summary,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import plain

# Each reading the findings compare, by the fact the audit sets it in on each node.
READINGS = {"vrrp": "__audit_vrrp", "vips": "__audit_vips", "table": "__audit_table", "realserver": "__audit_rs",
            "heartbeat": "__audit_hb", "proxy": "__audit_proxy_seen", "prereqs": "__audit_prereqs"}


def _readings(hostvars, hosts) -> dict:
    """{node: {vrrp, vips, and those that apply of table, realserver, heartbeat, proxy, prereqs}} from the facts
    the audit set on each of `hosts`."""
    nodes = {}
    for host in plain(hosts) or []:
        facts = hostvars[host]
        nodes[host] = {key: plain(facts[name]) for key, name in READINGS.items() if name in facts}
    return nodes


def _findings(nodes) -> list[dict]:
    return audit_findings(plain(nodes) or {})


def _sysctls(mode, interfaces) -> list[str]:
    """The sysctls a real server of `mode` must have on `interfaces` (None: the role's default), by name."""
    return list(realserver_sysctls(plain(mode), plain(interfaces)))


def _probes(declared) -> list[dict]:
    """Where each declared real server is asked whether it answers ({host, port} for node_state's connect)."""
    return [{"host": probe["host"], "port": probe["port"]} for probe in realserver_probes(plain(declared) or [])]


def _report(findings) -> list[str]:
    return report_lines(plain(findings) or [])


def _summary(nodes) -> list[str]:
    return summary(plain(nodes) or {})


class FilterModule:
    def filters(self):
        return {"audit_readings": _readings, "audit_findings": _findings, "audit_report": _report,
                "audit_summary": _summary, "audit_realserver_probes": _probes,
                "audit_realserver_sysctls": _sysctls}
