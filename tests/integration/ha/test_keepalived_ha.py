"""keepalived VRRP between the lab's two directors (playbooks/keepalived_ha.yml), proven with traffic.

scripts/run-tests (stage `ha`) runs this on a lab of dir1, dir2 and the client. dir1 (priority 150)
holds the VIP 192.0.2.80, nginx on both directors answers with the host's name. For each failure the
client pings the VIP every 50 ms and sends HTTP requests through it one after another; the test waits
(polling, bounded) until the other director answers, and for the way back, then reports the longest
ping gap and the failed requests. The figures are printed, not asserted against a time: the asserts are
that the VIP moved to the right node and came back (or, where it should not, stayed).
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time

import pytest
from labhelp import ROOT, lab, recap

VIP = "192.0.2.80"
PLAYBOOK = "playbooks/keepalived_ha.yml"
RESULTS: list[str] = []

# Runs on the client until a line arrives on stdin (or `limit` seconds): ping every 50 ms (timestamps
# of the replies kept), HTTP requests one after another, 1 s at most each, each printed as it ends
# ("TIME ANSWER", ANSWER a director's name or FAILED), then a summary line.
WATCH = r"""
import http.client, json, select, subprocess, sys, threading, time
vip, limit = sys.argv[1], float(sys.argv[2])
ping = subprocess.Popen(["ping", "-n", "-D", "-i", "0.05", "-W", "1", "-w", str(int(limit)), vip],
                        stdout=subprocess.PIPE, text=True)
replies = []
def read_ping():
    for line in ping.stdout:
        if "bytes from" in line:
            replies.append(float(line[1:line.index("]")]))
threading.Thread(target=read_ping, daemon=True).start()
failed, answers, end = 0, 0, time.monotonic() + limit
while time.monotonic() < end and not select.select([sys.stdin], [], [], 0)[0]:
    start = time.time()
    conn = http.client.HTTPConnection(vip, 80, timeout=1)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        reply = conn.getresponse()
        body = reply.read().decode().strip()
        answer = body if reply.status == 200 and body else "FAILED"
    except (OSError, http.client.HTTPException):
        answer = "FAILED"
        time.sleep(max(0.0, 0.05 - (time.time() - start)))
    finally:
        conn.close()
    failed += answer == "FAILED"
    answers += 1
    print(f"{start:.3f} {answer}", flush=True)
ping.terminate()
time.sleep(0.2)
gaps = [later - earlier for earlier, later in zip(replies, replies[1:])]
print("SUMMARY " + json.dumps({"max_gap": round(max(gaps, default=0.0), 3), "ping_replies": len(replies),
                               "requests": answers, "failed": failed}), flush=True)
"""


class Watch:
    """The client's watch of the VIP, read line by line as it runs."""

    def __init__(self, vip: str = VIP, limit: float = 240):
        self.vip = vip
        lab("ssh", "client", "cat > /root/vipwatch.py", stdin=WATCH)
        self.proc = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", "client", "python3", "/root/vipwatch.py",
                                      vip, str(limit)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.summary: dict | None = None

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def until(self, host: str, count: int = 10, timeout: float = 90) -> float:
        """Wait until `count` requests in a row are answered by `host`; the time of the first of them."""
        deadline, streak, first = time.monotonic() + timeout, 0, 0.0
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("SUMMARY"):
                break
            stamp, answer = line.split(" ", 1)
            streak = streak + 1 if answer == host else 0
            first = float(stamp) if streak == 1 else first
            if streak >= count:
                return first
        raise AssertionError(f"{self.vip} not answered by {host} {count} times in a row within {timeout} s")

    def stop(self) -> dict:
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=30)
            if line.startswith("SUMMARY "):
                self.proc.wait(timeout=10)
                return json.loads(line.split(" ", 1)[1])
        raise AssertionError("the client's watch did not end")


def report(case: str, summary: dict, tail: str = "") -> None:
    """Print one case's figures now and keep them for the summary at the end."""
    line = (f"{case}: longest ping gap {summary['max_gap']:.2f} s, failed requests {summary['failed']} "
            f"of {summary['requests']}{tail}")
    print("\n" + line)
    RESULTS.append(line)


def measure(case: str, away, back=None, to: str = "dir2", home: str = "dir1", streak: int = 10,
            timeout: float = 90, vip: str = VIP) -> dict:
    """Run `away` (a failure on dir1), wait until `to` answers `streak` requests in a row, run `back` (its
    repair, if any), wait until `home` answers again. The client's watch runs throughout (its answers
    are queued, so a move that comes and goes while `away` runs is still seen). Prints and returns the
    longest ping gap and the failed requests."""
    watch = Watch(vip)
    watch.until(home)
    away()
    watch.until(to, count=streak, timeout=timeout)
    if back is not None:
        back()
    watch.until(home, timeout=timeout)
    summary = watch.stop()
    report(case, summary, f" (VIP to {to} and back to {home})")
    return summary


def holder(vip: str = VIP) -> set[str]:
    return {name for name in ("dir1", "dir2") if f" {vip}/24 " in lab("ssh", name, "ip -o -4 addr")}


def ssh(name: str, command: str) -> str:
    return lab("ssh", name, command)


@pytest.fixture(scope="module")
def pair(playbook):
    start = time.monotonic()
    first = playbook(PLAYBOOK)
    middle = time.monotonic()
    second = playbook(PLAYBOOK)
    took = (middle - start, time.monotonic() - middle)
    print(f"\n{PLAYBOOK}: first run {took[0]:.0f} s, re-run {took[1]:.0f} s "
          f"({100 * took[1] / took[0]:.0f} % of the first)")
    check = playbook(PLAYBOOK, "--check", "--diff")
    return first, second, check


def test_the_pair_converges_idempotent_and_check_mode_changes_nothing(pair):
    _first, second, check = pair
    assert recap(second.stdout) == {"dir1": 0, "dir2": 0}, second.stdout[-2000:]
    assert recap(check.stdout) == {"dir1": 0, "dir2": 0}, check.stdout[-2000:]
    for run in pair:
        assert "lab-Pw!1" not in run.stdout + run.stderr
    assert holder() == {"dir1"}


def test_keepalived_stopped_on_the_master(pair):
    measure("keepalived stopped on the master, then started (preempt)",
            lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    assert holder() == {"dir1"}


def test_keepalived_killed_on_the_master(pair):
    def kill():
        ssh("dir1", "systemctl kill --signal=KILL keepalived")
    stale = {}

    def restart():
        stale["dir1"] = f" {VIP}/24 " in ssh("dir1", "ip -o -4 addr")
        ssh("dir1", "systemctl start keepalived")
    measure("keepalived killed (SIGKILL) on the master, then started", kill, restart)
    print(f"after SIGKILL the dead master still held its copy of the VIP: {stale['dir1']}")
    assert holder() == {"dir1"}


def test_maintenance_file(pair):
    measure("maintenance file on the master, then removed",
            lambda: ssh("dir1", "touch /etc/keepalived/down"), lambda: ssh("dir1", "rm /etc/keepalived/down"))
    assert holder() == {"dir1"}


def test_tracked_service_killed_on_the_master(pair):
    # The notify script starts nginx again when dir1 becomes BACKUP; then its priority is back and it
    # takes the VIP back (preempt).
    measure("nginx killed on the master (restarted by the notify script on BACKUP)",
            lambda: ssh("dir1", "systemctl kill --signal=KILL nginx"), streak=3, timeout=120)
    assert holder() == {"dir1"}


def test_master_power_cycled(pair):
    measure("the master power-cycled (it takes the VIP back once booted)", lambda: lab("restart", "dir1"),
            timeout=180)
    assert holder() == {"dir1"}


def test_reload_with_a_changed_priority_keeps_the_vip(pair, playbook):
    watch = Watch()
    watch.until("dir1")
    changed = playbook(PLAYBOOK, "-e", '{"keepalived_ha_instances": [{"name": "VI_web", "virtual_router_id": 80, '
                                       '"priorities": {"dir1": 140, "dir2": 100}, "auth_pass": "lab-Pw!1", '
                                       '"virtual_ipaddresses": [{"address": "192.0.2.80/24"}]}]}')
    watch.until("dir1", count=5)
    summary = watch.stop()
    report("reload with a changed priority on the master", summary)
    assert recap(changed.stdout) == {"dir1": 1, "dir2": 0}
    assert summary["failed"] == 0
    assert holder() == {"dir1"}


def test_notify_recorded_every_transition(pair):
    journal = {name: ssh(name, "journalctl -q -o cat -t keepalived-notify") for name in ("dir1", "dir2")}
    masters = {name: journal[name].count("state=MASTER") for name in journal}
    print(f"\nnotify: MASTER transitions recorded {masters}")
    # dir2 took the VIP once per failure case above (stop, kill, maintenance, nginx, power).
    assert masters["dir2"] >= 5, journal["dir2"]
    assert "state=BACKUP" in journal["dir2"]


def topology(playbook, name: str) -> None:
    """The pair rebuilt as one of inventories/lab/keepalived/NAME.yml; instances no longer declared go."""
    playbook(PLAYBOOK, "-e", f"@{ROOT}/inventories/lab/keepalived/{name}.yml")


def test_dual_master_each_vip_on_its_own_director(pair, playbook):
    topology(playbook, "dual_master")
    second = "192.0.2.81"
    deadline = time.monotonic() + 30
    while (holder(), holder(second)) != ({"dir1"}, {"dir2"}) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (holder(), holder(second)) == ({"dir1"}, {"dir2"})
    measure("dual master: dir2's keepalived stopped, then started (its VIP to dir1 and back)",
            lambda: ssh("dir2", "systemctl stop keepalived"), lambda: ssh("dir2", "systemctl start keepalived"),
            to="dir1", home="dir2", vip=second)
    measure("dual master: dir1's keepalived stopped, then started",
            lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    assert (holder(), holder(second)) == ({"dir1"}, {"dir2"})


def test_nopreempt_the_returning_node_does_not_take_the_vip_back(pair, playbook):
    topology(playbook, "nopreempt")
    assert holder("192.0.2.81") == set(), "the dual master's second instance was not removed"
    assert "nopreempt" in ssh("dir1", "cat /etc/keepalived/conf.d/VI_web.conf")
    watch = Watch()
    holding = "dir1" if holder() == {"dir1"} else "dir2"
    other = "dir2" if holding == "dir1" else "dir1"
    watch.until(holding)
    ssh(holding, "systemctl stop keepalived")
    watch.until(other)
    ssh(holding, "systemctl start keepalived")
    deadline = time.monotonic() + 60
    while "state=BACKUP" not in ssh(holding, "journalctl -q -o cat -t keepalived-notify --since=-20s"):
        assert time.monotonic() < deadline, f"{holding} did not come back as BACKUP"
        time.sleep(0.5)
    watch.until(other, count=20)
    summary = watch.stop()
    report(f"nopreempt: {holding} stopped and started again, the VIP stayed on {other}", summary)
    assert holder() == {other}


def test_unicast_with_multicast_dropped(pair, playbook):
    topology(playbook, "unicast")
    config = ssh("dir1", "cat /etc/keepalived/conf.d/VI_web.conf")
    assert "unicast_src_ip 192.0.2.11" in config and "192.0.2.12" in config
    drop = "iptables-legacy {} INPUT -d 224.0.0.18 -j DROP"
    for name in ("dir1", "dir2"):
        ssh(name, drop.format("-I"))
    try:
        deadline = time.monotonic() + 30
        while holder() != {"dir1"} and time.monotonic() < deadline:
            time.sleep(0.5)
        measure("unicast, multicast dropped: dir1's keepalived stopped, then started",
                lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    finally:
        for name in ("dir1", "dir2"):
            ssh(name, drop.format("-D"))
    assert holder() == {"dir1"}


def test_rolling_change_of_both_priorities_without_a_gap(pair, playbook):
    """playbooks/keepalived_rolling.yml: the backup first (waits for BACKUP), then the master (waits for
    MASTER); the VIP answers throughout."""
    watch = Watch()
    watch.until("dir1")
    rolled = playbook("playbooks/keepalived_rolling.yml", "-e", json.dumps({"keepalived_ha_instances": [{
        "name": "VI_web", "virtual_router_id": 80, "priorities": {"dir1": 160, "dir2": 110}, "auth_pass": "lab-Pw!1",
        "unicast": True, "virtual_ipaddresses": [{"address": f"{VIP}/24"}]}]}))
    watch.until("dir1", count=5)
    summary = watch.stop()
    report("rolling change of both priorities (backup, then master)", summary)
    plays = re.findall(r"^PLAY \[(.*)\]", rolled.stdout, re.M)
    assert plays[1:] == ["Backups first, one at a time", "Then the masters, one at a time"], plays
    assert recap(rolled.stdout) == {"dir1": 1, "dir2": 1}
    assert "priority 110" in ssh("dir2", "cat /etc/keepalived/conf.d/VI_web.conf")
    assert summary["failed"] == 0
    assert holder() == {"dir1"}


def test_summary():
    print("\n" + "\n".join(RESULTS))
