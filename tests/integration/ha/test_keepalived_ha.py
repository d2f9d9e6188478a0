"""keepalived VRRP between the lab's two directors (site.yml's keepalived_pair topology, then
playbooks/keepalived_ha.yml), proven with traffic.

scripts/run-tests (stage `ha`) runs this on a lab of dir1, dir2 and the client. dir1 (priority 150)
holds the VIP 192.0.2.80, nginx on both directors answers with the host's name. For each failure the
client pings the VIP every 50 ms and sends an HTTP request through it every 50 ms; the test waits
(polling, bounded) until the other director answers, and for the way back, then reports the longest
ping gap and the failed requests. The figures are printed, not asserted against a time: the asserts are
that the VIP moved to the right node and came back (or, where it should not, stayed).
"""

from __future__ import annotations

import json
import re
import time

import pytest
from labhelp import (
    ROOT,
    assert_converged,
    assert_refused_unchanged,
    converge,
    host_state,
    interface_to,
    lab,
    operator_firewall,
    recap,
    role_alone,
    run_audit,
    set_link,
)
from vipwatch import Watch, report, restarted
from vipwatch import holder as holder_of
from vipwatch import measure as measure_vip
from vipwatch import summary as all_figures
from vipwatch import wait_for_holders as wait_for_vip_holders

VIP = "192.0.2.80"
# The controller's address on the front net: the directors' route to it names their front interface.
CONTROLLER = "192.0.2.1"
PLAYBOOK = "playbooks/keepalived_ha.yml"
# Once the pair is built, each change runs the role alone (its README: changing a running pair).
CHANGE = role_alone("keepalived_ha")


def measure(case: str, away, back=None, **options) -> dict:
    return measure_vip(case, away, back, **{"vip": VIP, **options})


def holder(vip: str = VIP) -> set[str]:
    return holder_of(vip)


def ssh(name: str, command: str) -> str:
    return lab("ssh", name, command)


def link_cut(case: str) -> dict:
    """dir1's link to the front network cut, then restored; restored also when the case fails, so that
    the cases after it start from a whole network."""
    try:
        return measure(case, lambda: set_link("dir1", "front", up=False), lambda: set_link("dir1", "front", up=True))
    finally:
        set_link("dir1", "front", up=True)


@pytest.fixture(scope="module")
def pair(playbook):
    return converge(playbook, PLAYBOOK, first_path="site.yml")


def test_the_pair_converges_idempotent_and_check_mode_changes_nothing(pair):
    assert_converged(pair, ("dir1", "dir2"), "lab-Pw!1")
    assert holder() == {"dir1"}


# Every kind of bad input at once, as the issue of one validation path lists them: each is named and no
# node changes (files, addresses, units, keepalived's process).
BAD_INPUT = {
    "keepalived_ha_check_interval": 0, "keepalived_ha_check_fall": 0, "keepalived_ha_mcast_group4": "192.0.2.18",
    "keepalived_ha_instances": [{"name": "VI_web", "virtual_router_id": 300, "priorities": {"dir1": 255, "dir2": 100},
                                 "auth_pass": "lab-Pw!1-too-long",
                                 "virtual_ipaddresses": [{"address": "2001:db8:0:2::80/64"}]}],
}
BAD_INPUT_PROBLEMS = [
    "dir1: keepalived_ha_check_interval=0: must be from 1 to 3600",
    "dir2: keepalived_ha_check_fall=0: must be from 1 to 1000",
    "dir1: keepalived_ha_instances[0].virtual_router_id=300: must be from 1 to 255",
    "dir1: keepalived_ha_instances[0].priorities.dir1=255: must be from 1 to 254",
    "dir2: keepalived_ha_instances[0].auth_pass='********': 17 characters: keepalived keeps 8",
    "dir2: keepalived_ha_instances[0].virtual_ipaddresses='2001:db8:0:2::80/64': IPv6 needs version: 3",
    "dir1: keepalived_ha_mcast_group4='192.0.2.18': not a multicast address",
]


def test_the_audit_finds_nothing_on_the_pair(pair, playbook):
    """playbooks/audit.yml on the keepalived pair (VI_web, 192.0.2.80): one MASTER, the peers agreeing, the VIP on dir1
    alone and answered in ARP by dir1 alone."""
    result, findings, seconds = run_audit(playbook)
    print(f"\nthe audit on the keepalived pair (VI_web, 192.0.2.80): {len(findings)} findings in {seconds:.0f} s")
    assert findings == [] and "no findings" in result.stdout, findings


def test_bad_input_is_refused_before_any_node_changes(pair, playbook):
    def state():
        return {name: host_state(name, "systemctl show -P MainPID keepalived") for name in ("dir1", "dir2")}
    before = state()
    refused = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps(BAD_INPUT), ok=False)
    assert_refused_unchanged(refused, ("dir1", "dir2"), before, state(), BAD_INPUT_PROBLEMS,
                             secrets=("lab-Pw!1-too-long",))
    assert holder() == {"dir1"}


def test_multicast_off_on_an_advert_interface_is_refused_before_that_node_changes(pair, playbook):
    files = "md5sum /etc/keepalived/keepalived.conf /etc/keepalived/conf.d/*.conf"
    before = ssh("dir2", files)
    front = interface_to("dir2", CONTROLLER)
    ssh("dir2", f"ip link set dev {front} multicast off")
    try:
        # A change for dir2 (a slower check), which must not reach it.
        refused = playbook(PLAYBOOK, *CHANGE, "--limit", "dir2", "-e", '{"keepalived_ha_check_fall": 3}', ok=False)
    finally:
        ssh("dir2", f"ip link set dev {front} multicast on")
    assert refused.returncode != 0
    assert f"interface {front} of dir2 has multicast off" in refused.stdout, refused.stdout[-2000:]
    assert {key: refused.stats["dir2"][key] for key in ("changed", "unreachable", "failures")} == \
        {"changed": 0, "unreachable": 0, "failures": 1}, refused.stats
    assert ssh("dir2", files) == before
    wait_for_holders({"dir1"})


def test_keepalived_stopped_on_the_master(pair):
    measure("keepalived stopped on the master, then started (preempt)",
            lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    assert holder() == {"dir1"}


# SIGKILL with every process of the unit stopped first, so that none cleans up: `systemctl kill --signal=KILL` alone
# kills the main process first, and its VRRP child, told of its parent's death by the kernel (SIGTERM) before
# systemd's SIGKILL reaches it, sometimes sends priority 0 and deletes the VIPs itself (the backup master 0.6 s later).
def crash(unit: str) -> str:
    return f"systemctl kill --signal=STOP {unit}; systemctl kill --signal=KILL {unit}"


def test_keepalived_killed_on_the_master(pair):
    """SIGKILL: keepalived sends no last advert and deletes nothing. The unit's drop-in deletes dir1's VIP as soon as
    keepalived's process is gone, dir2 takes it after its master-down interval, systemd starts dir1's keepalived
    again 5 s after the kill (4 adverts and 1 s) and dir1 takes the VIP back (preempt)."""
    pid = ssh("dir1", "systemctl show -P MainPID keepalived").strip()
    seen = {}

    def kill():
        ssh("dir1", crash("keepalived"))
        start = time.monotonic()
        while f" {VIP}/" in ssh("dir1", "ip -o -4 addr"):
            assert time.monotonic() - start < 20, "the killed master still holds the VIP after 20 s"
            time.sleep(0.2)
        seen["released_after"] = time.monotonic() - start

    def back_by_itself() -> float:
        seen["holders"] = holder()
        return restarted("dir1", "keepalived", pid)

    figures = measure("keepalived killed (SIGKILL) on the master, started again by systemd", kill, back_by_itself)
    print(f"the killed master released the VIP {seen['released_after']:.1f} s after the kill; holders when dir2 "
          f"answered: {sorted(seen['holders'])}; started again and master {figures['back_after']:.1f} s later")
    assert len(seen["holders"]) == 1, seen
    # Released by the drop-in: no keepalived process could, and dir2 was not master yet.
    assert seen["released_after"] < figures["moved_after"], (seen, figures)
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


def test_master_link_cut(pair):
    # dir1 hears no advert and stays MASTER behind its cut link; once it is back, dir2 hears the higher
    # priority and gives the VIP up, and dir1's gratuitous ARPs turn the client back to it.
    link_cut("the master's link cut, then restored")
    assert holder() == {"dir1"}


def test_reload_with_a_changed_priority_keeps_the_vip(pair, playbook):
    watch = Watch(VIP)
    watch.until("dir1")
    changed = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps({"keepalived_ha_instances": [{
        "name": "VI_web", "virtual_router_id": 80, "priorities": {"dir1": 140, "dir2": 100}, "auth_pass": "lab-Pw!1",
        "virtual_ipaddresses": [{"address": f"{VIP}/24"}]}]}))
    watch.until("dir1", count=5)
    summary = watch.stop()
    report("reload with a changed priority on the master", summary)
    assert recap(changed) == {"dir1": 1, "dir2": 0}
    assert summary["failed"] == 0
    assert holder() == {"dir1"}


def test_notify_recorded_every_transition(pair):
    journal = {name: ssh(name, "journalctl -q -o cat -t keepalived-notify") for name in ("dir1", "dir2")}
    masters = {name: journal[name].count("state=MASTER") for name in journal}
    print(f"\nnotify: MASTER transitions recorded {masters}")
    # dir2 took the VIP once per failure case above (stop, kill, maintenance, nginx, power, link).
    assert masters["dir2"] >= 6, journal["dir2"]
    assert "state=BACKUP" in journal["dir2"]


def wait_for_holders(expected: set[str], timeout: float = 30) -> float:
    return wait_for_vip_holders(VIP, expected, timeout)


def test_vrrp_through_a_host_firewall(pair, playbook):
    """With the directors' firewalls dropping VRRP, each thinks itself master (the VIP on both); the role's
    keepalived_ha_firewall_iptables lets the adverts in and dir1 alone holds the VIP again."""
    try:
        for name in ("dir1", "dir2"):
            operator_firewall(name, on=True)
        wait_for_holders({"dir1", "dir2"})
        changed = playbook(PLAYBOOK, *CHANGE, "-e", "keepalived_ha_firewall_iptables=/usr/sbin/iptables-legacy")
        assert all(recap(changed)[name] > 0 for name in ("dir1", "dir2")), recap(changed)
        wait_for_holders({"dir1"})
        for name in ("dir1", "dir2"):
            first = ssh(name, "iptables-legacy -S INPUT").splitlines()[1]
            advert = interface_to(name, CONTROLLER)
            assert ("-p 112" in first or "-p vrrp" in first) and f"VRRP on {advert}" in first, first
            assert first.endswith("-j ACCEPT"), first
        measure("behind a host firewall that drops what it does not know: keepalived stopped on the master, "
                "then started", lambda: ssh("dir1", "systemctl stop keepalived"),
                lambda: ssh("dir1", "systemctl start keepalived"))
        assert holder() == {"dir1"}
    finally:
        for name in ("dir1", "dir2"):
            operator_firewall(name, on=False)


def topology(playbook, name: str) -> None:
    """The pair rebuilt as one of inventories/lab-topologies/keepalived/NAME.yml; instances no longer declared go."""
    playbook(PLAYBOOK, *CHANGE, "-e", f"@{ROOT}/inventories/lab-topologies/keepalived/{name}.yml")


def test_dual_master_each_vip_on_its_own_director(pair, playbook):
    topology(playbook, "dual_master")
    # keepalived_ha_firewall_iptables is empty again: its unit and rule are gone.
    assert "VRRP on" not in ssh("dir1", "iptables-legacy -S INPUT")
    assert ssh("dir1", "systemctl is-enabled keepalived-vrrp-accept 2>&1 || true").strip() != "enabled"
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
    # The role removes instances it wrote that are no longer declared, and only those: an operator's own
    # file in conf.d stays.
    operator_file = "/etc/keepalived/conf.d/operator.conf"
    ssh("dir1", f"printf '! notes of the operator, kept by the role\\n' > {operator_file}")
    topology(playbook, "nopreempt")
    assert holder("192.0.2.81") == set(), "the dual master's second instance was not removed"
    left = ssh("dir1", "ls /etc/keepalived/conf.d").split()
    assert left == ["VI_web.conf", "operator.conf"], left
    ssh("dir1", f"rm {operator_file}")
    assert "nopreempt" in ssh("dir1", "cat /etc/keepalived/conf.d/VI_web.conf")
    watch = Watch(VIP)
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
        measure("unicast, multicast dropped: dir1's keepalived stopped, then started",
                lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    finally:
        for name in ("dir1", "dir2"):
            ssh(name, drop.format("-D"))
    assert holder() == {"dir1"}


def test_rolling_change_of_both_priorities_without_a_gap(pair, playbook):
    """playbooks/keepalived_rolling.yml: the backup first (waits for BACKUP), then the master (waits for
    MASTER); the VIP answers throughout. The pair runs the unicast topology of the case before and the
    change keeps it: a switch between multicast and unicast cannot be rolled (the role's README)."""
    watch = Watch(VIP)
    watch.until("dir1")
    instances = [{"name": "VI_web", "virtual_router_id": 80, "priorities": {"dir1": 160, "dir2": 110},
                  "auth_pass": "lab-Pw!1", "unicast": True, "virtual_ipaddresses": [{"address": f"{VIP}/24"}]}]
    # Not --tags: the playbook's own sorting tasks carry none. Its role runs skip the install phase.
    rolled = playbook("playbooks/keepalived_rolling.yml", "--skip-tags", "install", "-e",
                      json.dumps({"keepalived_ha_instances": instances}))
    watch.until("dir1", count=5)
    summary = watch.stop()
    report("rolling change of both priorities (backup, then master)", summary)
    plays = re.findall(r"^PLAY \[(.*)\]", rolled.stdout, re.M)
    assert plays[1:] == ["Backups first, one at a time", "Then the masters, one at a time"], plays
    assert recap(rolled) == {"dir1": 1, "dir2": 1}
    assert "priority 110" in ssh("dir2", "cat /etc/keepalived/conf.d/VI_web.conf")
    assert summary["failed"] == 0
    assert holder() == {"dir1"}


def test_tuned_timers_and_preempt_delay(pair, playbook):
    """VRRP version 3, advert_int 0.25 s: a killed master is given up after about 3 adverts; when it
    returns it waits preempt_delay (5 s) as BACKUP before it takes the VIP back."""
    topology(playbook, "tuned")
    config = ssh("dir1", "cat /etc/keepalived/conf.d/VI_web.conf")
    assert "version 3" in config and "advert_int 0.25" in config and "preempt_delay 5" in config
    pid = ssh("dir1", "systemctl show -P MainPID keepalived").strip()
    figures = measure("tuned timers (VRRPv3, advert_int 0.25 s): keepalived killed (SIGKILL) on the master, started "
                      "again by systemd 2 s later (preempt_delay 5 s)",
                      lambda: ssh("dir1", crash("keepalived")), lambda: restarted("dir1", "keepalived", pid))
    print(f"given up after {figures['moved_after']:.2f} s (advert_int 1: see the SIGKILL case above); taken back "
          f"{figures['back_after']:.2f} s after keepalived started again (preempt_delay 5 s)")
    assert figures["back_after"] >= 4.5
    assert holder() == {"dir1"}
    measure("tuned timers: keepalived stopped on the master, then started",
            lambda: ssh("dir1", "systemctl stop keepalived"), lambda: ssh("dir1", "systemctl start keepalived"))
    assert holder() == {"dir1"}
    # dir1 stays MASTER behind the cut (it hears nobody), so preempt_delay does not hold it back.
    link_cut("tuned timers: the master's link cut, then restored")
    assert holder() == {"dir1"}
    measure("tuned timers: the master power-cycled (it takes the VIP back once booted and its preempt_delay over)",
            lambda: lab("restart", "dir1"), timeout=180)
    assert holder() == {"dir1"}


def test_operators_own_check_notify_and_initial_state(pair, playbook):
    """Seed 002 through the role (inventories/lab-topologies/keepalived/operator.yml): the operator's login-page check
    failing on the master moves the VIP; their notify commands run on each transition beside the role's
    journal; the second instance tracks nothing and starts MASTER on dir2."""
    notify = "#!/bin/sh\necho \"$1\" >> /run/lab-notify.log\n"
    for name in ("dir1", "dir2"):
        ssh(name, f"printf '{notify}' > /usr/local/bin/lab-notify && chmod 0755 /usr/local/bin/lab-notify && "
                  "echo login > /var/www/html/login.html && rm -f /run/lab-notify.log")
    topology(playbook, "operator")
    configs = {name: ssh(name, "cat /etc/keepalived/keepalived.conf /etc/keepalived/conf.d/VI_web.conf "
                               "/etc/keepalived/conf.d/VI_web2.conf") for name in ("dir1", "dir2")}
    assert "vrrp_script chk_login {" in configs["dir1"] and "weight -60" in configs["dir1"]
    web2 = {name: configs[name].split("vrrp_instance VI_web2")[1] for name in configs}
    assert "track_script" not in web2["dir1"] and "state MASTER" in web2["dir2"] and "state BACKUP" in web2["dir1"]
    assert '    notify_master "/usr/local/bin/lab-notify master"' in configs["dir1"]
    wait_for_vip_holders("192.0.2.81", {"dir2"}, 30)
    measure("the operator's own check (its login page gone) failing on the master, then passing again",
            lambda: ssh("dir1", "rm /var/www/html/login.html"),
            lambda: ssh("dir1", "echo login > /var/www/html/login.html"))
    assert holder() == {"dir1"} and holder("192.0.2.81") == {"dir2"}
    logs = {name: ssh(name, "cat /run/lab-notify.log").split() for name in ("dir1", "dir2")}
    print(f"\noperator's notify commands ran: {logs}")
    # dir2 became master when dir1's check failed and backup again when dir1 took the VIP back; dir1 the
    # other way round. The role's own notify journaled the same transitions.
    assert logs["dir2"][-2:] == ["master", "backup"], logs
    assert logs["dir1"][-2:] == ["backup", "master"], logs
    assert "name=VI_web state=MASTER" in ssh("dir2", "journalctl -q -o cat -t keepalived-notify --since=-5min")


def test_summary():
    print("\n" + all_figures())
