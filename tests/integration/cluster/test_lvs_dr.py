"""An LVS-DR cluster from site.yml on fresh lab guests, proven with real requests.

Runs in its own lab (scripts/run-tests stage `cluster`): dir1 holds the VIP, rs1 and rs2
answer with their names, the client guest sends the requests.
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VIP = "192.0.2.50"
REQUESTS = 200


def lab(*args: str) -> str:
    result = subprocess.run([str(ROOT / "tools/lab"), *args], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"tools/lab {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def recap(output: str) -> dict:
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def spread() -> collections.Counter:
    loop = f"for i in $(seq {REQUESTS}); do curl -s --max-time 2 http://{VIP}/ || echo FAILED; done"
    return collections.Counter(lab("ssh", "client", loop).split())


def director_stats() -> dict:
    out = lab("ssh", "dir1", f"ipvsadm -Ln --stats --exact -t {VIP}:80")
    line = next(row for row in out.splitlines() if row.startswith("TCP"))
    conns, inpkts, outpkts = (int(value) for value in line.split()[2:5])
    return {"conns": conns, "inpkts": inpkts, "outpkts": outpkts}


@pytest.fixture(scope="module")
def cluster(playbook):
    first = playbook("site.yml")
    second = playbook("site.yml")
    return first.stdout, second.stdout


def test_second_run_changes_nothing(cluster):
    first, second = cluster
    assert set(recap(first)) >= {"dir1", "dir2", "rs1", "rs2"}
    assert recap(second) and all(changed == 0 for changed in recap(second).values()), recap(second)


def test_wrr_one_to_three_and_replies_bypass_the_director(cluster):
    before = director_stats()
    counts = spread()
    after = director_stats()
    print(f"\nLVS-DR wrr 1:3, {REQUESTS} requests from the client: {dict(counts)}; director stats "
          f"conns +{after['conns'] - before['conns']}, inpkts +{after['inpkts'] - before['inpkts']}, "
          f"outpkts +{after['outpkts'] - before['outpkts']}")
    assert counts["FAILED"] == 0
    assert set(counts) == {"rs1", "rs2"}
    assert abs(counts["rs2"] / REQUESTS - 0.75) <= 0.10
    # A reused client port can land on a connection entry still in TIME_WAIT, so conns may be a little lower.
    assert after["inpkts"] - before["inpkts"] >= REQUESTS
    assert after["outpkts"] == 0


def test_firewall_mark_keeps_a_client_on_one_real_server_across_ports(cluster):
    loop = ("for i in $(seq 20); do for port in 80 8080; do "
            "curl -s --max-time 2 http://192.0.2.51:$port/ || echo FAILED; done; done")
    counts = collections.Counter(lab("ssh", "client", loop).split())
    print(f"\nfwmark 10 (ports 80 and 8080, persistent 600 s), 40 requests from one client: {dict(counts)}")
    assert counts["FAILED"] == 0
    assert len(counts) == 1 and sum(counts.values()) == 40


def test_table_as_declared(cluster):
    info = json.loads(lab("exec", "--", str(ROOT / ".venv/bin/ansible"), "dir1", "-m", "linux_cluster.lvs.ipvs_info",
                          "-o").split(" => ", 1)[1])
    web = next(svc for svc in info["services"] if svc["name"] == f"tcp {VIP}:80")
    assert web["scheduler"] == "wrr"
    assert [(rs["address"], rs["weight"], rs["forwarding"]) for rs in web["realservers"]] == \
        [("192.0.2.21", 1, "route"), ("192.0.2.22", 3, "route")]
    marked = next(svc for svc in info["services"] if svc["name"] == "fwmark 10")
    assert marked["persistence_timeout"] == 600 and len(marked["realservers"]) == 2


def test_reboot_keeps_the_cluster_without_ansible(cluster):
    lab("restart", "dir1", "rs1")
    assert "-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1" in lab("ssh", "dir1", "ipvsadm -Sn")
    assert "MARK --set-xmark 0xa/0xffffffff" in lab("ssh", "dir1", "iptables-legacy -t mangle -S PREROUTING")
    assert f"{VIP}/32" in lab("ssh", "rs1", "ip -o addr show dev lo")
    assert lab("ssh", "rs1", "sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce").split() == \
        ["1", "2"]
    counts = spread()
    print(f"\nafter power-cycling dir1 and rs1: {dict(counts)}")
    assert counts["FAILED"] == 0 and set(counts) == {"rs1", "rs2"}


def test_realserver_role_absent_restores(cluster, playbook):
    playbook("playbooks/lvs_dr.yml", "--limit", "rs1", "-e", "lvs_realserver_dr_state=absent")
    assert VIP not in lab("ssh", "rs1", "ip -o addr show dev lo")
    assert lab("ssh", "rs1", "sysctl -n net.ipv4.conf.all.arp_ignore").strip() == "0"
