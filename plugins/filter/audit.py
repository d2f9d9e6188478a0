# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's filters (playbooks/audit.yml): the findings over every node's readings, the report's lines
and its summary table (module_utils/_audit.py)."""

from __future__ import annotations

from ansible_collections.linux_cluster.lvs.plugins.module_utils._audit import (
    audit_findings,
    health_probes,
    realserver_sysctls,
    report_lines,
    summary,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import plain


def _nodes(vrrp, vips) -> dict:
    """{node: vrrp_info's result} and {node: vip_info's result} -> {node: {vrrp, vips}}."""
    vrrp, vips = plain(vrrp) or {}, plain(vips) or {}
    return {node: {"vrrp": vrrp.get(node) or {}, "vips": vips.get(node) or {}} for node in sorted({*vrrp, *vips})}


def _findings(vrrp, vips, tables=None, realservers=None) -> list[dict]:
    return audit_findings(_nodes(vrrp, vips), plain(tables) or {}, plain(realservers) or {})


def _sysctls(mode, interfaces) -> list[str]:
    """The sysctls a real server of `mode` must have on `interfaces` (None: the role's default), by name."""
    return list(realserver_sysctls(plain(mode), plain(interfaces)))


def _probes(declared, live) -> list[dict]:
    """Where the health check of each declared real server missing from the live table connects."""
    return health_probes(plain(declared) or [], (plain(live) or {}).get("services") or [])


def _report(findings) -> list[str]:
    return report_lines(plain(findings) or [])


def _summary(vrrp, vips) -> list[str]:
    return summary(_nodes(vrrp, vips))


class FilterModule:
    def filters(self):
        return {"audit_findings": _findings, "audit_report": _report, "audit_summary": _summary,
                "audit_health_probes": _probes, "audit_realserver_sysctls": _sysctls}
