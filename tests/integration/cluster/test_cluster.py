"""An LVS cluster in one mode (LVS_CLUSTER_MODE: dr, nat or tun) on fresh lab guests, proven with
real requests from the client guest.

scripts/run-tests (stage `cluster`) runs this file once per mode, each time in a new lab: dir1
holds the VIPs, rs1 and rs2 answer with their names, the client sends the requests. DR runs the
README's `site.yml`; NAT and TUN run playbooks/lvs_nat.yml and lvs_tun.yml.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODE = os.environ.get("LVS_CLUSTER_MODE", "dr")
# Per mode, as in inventories/lab/group_vars: VIPs, the real servers' addresses, forwarding and its
# ipvsadm flag, and the playbook that builds the cluster.
MODES = {
    "dr": {"vip": "192.0.2.50", "vip_fwmark": "192.0.2.51", "rs": ["192.0.2.21", "192.0.2.22"],
           "forwarding": "route", "flag": "-g", "playbook": "site.yml"},
    "tun": {"vip": "192.0.2.60", "vip_fwmark": "192.0.2.61", "rs": ["198.51.100.21", "198.51.100.22"],
            "forwarding": "tunnel", "flag": "-i", "playbook": "playbooks/lvs_tun.yml"},
    "nat": {"vip": "203.0.113.50", "vip_fwmark": "203.0.113.51", "rs": ["198.51.100.21", "198.51.100.22"],
            "forwarding": "masquerade", "flag": "-m", "playbook": "playbooks/lvs_nat.yml"},
}
CLUSTER = MODES[MODE]
VIP = CLUSTER["vip"]
DIRECTOR_BACK = "198.51.100.11"
REQUESTS = 200


def lab(*args: str) -> str:
    result = subprocess.run([str(ROOT / "tools/lab"), *args], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"tools/lab {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def recap(output: str) -> dict:
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def requests(url: str, count: int) -> collections.Counter:
    """`count` requests from the client, one at a time; each answer is a real server's name."""
    loop = f"for i in $(seq {count}); do curl -s --max-time 2 {url} || echo FAILED; done"
    return collections.Counter(lab("ssh", "client", loop).split())


def director_stats(service: str) -> dict:
    out = lab("ssh", "dir1", f"ipvsadm -Ln --stats --exact -t {service}")
    line = next(row for row in out.splitlines() if row.startswith("TCP"))
    conns, inpkts, outpkts = (int(value) for value in line.split()[2:5])
    return {"conns": conns, "inpkts": inpkts, "outpkts": outpkts}


def realserver_state(host: str) -> dict:
    """What the mode's real-server role holds on `host`, read live."""
    return {
        "lo": lab("ssh", host, "ip -o -4 addr show dev lo"),
        "tunl0": lab("ssh", host, "ip -o -4 addr show dev tunl0 2>/dev/null; true"),
        "routes": lab("ssh", host, "ip -4 route show table main"),
        "arp": lab("ssh", host, "sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce").split(),
        "rp_filter": lab("ssh", host, "sysctl -n net.ipv4.conf.all.rp_filter").strip(),
    }


def assert_realserver_holds_the_mode(host: str) -> None:
    state = realserver_state(host)
    if MODE == "dr":
        assert f"{VIP}/32" in state["lo"] and state["arp"] == ["1", "2"], state
    elif MODE == "tun":
        assert f"{VIP}/32" in state["tunl0"] and state["arp"] == ["1", "2"] and state["rp_filter"] == "0", state
    else:
        assert f"default via {DIRECTOR_BACK} " in state["routes"], state


@pytest.fixture(scope="module")
def cluster(playbook):
    first = playbook(CLUSTER["playbook"])
    second = playbook(CLUSTER["playbook"])
    return first.stdout, second.stdout


def test_second_run_changes_nothing(cluster):
    first, second = cluster
    assert set(recap(first)) >= {"dir1", "dir2", "rs1", "rs2"}
    assert recap(second) and all(changed == 0 for changed in recap(second).values()), recap(second)


@pytest.mark.skipif(MODE != "dr", reason="once is enough: the roles are the same in every mode")
def test_check_mode_on_the_built_cluster_reports_nothing_to_do(cluster, playbook):
    checked = playbook(CLUSTER["playbook"], "--check", "--diff")
    assert recap(checked.stdout) and all(changed == 0 for changed in recap(checked.stdout).values()), \
        recap(checked.stdout)


def test_wrr_one_to_three_and_where_replies_go(cluster):
    before = director_stats(f"{VIP}:80")
    counts = requests(f"http://{VIP}/", REQUESTS)
    after = director_stats(f"{VIP}:80")
    delta = {key: after[key] - before[key] for key in before}
    print(f"\nLVS-{MODE.upper()} wrr 1:3, {REQUESTS} requests from the client: {dict(counts)}; "
          f"director stats +{delta}")
    assert counts["FAILED"] == 0
    assert set(counts) == {"rs1", "rs2"}
    assert abs(counts["rs2"] / REQUESTS - 0.75) <= 0.10
    # A reused client port can land on a connection entry still in TIME_WAIT, so conns may be a little lower.
    assert delta["inpkts"] >= REQUESTS
    if MODE == "nat":
        # Every reply (at least SYN-ACK and the response) comes back through the director.
        assert delta["outpkts"] >= 2 * REQUESTS
    else:
        assert after["outpkts"] == 0


def test_source_hashing_keeps_one_client_on_one_real_server(cluster):
    counts = requests(f"http://{VIP}:8080/", 40)
    print(f"\nsh on {VIP}:8080, 40 requests from one client: {dict(counts)}")
    assert counts["FAILED"] == 0
    assert len(counts) == 1 and sum(counts.values()) == 40


def test_firewall_mark_keeps_a_client_on_one_real_server_across_ports(cluster):
    loop = ("for i in $(seq 20); do for port in 80 8080; do "
            f"curl -s --max-time 2 http://{CLUSTER['vip_fwmark']}:$port/ || echo FAILED; done; done")
    counts = collections.Counter(lab("ssh", "client", loop).split())
    print(f"\nfwmark 10 (ports 80 and 8080, persistent 600 s), 40 requests from one client: {dict(counts)}")
    assert counts["FAILED"] == 0
    assert len(counts) == 1 and sum(counts.values()) == 40


def test_table_as_declared(cluster):
    info = json.loads(lab("exec", "--", str(ROOT / ".venv/bin/ansible"), "dir1", "-m", "linux_cluster.lvs.ipvs_info",
                          "-o").split(" => ", 1)[1])
    services = {svc["name"]: svc for svc in info["services"]}
    assert set(services) == {f"tcp {VIP}:80", f"tcp {VIP}:8080", "fwmark 10"}
    web = services[f"tcp {VIP}:80"]
    assert web["scheduler"] == "wrr"
    assert [(rs["address"], rs["weight"], rs["forwarding"]) for rs in web["realservers"]] == \
        [(CLUSTER["rs"][0], 1, CLUSTER["forwarding"]), (CLUSTER["rs"][1], 3, CLUSTER["forwarding"])]
    assert services[f"tcp {VIP}:8080"]["scheduler"] == "sh"
    assert services["fwmark 10"]["persistence_timeout"] == 600
    assert len(services["fwmark 10"]["realservers"]) == 2


def test_realservers_hold_the_mode(cluster):
    for host in ("rs1", "rs2"):
        assert_realserver_holds_the_mode(host)


@pytest.mark.skipif(MODE != "nat", reason="LVS-NAT only")
def test_nat_director_masquerades_the_realservers_own_traffic(cluster):
    rule = "POSTROUTING -s 198.51.100.0/24 ! -d 198.51.100.0/24"
    assert rule in lab("ssh", "dir1", "iptables-legacy -t nat -S POSTROUTING")
    # The client has no route to the real servers' network: only a masqueraded ping gets an answer.
    out = lab("ssh", "rs1", "ping -c 3 -W 2 203.0.113.100 | tail -2")
    print(f"\nrs1 -> client through the director's masquerade: {out.strip()}")
    assert " 0% packet loss" in out


def test_reboot_keeps_the_cluster_without_ansible(cluster):
    lab("restart", "dir1", "rs1")
    saved = lab("ssh", "dir1", "ipvsadm -Sn")
    assert f"-a -t {VIP}:80 -r {CLUSTER['rs'][0]}:80 {CLUSTER['flag']} -w 1" in saved
    assert "MARK --set-xmark 0xa/0xffffffff" in lab("ssh", "dir1", "iptables-legacy -t mangle -S PREROUTING")
    assert f"{VIP}/32" in lab("ssh", "dir1", "ip -o -4 addr")
    assert_realserver_holds_the_mode("rs1")
    counts = requests(f"http://{VIP}/", REQUESTS)
    print(f"\nafter power-cycling dir1 and rs1: {dict(counts)}")
    assert counts["FAILED"] == 0 and set(counts) == {"rs1", "rs2"}


@pytest.mark.skipif(MODE != "nat", reason="LVS-NAT only")
def test_nat_realserver_refuses_to_cut_the_ansible_connection(cluster, playbook):
    # Make rs2 reach the controller through its default route (a device route, so the connection lives).
    device = re.search(r" dev (\S+)", lab("ssh", "rs2", "ip -o route get 192.0.2.1")).group(1)
    lab("ssh", "rs2", f"ip route del 192.0.2.0/24 dev {device} && ip route replace default dev {device}")
    try:
        before = lab("ssh", "rs2", "ip -4 route show table main")
        result = playbook(CLUSTER["playbook"], "--limit", "rs2", ok=False)
        after = lab("ssh", "rs2", "ip -4 route show table main")
    finally:
        lab("ssh", "rs2", f"ip route add 192.0.2.0/24 dev {device} proto kernel scope link src 192.0.2.22; "
            "systemctl restart lvs-realserver-nat.service")
    assert result.returncode != 0
    assert "refusing to route this real server's default traffic through 198.51.100.11" in result.stdout
    assert "the Ansible controller 192.0.2.1 is reached through the current default route" in result.stdout
    assert before == after and f"default dev {device}" in after
    assert_realserver_holds_the_mode("rs2")


def test_realserver_role_absent_restores(cluster, playbook):
    playbook(CLUSTER["playbook"], "--limit", "rs1", "-e", f"lvs_realserver_{MODE}_state=absent")
    state = realserver_state("rs1")
    if MODE == "dr":
        assert VIP not in state["lo"] and state["arp"] == ["0", "0"], state
    elif MODE == "tun":
        assert VIP not in state["tunl0"] and state["arp"] == ["0", "0"], state
        assert lab("ssh", "rs1", "ls /etc/modules-load.d/").split().count("lvs-realserver-tun.conf") == 0
    else:
        assert f"via {DIRECTOR_BACK}" not in state["routes"], state
