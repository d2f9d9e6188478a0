"""The collection reads the IPVS table over generic netlink where the kernel offers it (module_utils/_ipvs_netlink.py).
Proven against ipvsadm on a lab guest: a table with every kind of service and real server the modules declare,
restored by ipvsadm, is read over netlink (ipvs_info) and printed by `ipvsadm -Sn` and `-Ln --thresholds`, which
the collection's ipvsadm reader turns into the same form; both must be equal, attribute by attribute."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".build/collections"))

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_runner  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import ordered, rs_key  # noqa: E402

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


def test_the_table_over_netlink_is_the_table_ipvsadm_prints(playbook, tmp_path, monkeypatch):
    figures = tmp_path / "both.json"
    given = tmp_path / "vars.json"
    given.write_text(json.dumps({"rules": RULES, "figures_file": str(figures)}))
    playbook("tests/integration/netlink_table.yml", "-e", f"@{given}")
    both = json.loads(figures.read_text())
    monkeypatch.setattr(_ipvs_runner, "READ_OVER_NETLINK", False)
    table, connections = _ipvs_runner.IPVSAdm(Printed({"-Sn": both["saved"], "-Ln --thresholds": both["thresholds"]})
                                              ).read_table_and_connections()
    printed = _ipvs_runner.services_result(table)
    for svc, key in zip(printed, ordered(table)):
        for rs in svc["realservers"]:
            rs.update(connections[(key, rs_key(rs))])
    assert len(printed) == 6 and sum(len(svc["realservers"]) for svc in printed) == 8, printed
    assert both["netlink"] == printed
