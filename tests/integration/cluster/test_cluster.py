"""An LVS cluster in one mode (LVS_CLUSTER_MODE: dr, nat or tun) on the lab's five guests, proven
with real requests from the client guest.

scripts/run-tests (stage `cluster`) runs this file once per mode, dr then tun then nat, on one lab:
dir1 holds the VIPs, rs1 and rs2 answer with their names, the client sends the requests. Each mode
first takes away what another mode's real-server role left on the real servers, through that role's
own `absent` state (checked), then builds its cluster. DR runs `site.yml`, NAT and TUN playbooks/lvs_nat.yml and
lvs_tun.yml, each with the lab's switch to a static table (conftest.py), from which the director pair's cases
start.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import threading
import time

import pytest
from labhelp import ROOT, answers, assert_refused_unchanged, host_state, lab, recap, requests, run_audit
from vipwatch import RESULTS, Watch, clock_offset, journal_since, report
from vipwatch import holder as holder_of
from vipwatch import wait_for_holders as wait_for_holder

MODE = os.environ.get("LVS_CLUSTER_MODE", "dr")
# Per mode, as in inventories/lab/group_vars: VIPs, the real servers' addresses, forwarding and its
# ipvsadm flag, the playbook that builds the cluster, and the unit its real-server role leaves.
MODES = {
    "dr": {"vip": "192.0.2.50", "vip_fwmark": "192.0.2.51", "rs": ["192.0.2.21", "192.0.2.22"],
           "forwarding": "route", "flag": "-g", "playbook": "site.yml", "unit": "lvs-realserver-vip"},
    "tun": {"vip": "192.0.2.60", "vip_fwmark": "192.0.2.61", "rs": ["198.51.100.21", "198.51.100.22"],
            "forwarding": "tunnel", "flag": "-i", "playbook": "playbooks/lvs_tun.yml", "unit": "lvs-realserver-tun"},
    "nat": {"vip": "203.0.113.50", "vip_fwmark": "203.0.113.51", "rs": ["198.51.100.21", "198.51.100.22"],
            "forwarding": "masquerade", "flag": "-m", "playbook": "playbooks/lvs_nat.yml",
            "unit": "lvs-realserver-nat"},
}
CLUSTER = MODES[MODE]
VIP = CLUSTER["vip"]
DIRECTOR_BACK = "198.51.100.11"
# LVS-NAT as a director pair: the real servers' gateway the pair floats on the back network with the VIPs.
DIP = "198.51.100.10"
FLOATING = (VIP, DIP) if MODE == "nat" else (VIP,)
REALSERVERS = ("rs1", "rs2")
REQUESTS = 200


def wait_until_served(address: str, timeout: float = 90) -> float:
    """After a boot: poll until a round of requests through `address` is answered by every real server
    (the units that restore the cluster have run); the seconds it took. Fails after `timeout`."""
    start = time.monotonic()
    while True:
        got = answers(address, 4)
        if "FAILED" not in got and set(got) == set(REALSERVERS):
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, f"{address} not served by both real servers after {timeout} s: {got}"


# The kernel's IPVS estimator folds the per-CPU counters into what `--stats` shows every 2 s.
STATS_PERIOD = 2.5


def director_stats(service: str, timeout: float = 20, director: str = "dir1") -> dict:
    """The director's counters of `service` once they have settled: two reads an estimator period
    apart agree (counters read right after a burst of requests lag behind it)."""
    def read() -> dict:
        out = lab("ssh", director, f"ipvsadm -Ln --stats --exact -t {service}")
        line = next(row for row in out.splitlines() if row.startswith("TCP"))
        conns, inpkts, outpkts = (int(value) for value in line.split()[2:5])
        return {"conns": conns, "inpkts": inpkts, "outpkts": outpkts}

    deadline = time.monotonic() + timeout
    last = read()
    while True:
        time.sleep(STATS_PERIOD)
        now = read()
        if now == last or time.monotonic() > deadline:
            return now
        last = now


def realserver_state(host: str) -> dict:
    """What the real-server roles hold on `host`, read live in one SSH call."""
    parts = lab("ssh", host, "ip -o -4 addr show dev lo; echo @@; ip -o -4 addr show dev tunl0 2>/dev/null; echo @@; "
                "ip -4 route show table main; echo @@; sysctl -n net.ipv4.conf.all.arp_ignore "
                "net.ipv4.conf.all.arp_announce; echo @@; sysctl -n net.ipv4.conf.all.rp_filter; echo @@; "
                "ls /etc/systemd/system /etc/modules-load.d").split("@@")
    return {"lo": parts[0], "tunl0": parts[1], "routes": parts[2], "arp": parts[3].split(),
            "rp_filter": parts[4].strip(), "files": parts[5].split()}


def assert_realserver_holds_the_mode(host: str) -> None:
    state = realserver_state(host)
    if MODE == "dr":
        assert f"{VIP}/32" in state["lo"] and state["arp"] == ["1", "2"], state
    elif MODE == "tun":
        assert f"{VIP}/32" in state["tunl0"] and state["arp"] == ["1", "2"] and state["rp_filter"] == "0", state
    else:
        assert f"default via {DIRECTOR_BACK} " in state["routes"], state


def assert_realserver_released(host: str, mode: str) -> None:
    """What the `absent` state of `mode`'s real-server role leaves on `host`."""
    state, held = realserver_state(host), MODES[mode]
    assert held["unit"] + ".service" not in state["files"], state
    if mode == "dr":
        assert held["vip"] not in state["lo"] and state["arp"] == ["0", "0"], state
    elif mode == "tun":
        assert held["vip"] not in state["tunl0"] and state["arp"] == ["0", "0"], state
        assert "lvs-realserver-tun.conf" not in state["files"], state
    else:
        assert f"via {DIRECTOR_BACK}" not in state["routes"], state


def timed_playbook(playbook, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = playbook(*args)
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def other_modes_removed(playbook):
    """Real servers still holding another mode are released through that mode's role, state=absent."""
    removed = {}
    states = {host: realserver_state(host) for host in REALSERVERS}
    for mode, other in MODES.items():
        holders = [host for host in REALSERVERS if other["unit"] + ".service" in states[host]["files"]]
        if mode != MODE and holders:
            playbook(other["playbook"], "--limit", ",".join(holders), "-e", f"lvs_realserver_{mode}_state=absent")
            removed[mode] = holders
    return removed


@pytest.fixture(scope="module")
def cluster(playbook, other_modes_removed):
    first, first_s = timed_playbook(playbook, CLUSTER["playbook"])
    second, second_s = timed_playbook(playbook, CLUSTER["playbook"])
    print(f"\n{CLUSTER['playbook']} ({MODE}): first run {first_s:.0f} s, re-run {second_s:.0f} s "
          f"({100 * second_s / first_s:.0f} % of the first)"
          + (f"; before it, {other_modes_removed} released through their roles' absent state"
             if other_modes_removed else ""))
    return first, second


def test_other_modes_were_released_by_their_absent_state(other_modes_removed):
    for mode, hosts in other_modes_removed.items():
        for host in hosts:
            assert_realserver_released(host, mode)


def test_second_run_changes_nothing(cluster):
    first, second = cluster
    assert set(recap(first)) >= {"dir1", "dir2", "rs1", "rs2"}
    assert recap(second) and all(changed == 0 for changed in recap(second).values()), recap(second)


def test_the_audit_finds_nothing_on_the_built_cluster(cluster, playbook):
    """playbooks/audit.yml: both directors' static tables as declared, the real servers holding the mode."""
    result, findings, seconds = run_audit(playbook, "-e", f"lvs_mode={MODE}", "-e", "audit_prerequisites=false")
    print(f"\nthe audit ({MODE}, static table): {len(findings)} findings in {seconds:.0f} s")
    assert findings == [] and "no findings" in result.stdout, findings


@pytest.mark.skipif(MODE != "dr", reason="once is enough: the roles are the same in every mode")
def test_check_mode_on_the_built_cluster_reports_nothing_to_do(cluster, playbook):
    checked = playbook(CLUSTER["playbook"], "--check", "--diff")
    assert recap(checked) and all(changed == 0 for changed in recap(checked).values()), \
        recap(checked)


# Per mode, what the real-server role must refuse, and what it must say: site.yml's first play runs every
# role's preflight (any_errors_fatal), so nothing reaches a host, not even the real servers' web pages.
BAD_REALSERVER = {
    "dr": ({"lvs_realserver_dr_vips": ["192.0.2.50", "1.2"], "lvs_realserver_dr_arp_interfaces": ["all", "lo; x"]},
           ["rs1: lvs_realserver_dr_vips[1]='1.2': not an IP address (host names are not accepted)",
            "rs2: lvs_realserver_dr_arp_interfaces='lo; x': not an interface name"]),
    "tun": ({"lvs_realserver_tun_vips": ["2001:db8:0:2::60", "999.1.1.1"]},
            ["rs1: lvs_realserver_tun_vips[0]='2001:db8:0:2::60': an IPv4 address is required, not IPv6",
             "rs2: lvs_realserver_tun_vips[1]='999.1.1.1': not an IPv4 address (host names are not accepted)"]),
    "nat": ({"lvs_realserver_nat_gateway": ":::"},
            ["rs1: lvs_realserver_nat_gateway=':::': not an IP address (host names are not accepted)"]),
}
BAD_DIRECTOR = ({"lvs_director_services": [{"address": VIP, "port": 80, "scheduler": "wrr",
                                            "realservers": [{"address": "rs1"}, {"address": CLUSTER["rs"][1],
                                                                                 "weight": 70000}]}],
                 "lvs_director_fwmark_rules": [{"mark": 10, "vip": "www", "ports": [80]}],
                 "lvs_director_timeouts": {"tcp": 0}, "lvs_director_vips": [":::"]},
                ["dir1: lvs_director_services[0].realservers[0].address='rs1': not an IP address (host names are not "
                 "accepted)",
                 "dir2: lvs_director_services[0].realservers[1].weight=70000: must be from 0 to 65535",
                 "dir1: lvs_director_timeouts.tcp=0: must be from 1 to 2147483647",
                 "dir2: lvs_director_vips[0]=':::': not an IP address (host names are not accepted)",
                 "dir1: lvs_director_fwmark_rules[0].vip='www': not an IP address (host names are not accepted)"])
CLUSTER_HOSTS = ("dir1", "dir2", "rs1", "rs2")
# The play that checks every input: site.yml's checks every topology's and the prerequisites'; the mode
# playbooks run lvs_cluster.yml's own.
FIRST_PLAY = {"site.yml": "Check every node's input before any host changes",
              "playbooks/lvs_tun.yml": "Check the declared mode and every role's input before any host changes",
              "playbooks/lvs_nat.yml": "Check the declared mode and every role's input before any host changes"}


def refused_without_change(playbook, variables: dict, problems: list[str]) -> None:
    before = {host: host_state(host) for host in CLUSTER_HOSTS}
    refused = playbook(CLUSTER["playbook"], "-e", json.dumps(variables), ok=False)
    assert_refused_unchanged(refused, CLUSTER_HOSTS, before, {host: host_state(host) for host in CLUSTER_HOSTS},
                             problems)
    assert re.findall(r"^PLAY \[(.*)\]", refused.stdout, re.M) == [FIRST_PLAY[CLUSTER["playbook"]]], \
        refused.stdout[-3000:]


def test_bad_realserver_input_changes_no_host(cluster, playbook):
    refused_without_change(playbook, *BAD_REALSERVER[MODE])


@pytest.mark.skipif(MODE != "dr", reason="once is enough: the director role is the same in every mode")
def test_bad_director_input_changes_no_host(cluster, playbook):
    refused_without_change(playbook, *BAD_DIRECTOR)


def test_wrr_one_to_three_and_where_replies_go(cluster):
    before = director_stats(f"{VIP}:80")
    counts = requests(VIP, REQUESTS)
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
    counts = requests(VIP, 40, (8080,))
    print(f"\nsh on {VIP}:8080, 40 requests from one client: {dict(counts)}")
    assert counts["FAILED"] == 0
    assert len(counts) == 1 and sum(counts.values()) == 40


def test_firewall_mark_keeps_a_client_on_one_real_server_across_ports(cluster):
    counts = requests(CLUSTER["vip_fwmark"], 20, (80, 8080))
    print(f"\nfwmark 10 (ports 80 and 8080, persistent 600 s), 40 requests from one client: {dict(counts)}")
    assert counts["FAILED"] == 0
    assert len(counts) == 1 and sum(counts.values()) == 40


def test_table_as_declared(cluster):
    assert_table_as_declared("dir1")


def assert_table_as_declared(director: str) -> None:
    """ipvs_info on `director` reads the table as lvs_director_services declares it (whoever wrote it)."""
    info = json.loads(lab("exec", "--", str(ROOT / ".venv/bin/ansible"), director, "-m",
                          "linux_cluster.lvs.ipvs_info", "-o").split(" => ", 1)[1])
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
    # Three answers wanted within 20 s (-c with -w: ping sends until it has them or the time is up), so
    # a guest stalled by a loaded machine delays the proof but does not fail it; no masquerade, no answer.
    out = lab("ssh", "rs1", "ping -c 3 -w 20 203.0.113.100 | tail -2")
    print(f"\nrs1 -> client through the director's masquerade: {out.strip()}")
    assert re.search(r"\b3 received", out), (
        out, lab("ssh", "rs1", "ip route"), lab("ssh", "dir1", "iptables-legacy -t nat -nvL POSTROUTING"))


def test_reboot_keeps_the_cluster_without_ansible(cluster):
    lab("restart", "dir1", "rs1")
    saved = lab("ssh", "dir1", "ipvsadm -Sn")
    assert f"-a -t {VIP}:80 -r {CLUSTER['rs'][0]}:80 {CLUSTER['flag']} -w 1" in saved
    assert "MARK --set-xmark 0xa/0xffffffff" in lab("ssh", "dir1", "iptables-legacy -t mangle -S PREROUTING")
    assert f"{VIP}/32" in lab("ssh", "dir1", "ip -o -4 addr")
    assert_realserver_holds_the_mode("rs1")
    waited = wait_until_served(VIP)
    got = answers(VIP, REQUESTS)
    counts = collections.Counter(got)
    print(f"\nafter power-cycling dir1 and rs1 (served by both after {waited:.1f} s): {dict(counts)}")
    assert counts["FAILED"] == 0, [index for index, answer in enumerate(got) if answer == "FAILED"]
    assert set(counts) == {"rs1", "rs2"}


# site.yml with the directors as a keepalived pair, the directors' plays alone (the real servers do not change),
# every input checked as always.
PAIR = ("-e", "lvs_directors_ha=true", "--limit", "directors")


@pytest.fixture(scope="module")
def director_pair(cluster, playbook):
    """The DR director pair with the static table, built once (run twice) for the cases that use it; each
    leaves it as it found it. Afterwards back to one director for the modes that follow: keepalived's instance
    and service go."""
    runs = (playbook(CLUSTER["playbook"], *PAIR), playbook(CLUSTER["playbook"], *PAIR))
    yield runs
    for director in ("dir1", "dir2"):
        lab("ssh", director, "systemctl disable --now keepalived; rm -f /etc/keepalived/conf.d/VI_lvs.conf")


@pytest.mark.skipif(MODE != "dr", reason="the director pair is the same in DR and TUN; NAT has its own case")
def test_director_pair_moves_the_vips_while_both_keep_the_table(director_pair):
    """site.yml with lvs_directors_ha=true: keepalived on both directors carries the VIPs (dir1's own VIP
    unit goes), both keep the IPVS table; keepalived stopped on dir1 moves the VIPs and the traffic to dir2, and
    without connection sync an established connection is reset."""
    pair, again = director_pair
    assert recap(again) and all(changed == 0 for changed in recap(again).values()), \
        recap(again)
    assert "lab-Lvs1" not in pair.stdout + again.stdout
    assert "lvs-director-vip.service" not in lab("ssh", "dir1", "ls /etc/systemd/system")
    for vip in (VIP, CLUSTER["vip_fwmark"]):
        wait_for_holder(vip, {"dir1"})
    counts = requests(VIP, 40)
    assert counts["FAILED"] == 0 and set(counts) == {"rs1", "rs2"}, counts
    before = director_stats(f"{VIP}:80", director="dir2")
    watch = Watch(VIP)
    watch.until(set(REALSERVERS))
    lab("ssh", "dir1", "systemctl stop keepalived")
    moved = wait_for_holder(VIP, {"dir2"})
    watch.until(set(REALSERVERS), count=20)
    served_by_dir2 = director_stats(f"{VIP}:80", director="dir2")["conns"] - before["conns"]
    lab("ssh", "dir1", "systemctl start keepalived")
    back = wait_for_holder(VIP, {"dir1"})
    watch.until(set(REALSERVERS), count=20)
    summary = watch.stop()
    report("LVS-DR director pair: keepalived stopped on dir1, then started", summary,
           f" (VIPs on dir2 after {moved:.1f} s, {served_by_dir2} connections through dir2, "
           f"back on dir1 {back:.1f} s after the start)")
    assert served_by_dir2 >= 20
    assert holder_of(CLUSTER["vip_fwmark"]) == {"dir1"}
    counts = requests(CLUSTER["vip_fwmark"], 10, (80, 8080))
    assert counts["FAILED"] == 0 and len(counts) == 1, counts
    # Without connection sync the new master has no entry for an established connection: its next packet is
    # answered with a reset.
    broken = connection_across_failover("LVS-DR, static table, without connection sync", synced=False)
    assert broken["error"] != "", broken


def realserver_rows(table_text: str) -> dict:
    """The real-server rows of `ipvsadm -Ln` output: {address: (weight, ActiveConn)}."""
    return {fields[1].rsplit(":", 1)[0]: (int(fields[3]), int(fields[4]))
            for fields in (line.split() for line in table_text.splitlines())
            if fields and fields[0] == "->" and fields[1][0].isdigit()}


def table_realservers(director: str, service: str) -> dict:
    """The real servers of `service` in `director`'s kernel table: {address: weight}."""
    rows = realserver_rows(lab("ssh", director, f"ipvsadm -Ln -t {service}"))
    return {address: weight for address, (weight, _active) in rows.items()}


def wait_for_table(service: str, wanted, timeout: float = 60) -> float:
    """Poll both directors' tables until `wanted(realservers)` holds on each; the seconds it took."""
    start = time.monotonic()
    while True:
        tables = {director: table_realservers(director, service) for director in ("dir1", "dir2")}
        if all(wanted(table) for table in tables.values()):
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, f"{service} after {timeout} s: {tables}"
        time.sleep(0.2)


# Runs on the client: `count` HTTP/1.1 keep-alive connections to the VIP's port 80, each asked once and then
# every 3 s again, so each stays open as long as the test needs (nginx closes an idle one after 65 s);
# prints OPEN; on a line from stdin asks each a last time with "Connection: close" and prints the answer
# (the real server's name, or FAILED), then DONE.
HELD = r"""
import http.client, select, sys
vip, count = sys.argv[1], int(sys.argv[2])
held = [http.client.HTTPConnection(vip, 80, timeout=20) for _ in range(count)]

def ask(conn, headers=None):
    conn.request("GET", "/", headers=headers or {})
    reply = conn.getresponse()
    body = reply.read().decode().strip()
    return body if reply.status == 200 and body else "FAILED"

for conn in held:
    ask(conn)
print("OPEN", flush=True)
while not select.select([sys.stdin], [], [], 3)[0]:
    for conn in held:
        ask(conn)
sys.stdin.readline()
for conn in held:
    try:
        print(ask(conn, {"Connection": "close"}), flush=True)
    except (OSError, http.client.HTTPException):
        print("FAILED", flush=True)
    conn.close()
print("DONE", flush=True)
"""


# Runs on the client: one HTTP/1.1 keep-alive connection to the VIP, a request every 0.2 s on it, until a
# line arrives on stdin or `limit` s; prints "TIME ANSWER LOCALPORT" per request, "TIME ERROR KIND" and stops
# at the first failure (a connection the new director does not know is reset), then END.
KEEPALIVE = r"""
import http.client, select, sys, time
vip, limit = sys.argv[1], float(sys.argv[2])
conn, end = http.client.HTTPConnection(vip, 80, timeout=3), time.monotonic() + limit
while time.monotonic() < end and not select.select([sys.stdin], [], [], 0)[0]:
    try:
        conn.request("GET", "/")
        reply = conn.getresponse()
        body = reply.read().decode().strip()
        print(f"{time.time():.3f} {body} {conn.sock.getsockname()[1] if conn.sock else 0}", flush=True)
    except (OSError, http.client.HTTPException) as error:
        print(f"{time.time():.3f} ERROR {type(error).__name__}", flush=True)
        break
    time.sleep(0.2)
print("END", flush=True)
"""


def front_interface(director: str) -> str:
    """The director's interface on the front network (where the VIPs and the VRRP adverts are)."""
    return lab("ssh", director, "ip -o -4 addr show to 192.0.2.0/24 | awk '{print $2; exit}'").strip()


def sync_daemons(director: str) -> str:
    """The IPVS connection-sync daemons the director's kernel runs (ipvsadm's lines; empty: none)."""
    return lab("ssh", director, "ipvsadm -L --daemon").strip()


def assert_synced_by_time(director: str) -> None:
    """Connection sync as keepalived_ha sets it: connections sent by time (every 2 s while active), and a returning
    node's instances wait 5 s before they take the VIPs back, until the master's connections have reached it."""
    assert lab("ssh", director, "sysctl -n net.ipv4.vs.sync_threshold net.ipv4.vs.sync_refresh_period").split() \
        == ["3", "0", "2"]
    delays = lab("ssh", director, "grep -h preempt_delay /etc/keepalived/conf.d/VI_*.conf").split()
    assert delays and set(delays) == {"preempt_delay", "5"}, delays


def untranslated_replies_dropped(director: str) -> int:
    """Packets the director's masquerade unit dropped as replies IPVS did not translate (its mangle rule)."""
    rows = lab("ssh", director, "iptables-legacy -t mangle -nvxL POSTROUTING").splitlines()
    return sum(int(row.split()[0]) for row in rows if "untranslated reply" in row)


def connection_across_failover(case: str, synced: bool) -> dict:
    """One keep-alive connection from the client through the VIP while keepalived stops on dir1 (the VIP
    and the traffic move to dir2) and starts again: requests answered on it after the move, the first
    error, whether it stayed one connection."""
    lab("ssh", "client", "cat > /root/keepalive.py", stdin=KEEPALIVE)
    since = time.time()
    client = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", "client", "python3", "/root/keepalive.py", VIP, "90"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []

    def read(count: int) -> None:
        for _line in range(count):
            line = client.stdout.readline().strip()
            lines.append(line)
            if not line or "ERROR" in line or line == "END":
                return

    read(5)
    port = lines[0].split()[2]
    # The master sends a connection in its next batch (the kernel flushes a partly filled one after 2 s):
    # with sync, wait until dir2 has it; without, dir2 never learns it.
    start, synced_after = time.monotonic(), None
    while synced:
        if f":{port} " in lab("ssh", "dir2", "ipvsadm -Lnc | grep ESTABLISHED || true"):
            synced_after = time.monotonic() - start
            break
        assert time.monotonic() - start < 20, "dir2 never received the connection from dir1's sync daemon"
        time.sleep(0.2)
    if not synced:
        # (An entry of an earlier, closed connection from the same client port may still be there.)
        assert f":{port} " not in lab("ssh", "dir2", "ipvsadm -Lnc | grep ESTABLISHED || true")
        assert sync_daemons("dir1") == sync_daemons("dir2") == ""
    lab("ssh", "dir1", "systemctl stop keepalived")
    moved = wait_for_holder(VIP, {"dir2"})
    for address in FLOATING[1:]:
        wait_for_holder(address, {"dir2"}, timeout=10)
    before = len(lines)
    read(15)
    after = len([line for line in lines[before:] if len(line.split()) == 3 and "ERROR" not in line])
    lab("ssh", "dir1", "systemctl start keepalived")
    back = wait_for_holder(VIP, {"dir1"})
    for address in FLOATING[1:]:
        wait_for_holder(address, {"dir1"}, timeout=10)
    read(10)
    try:
        rest = client.communicate("stop\n", timeout=30)[0]
    except BrokenPipeError:  # the client ended at the first error
        rest = client.communicate(timeout=30)[0]
    lines += rest.split("\n")
    error = next((line.split()[2] for line in lines if " ERROR " in line), "")
    ports = {line.split()[2] for line in lines if len(line.split()) == 3 and "ERROR" not in line}
    result = {"after": after, "error": error, "one_connection": len(ports) == 1,
              "answers": len([line for line in lines if len(line.split()) == 3 and "ERROR" not in line])}
    print(f"\nan established keep-alive connection across a director failover, {case}: {result['answers']} "
          f"requests answered on it, {after} of them after the VIP moved to dir2 ({moved:.1f} s), "
          f"{'broken: ' + error if error else 'never broken'}, one connection: {result['one_connection']} "
          f"(VIP back on dir1 {back:.1f} s after its start"
          + (f"; on dir2 by sync {synced_after:.1f} s after the first answers)" if synced else ")"))
    RESULTS.append(f"keep-alive connection across a director failover, {case}: {after} requests after the move, "
                   f"{'broken (' + error + ')' if error else 'kept'}")
    if error:
        print(failover_timeline(since, lines, port))
    return result


# What the directors log of a failover: VRRP transitions, keepalived's start and stop, its IPVS changes and sync.
DIRECTOR_STEPS = re.compile(r"Entering \w+ STATE|Stopping|Stopped|Starting|Started|sync|Removing|Adding|"
                            r"Gratuitous|preempt|delay", re.IGNORECASE)


def failover_timeline(since: float, lines: list[str], port: str) -> str:
    """A broken connection's story on the host's clock (each guest's times less its offset): the client's answers
    and error, the directors' keepalived events, and what each director's table holds of the connection now."""
    offset = clock_offset("client")
    steps = [(float(line.split()[0]) - offset, "client", " ".join(line.split()[1:])) for line in lines
             if line and line[0].isdigit()]
    for name in ("dir1", "dir2"):
        steps += [(stamp, name, rest.split(": ", 1)[-1]) for stamp, rest in journal_since(name, since, "-u keepalived")
                  if DIRECTOR_STEPS.search(rest)]
    held = {name: lab("ssh", name, f"ipvsadm -Lnc | grep ':{port} ' || true").strip() or "nothing"
            for name in ("dir1", "dir2")}
    return ("the broken connection, step by step:\n"
            + "\n".join(f"  +{stamp - since:6.2f} s {name}: {text}" for stamp, name, text in sorted(steps))
            + "".join(f"\n  {name}'s connections from port {port} now: {text}" for name, text in held.items()))


# Runs on dir1, started and ended by the test: answers every GET with "sorry" (the sorry server).
SORRY = r"""
import http.server

class Sorry(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"sorry\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("0.0.0.0", 80), Sorry).serve_forever()
"""


def both_down_then_one_back(service: str) -> None:
    """nginx stopped on both real servers: keepalived puts the sorry server (127.0.0.1, this director) in the
    table and it answers; rs1 back: the sorry server leaves and rs1 answers; then rs2 too."""
    rs1, rs2 = CLUSTER["rs"]
    lab("ssh", "dir1", "cat > /root/sorry.py", stdin=SORRY)
    pid = lab("ssh", "dir1", "setsid python3 /root/sorry.py >/dev/null 2>&1 < /dev/null & echo $!").strip()
    try:
        lab("ssh", "rs1", "systemctl stop nginx")
        lab("ssh", "rs2", "systemctl stop nginx")
        sorry = wait_for_table(service, lambda table: set(table) == {"127.0.0.1"})
        counts = requests(VIP, 20)
        print(f"\nnginx stopped on rs1 and rs2: the sorry server in both tables after {sorry:.1f} s, "
              f"20 requests: {dict(counts)}")
        assert counts == collections.Counter({"sorry": 20}), counts
        lab("ssh", "rs1", "systemctl start nginx")
        back = wait_for_table(service, lambda table: set(table) == {rs1})
        counts = requests(VIP, 20)
        print(f"rs1 started again: the sorry server out, rs1 in after {back:.1f} s, 20 requests: {dict(counts)}")
        assert counts == collections.Counter({"rs1": 20}), counts
    finally:
        lab("ssh", "dir1", f"kill {int(pid)}")
        lab("ssh", "rs1", "systemctl start nginx")
        lab("ssh", "rs2", "systemctl start nginx")
    wait_for_table(service, lambda table: table == {rs1: 1, rs2: 3})


# Handing keepalived's table back moves dir1's VIPs to dir2 and back while dir1's table is rewritten: no request
# meets an empty table, but a request in flight at one of the two moves, on a connection younger than the
# connection sync's 2 s batch, is reset (as in any planned failover): at most one per move.
HANDBACK_LOSS = 2


def drained_while_open(playbook, owned: tuple[str, ...], service: str) -> None:
    """rs1 dropped from the declaration while connections through it are open: the role drains it (weight 0)
    and waits; the connections complete; then keepalived's reload deletes it."""
    rs1 = CLUSTER["rs"][0]
    lab("ssh", "client", "cat > /root/held.py", stdin=HELD)
    client = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", "client", "python3", "/root/held.py", VIP, "8"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert client.stdout.readline().strip() == "OPEN"
    active = lab("ssh", "dir1", f"ipvsadm -Ln -t {service}")
    through = realserver_rows(active).get(rs1, (0, 0))[1]
    assert through >= 1, active
    result: dict = {}
    started = time.monotonic()
    run = threading.Thread(target=lambda: result.update(run=playbook(
        CLUSTER["playbook"], *owned, "-e", json.dumps({"lvs_lab_dropped": [rs1]}))))
    run.start()
    waited = wait_for_table(service, lambda table: table.get(rs1, 1) == 0, timeout=120)
    # Drained on both directors, not yet deleted: the run waits for rs1's connections on dir1.
    assert run.is_alive(), result
    assert rs1 in table_realservers("dir1", service)
    client.stdin.write("go\n")
    client.stdin.flush()
    answers = [client.stdout.readline().strip() for _held in range(8)]
    assert client.stdout.readline().strip() == "DONE"
    client.wait(timeout=30)
    run.join(timeout=300)
    gone = wait_for_table(service, lambda table: rs1 not in table)
    print(f"\nrs1 dropped with 8 connections open ({through} through rs1): drained "
          f"{waited:.1f} s into the run, the held requests answered {collections.Counter(answers)}, "
          f"rs1 deleted {gone:.1f} s after they ended; the run took {time.monotonic() - started:.0f} s")
    assert "FAILED" not in answers and answers.count("rs1") >= 1, answers
    assert "run" in result and table_realservers("dir1", service) == {CLUSTER["rs"][1]: 3}


@pytest.mark.skipif(MODE != "dr", reason="keepalived's table is the same in every mode; DR is measured")
def test_keepalived_owns_the_table_and_takes_a_dead_realserver_out(director_pair, playbook):
    """lvs_director_table_owner=keepalived on the director pair: keepalived writes the same declaration as
    virtual_server blocks on both directors and health-checks the real servers (GET / every 2 s); nginx
    stopped on rs1 takes rs1 out of both tables, started again brings it back. The switch from the static
    table and back is measured from the client; handed back, the pair is the static one it started from."""
    # Handed to keepalived with IPVS connection sync between the directors (the pair's case measured without).
    sync = {"lvs_directors_sync_daemon": {"interface": front_interface("dir1"), "instance": "VI_lvs"}}
    owned = (*PAIR, "-e", "lvs_director_table_owner=keepalived", "-e", json.dumps(sync))
    service = f"{VIP}:80"
    rs1, rs2 = CLUSTER["rs"]
    try:
        wait_for_holder(VIP, {"dir1"})
        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        first = playbook(CLUSTER["playbook"], *owned)
        watch.until(set(REALSERVERS), count=10)
        summary = watch.stop()
        report("static table handed to keepalived (site.yml, both directors)", summary)
        # keepalived takes over the services the kernel holds: nothing in the table changes.
        assert summary["failed"] == 0, summary
        again = playbook(CLUSTER["playbook"], *owned)
        checked = playbook(CLUSTER["playbook"], *owned, "--check", "--diff")
        for run in (again, checked):
            assert recap(run) and all(changed == 0 for changed in recap(run).values()), \
                recap(run)
        assert "lab-Lvs1" not in first.stdout + again.stdout + checked.stdout
        for director in ("dir1", "dir2"):
            conf = lab("ssh", director, "cat /etc/keepalived/keepalived.conf")
            assert f"virtual_server {VIP} 80 {{" in conf and "HTTP_GET {" in conf and "virtual_server fwmark 10" in conf
            assert lab("ssh", director, "grep ^AUTO= /etc/default/ipvsadm; systemctl is-enabled ipvsadm || true"
                       ).split() == ['AUTO="false"', "disabled"]
            assert table_realservers(director, service) == {rs1: 1, rs2: 3}
            assert lab("ssh", director, "sysctl -n net.ipv4.vs.expire_nodest_conn").strip() == "1"
            assert "lvs_sync_daemon " in conf
            assert_synced_by_time(director)
        before = director_stats(service)
        counts = requests(VIP, REQUESTS)
        after = director_stats(service)
        print(f"\nkeepalived's table, wrr 1:3, {REQUESTS} requests: {dict(counts)}")
        assert counts["FAILED"] == 0 and set(counts) == {"rs1", "rs2"}
        assert abs(counts["rs2"] / REQUESTS - 0.75) <= 0.10
        assert after["outpkts"] == before["outpkts"] == 0

        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        lab("ssh", "rs1", "systemctl stop nginx")
        gone = wait_for_table(service, lambda table: rs1 not in table)
        watch.until("rs2", count=20)
        report("nginx stopped on rs1 (keepalived HTTP_GET every 2 s, 1 retry)", watch.stop(),
               f" (rs1 out of both directors' tables {gone:.1f} s after the stop)")
        counts = requests(VIP, 40)
        assert counts == collections.Counter({"rs2": 40}), (counts, lab("ssh", "dir1", "ipvsadm -Lnc"))
        assert table_realservers("dir1", service) == {rs2: 3}
        lab("ssh", "rs1", "systemctl start nginx")
        back = wait_for_table(service, lambda table: table == {rs1: 1, rs2: 3})
        print(f"rs1 back in both tables {back:.1f} s after nginx started")
        counts = requests(VIP, 40)
        assert counts["FAILED"] == 0 and counts["rs1"] > 0, counts

        both_down_then_one_back(service)

        kept = connection_across_failover("with keepalived's lvs_sync_daemon", synced=True)
        assert kept["error"] == "" and kept["after"] >= 10 and kept["one_connection"], kept

        # dir1 power-cycled under traffic: dir2 serves from its own warm table; dir1 boots with ip_vs loaded
        # before the sysctls, no static table restored, and keepalived rebuilds its table and takes the VIPs back.
        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        lab("restart", "dir1")
        back = wait_for_holder(VIP, {"dir1"}, timeout=120)
        watch.until(set(REALSERVERS), count=20)
        summary = watch.stop()
        # keepalived's first checks run while the booted guest's network settles: a real server can fail
        # one and be back at the next (delay_loop 2 s). Poll for the whole table on dir1.
        start, full = time.monotonic(), {rs1: 1, rs2: 3}
        while (table := table_realservers("dir1", service)) != full:
            assert time.monotonic() - start < 30, table
            time.sleep(0.5)
        report("dir1 power-cycled with keepalived owning the table", summary,
               f" (VIPs back on dir1 {back:.1f} s after it was up again, its whole table "
               f"{time.monotonic() - start:.1f} s after that)")
        assert lab("ssh", "dir1", "sysctl -n net.ipv4.vs.expire_nodest_conn").strip() == "1"
        deadline = time.monotonic() + 30
        while "master sync daemon" not in (daemons := lab("ssh", "dir1", "ipvsadm -L --daemon")):
            assert time.monotonic() < deadline, daemons
            time.sleep(0.5)

        # rs1 dropped from the declaration with connections through it open: drained, they complete.
        drained_while_open(playbook, owned, service)

        # Handed back (the declaration whole again) without lvs_directors_sync_daemon: the kernel's sync daemons,
        # which keepalived leaves running, are stopped too.
        watch = Watch(VIP)
        watch.until("rs2")
        handed = playbook(CLUSTER["playbook"], *PAIR)
        watch.until(set(REALSERVERS), count=10)
        summary = watch.stop()
        report("keepalived's table handed back to the static owner (site.yml, both directors; rs1 declared again)",
               summary)
        assert re.search(r"^PLAY \[Then the masters, one at a time", handed.stdout, re.M), handed.stdout[-3000:]
        assert summary["failed"] <= HANDBACK_LOSS, summary
        for director in ("dir1", "dir2"):
            assert "virtual_server" not in lab("ssh", director, "cat /etc/keepalived/keepalived.conf")
            assert table_realservers(director, service) == {rs1: 1, rs2: 3}
            assert lab("ssh", director, "sysctl -n net.ipv4.vs.expire_nodest_conn").strip() == "0"
            assert sync_daemons(director) == "", director
            assert lab("ssh", director, "sysctl -n net.ipv4.vs.sync_refresh_period").strip() == "0"
    finally:
        lab("ssh", "rs1", "systemctl start nginx")


@pytest.mark.skipif(MODE != "nat", reason="LVS-NAT only")
def test_nat_pair_that_could_leave_the_gateway_behind_changes_no_host(cluster, playbook):
    """The DIP's instance outside the VIPs' sync group: a failure of one network would move one without the
    other. site.yml's first play refuses it, with the hosts unchanged."""
    refused_without_change(playbook, {"lvs_directors_ha": True, "lvs_directors_sync_groups": []}, [
        f"{host}: the gateway {DIP} (instance VI_dip) and the VIPs of VI_lvs are in no sync group together: one "
        "could move without the other; put the instances in one entry of lvs_directors_sync_groups"
        for host in REALSERVERS])


@pytest.mark.skipif(MODE != "nat", reason="LVS-NAT only")
def test_nat_director_pair_floats_the_gateway_and_keepalived_owns_the_table(cluster, playbook):
    """LVS-NAT as a director pair: the pair floats the real servers' gateway (the DIP, on the back network)
    in one sync group with the VIPs, and keepalived owns the health-checked table. A connection across a
    failover without connection sync, the table handed to keepalived (with sync from then on) and back, the
    spread, a real server stopped and started, a connection across a failover with sync, dir1 power-cycled
    under traffic, both real servers down (the sorry server), a real server drained while connections through
    it are open, measured from the client."""
    sync = {"lvs_directors_sync_daemon": {"interface": front_interface("dir1"), "instance": "VI_lvs"}}
    pair = ("-e", "lvs_directors_ha=true")
    synced = (*pair, "-e", json.dumps(sync))
    owned = (*synced, "-e", "lvs_director_table_owner=keepalived")
    service = f"{VIP}:80"
    rs1, rs2 = CLUSTER["rs"]
    try:
        # From the one-director cluster to the pair with the static table, no connection sync yet: the real
        # servers' default route moves to the DIP. The new master has no entry for an established connection:
        # its next packet is answered with a reset.
        playbook(CLUSTER["playbook"], *pair)
        for address in FLOATING:
            wait_for_holder(address, {"dir1"})
        broken = connection_across_failover("LVS-NAT, static table, without connection sync", synced=False)
        assert broken["error"] != "", broken

        # The table handed to keepalived, with connection sync from now on, measured from the client.
        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        playbook(CLUSTER["playbook"], *owned, "--limit", "directors")
        watch.until(set(REALSERVERS), count=10)
        summary = watch.stop()
        report("LVS-NAT pair: the static table handed to keepalived", summary)
        assert summary["failed"] == 0, summary
        again = playbook(CLUSTER["playbook"], *owned)
        checked = playbook(CLUSTER["playbook"], *owned, "--limit", "directors", "--check", "--diff")
        for run in (again, checked):
            assert recap(run) and all(changed == 0 for changed in recap(run).values()), \
                recap(run)
        for address in FLOATING:
            wait_for_holder(address, {"dir1"})
        for host in REALSERVERS:
            assert f"default via {DIP} " in realserver_state(host)["routes"], realserver_state(host)
        conf = lab("ssh", "dir2", "cat /etc/keepalived/keepalived.conf")
        assert "vrrp_sync_group G_lvs {" in conf and "lvs_method NAT" in conf and "lvs_sync_daemon " in conf, conf
        for director in ("dir1", "dir2"):
            assert_synced_by_time(director)
        wait_for_table(service, lambda table: table == {rs1: 1, rs2: 3})
        # ipvs_info reads keepalived's table as it reads a static one.
        assert_table_as_declared("dir2")
        before = director_stats(service)
        counts = requests(VIP, REQUESTS)
        after = director_stats(service)
        print(f"\nLVS-NAT pair, keepalived's table, wrr 1:3, {REQUESTS} requests: {dict(counts)}")
        assert counts["FAILED"] == 0 and abs(counts["rs2"] / REQUESTS - 0.75) <= 0.10, counts
        # The replies came back through dir1, which holds the DIP.
        assert after["outpkts"] - before["outpkts"] >= 2 * REQUESTS

        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        lab("ssh", "rs1", "systemctl stop nginx")
        gone = wait_for_table(service, lambda table: rs1 not in table)
        watch.until("rs2", count=20)
        lab("ssh", "rs1", "systemctl start nginx")
        back = wait_for_table(service, lambda table: table == {rs1: 1, rs2: 3})
        watch.until(set(REALSERVERS), count=20)
        report("LVS-NAT pair: nginx stopped on rs1, then started (keepalived HTTP_GET every 2 s, 1 retry)",
               watch.stop(), f" (rs1 out of both tables {gone:.1f} s after the stop, back {back:.1f} s after "
               "the start)")

        # With sync the connection survives. The old master has deleted its services (and their connections)
        # while a real server may still reply to it until the DIP's gratuitous ARP arrives: its masquerade unit
        # drops such a reply (masqueraded, the client's answering reset would reach the real server), and the
        # real server sends it again to dir2.
        dropped = untranslated_replies_dropped("dir1")
        kept = connection_across_failover("LVS-NAT, with keepalived's lvs_sync_daemon", synced=True)
        dropped = untranslated_replies_dropped("dir1") - dropped
        print(f"replies dir1 dropped untranslated meanwhile: {dropped}")
        assert kept["error"] == "" and kept["after"] >= 10 and kept["one_connection"], kept

        # dir1 power-cycled under traffic: dir2 takes the VIPs and the DIP together (the sync group), so the real
        # servers' replies reach the director that now holds the connections.
        watch = Watch(VIP)
        watch.until(set(REALSERVERS))
        lab("restart", "dir1")
        home = wait_for_holder(VIP, {"dir1"}, timeout=120)
        wait_for_holder(DIP, {"dir1"}, timeout=30)
        watch.until(set(REALSERVERS), count=20)
        report("LVS-NAT pair: dir1 power-cycled", watch.stop(),
               f" (VIP and DIP back on dir1 {home:.1f} s after it was up again)")

        # In LVS-NAT the sorry server on the director is reached by route (IPVS does not masquerade to loopback).
        wait_for_table(service, lambda table: table == {rs1: 1, rs2: 3})
        both_down_then_one_back(service)

        # rs1 dropped from the declaration with connections through it open: drained, they complete.
        drained_while_open(playbook, (*owned, "--limit", "directors"), service)

        # Back to the static owner (the declaration whole again, sync kept), the pair kept: the directors hand
        # keepalived's table back one at a time, dir1 with its VIPs and the DIP on dir2 meanwhile.
        watch = Watch(VIP)
        watch.until("rs2")
        handed = playbook(CLUSTER["playbook"], *synced, "--limit", "directors")
        watch.until(set(REALSERVERS), count=10)
        summary = watch.stop()
        report("LVS-NAT pair: keepalived's table handed back to the static owner (rs1 declared again)", summary)
        assert re.search(r"^PLAY \[Then the masters, one at a time", handed.stdout, re.M), handed.stdout[-3000:]
        for director in ("dir1", "dir2"):
            assert "virtual_server" not in lab("ssh", director, "cat /etc/keepalived/keepalived.conf")
            assert table_realservers(director, service) == {rs1: 1, rs2: 3}
        assert holder_of(VIP) == {"dir1"} and holder_of(DIP) == {"dir1"}
        assert summary["failed"] <= HANDBACK_LOSS, summary
    finally:
        lab("ssh", "rs1", "systemctl start nginx")
        for director in ("dir1", "dir2"):
            lab("ssh", director, "systemctl disable --now keepalived; rm -f /etc/keepalived/conf.d/VI_*.conf")
        # The one-director cluster again: the real servers' gateway is dir1's back address.
        playbook(CLUSTER["playbook"], "--limit", "realservers")


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
    assert_realserver_released("rs1", MODE)
