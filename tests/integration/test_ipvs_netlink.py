"""The collection reads the IPVS table, and changes real servers, over generic netlink where the kernel offers it
(module_utils/_ipvs_netlink.py). Proven against ipvsadm on a lab guest: a table with every kind of service and real
server the modules declare, restored by ipvsadm, is read over netlink (ipvs_info) and printed by `ipvsadm -Sn` and
`-Ln --thresholds`, which the collection's ipvsadm reader turns into the same form; both must be equal, attribute
by attribute. And from a table that differs in real servers only, ipvs_rules' adds, edits and deletes (made over
netlink) must leave what ipvsadm prints equal to that table as declared."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".build/collections"))

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_runner  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import ordered, rs_key  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import parse_save  # noqa: E402

RULES = """\
-A -t 192.0.2.50:80 -s wrr
-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1 -x 100 -y 50
-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 0
-A -t 192.0.2.51:443 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0
-a -t 192.0.2.51:443 -r 198.51.100.21:443 -i -w 2
-a -t 192.0.2.51:443 -r 198.51.100.22:443 -i --tun-type gue --tun-port 6080 --tun-csum -w 1
-a -t 192.0.2.51:443 -r 198.51.100.23:443 -i --tun-type gre -w 1
-A -u 192.0.2.53:53 -s rr -o
-a -u 192.0.2.53:53 -r 198.51.100.24:5353 -m -w 3
-A -f 10 -s mh -b mh-port -p 300
-a -f 10 -r 192.0.2.21:0 -g -w 1
-A -f 11 -6 -s lc
-A -t [2001:db8:0:2::50]:80 -s wlc -p 120 -M 64
-a -t [2001:db8:0:2::50]:80 -r [2001:db8:0:2::15]:80 -g -w 5 -x 10
"""


class Printed:
    """What AnsibleModule gives IPVSAdm, answering its reads with what ipvsadm printed on the guest."""

    def __init__(self, outputs: dict):
        self.outputs = outputs

    def get_bin_path(self, name, required=False):
        return f"/usr/sbin/{name}"

    def run_command(self, argv, **_kwargs):
        return 0, self.outputs[" ".join(argv[1:])], ""


def printed_table(saved: str, thresholds: str) -> tuple[dict, dict]:
    """The table and connection counts as the collection's ipvsadm reader turns what ipvsadm printed."""
    return _ipvs_runner.IPVSAdm(Printed({"-Sn": saved, "-Ln --thresholds": thresholds})).read_table_and_connections()


def test_the_table_over_netlink_is_the_table_ipvsadm_prints(playbook, tmp_path, monkeypatch):
    figures = tmp_path / "both.json"
    given = tmp_path / "vars.json"
    given.write_text(json.dumps({"rules": RULES, "figures_file": str(figures)}))
    playbook("tests/integration/netlink_table.yml", "-e", f"@{given}")
    both = json.loads(figures.read_text())
    monkeypatch.setattr(_ipvs_runner, "OVER_NETLINK", False)
    table, connections = printed_table(both["saved"], both["thresholds"])
    printed = _ipvs_runner.services_result(table)
    for svc, key in zip(printed, ordered(table)):
        for rs in svc["realservers"]:
            rs.update(connections[(key, rs_key(rs))])
    assert len(printed) == 6 and sum(len(svc["realservers"]) for svc in printed) == 8, printed
    assert both["netlink"] == printed


# RULES with its real servers changed: one missing of each kind (added: direct routing with thresholds, GUE with a
# checksum, IPv6), two with other settings (edited: weight, GRE's checksum), one more (deleted).
START = (RULES.replace("-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1 -x 100 -y 50\n", "")
         .replace("-a -t 192.0.2.51:443 -r 198.51.100.22:443 -i --tun-type gue --tun-port 6080 --tun-csum -w 1\n", "")
         .replace("-a -t [2001:db8:0:2::50]:80 -r [2001:db8:0:2::15]:80 -g -w 5 -x 10\n", "")
         .replace("-r 198.51.100.21:443 -i -w 2", "-r 198.51.100.21:443 -i -w 9")
         .replace("--tun-type gre -w 1", "--tun-type gre --tun-csum -w 1")
         + "-a -u 192.0.2.53:53 -r 198.51.100.25:5353 -m -w 1\n")


def declared(rules: str) -> list[dict]:
    """An ipvsadm -R script as ipvs_rules' `services` (a netmask only where persistence is declared)."""
    services = []
    for svc in _ipvs_runner.services_result(parse_save(rules)):
        if svc["persistence_timeout"] is None:
            svc["persistence_netmask"] = None
        svc = {name: value for name, value in svc.items() if value is not None and name != "name"}
        svc["realservers"] = [{name: value for name, value in rs.items() if value is not None}
                              for rs in svc["realservers"]]
        services.append(svc)
    return services


def test_realserver_changes_over_netlink_leave_the_declared_table(playbook, tmp_path, monkeypatch):
    figures = tmp_path / "after.json"
    given = tmp_path / "vars.json"
    given.write_text(json.dumps({"start": START, "services": declared(RULES), "figures_file": str(figures)}))
    playbook("tests/integration/netlink_changes.yml", "-e", f"@{given}")
    after = json.loads(figures.read_text())
    assert sorted(command.split()[1] for command in after["commands"]) == ["-a", "-a", "-a", "-d", "-e", "-e"], after
    assert after["again"] == []
    monkeypatch.setattr(_ipvs_runner, "OVER_NETLINK", False)
    table, _connections = printed_table(after["saved"], after["thresholds"])
    assert _ipvs_runner.services_result(table) == _ipvs_runner.services_result(parse_save(RULES))
