"""heartbeat v3 between the lab's two directors (site.yml's heartbeat_pair topology, then
playbooks/heartbeat_ha.yml), proven with traffic.

scripts/run-tests (stage `heartbeat`) runs this on a lab of dir1, dir2 and the client. heartbeat carries
the VIP 192.0.2.85 and nginx (which answers with the host's name), dir1 preferred, deadtime 4 s. For each
failure the client pings the VIP every 50 ms and sends HTTP requests through it; the test waits (polling,
bounded) until the other director answers, and for the way back, and reports the longest ping gap, the
failed requests and how long after the failure began the other node answered. The figures are printed,
not asserted against a time; the asserts are where the VIP, nginx and heartbeat's own view of the
resources are.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from labhelp import (
    assert_converged,
    assert_refused_unchanged,
    audit_report,
    converge,
    host_state,
    lab,
    recap,
    role_alone,
    run_audit,
)
from vipwatch import Watch, holder, journal_since, measure, report, restarted
from vipwatch import summary as all_figures

VIP = "192.0.2.85"
PLAYBOOK = "playbooks/heartbeat_ha.yml"
SECRET = "lab-hb-Key1"
DEADTIME = 4
# Once the pair is built, each change runs the role alone (its README: changing a running pair).
CHANGE = role_alone("heartbeat_ha")


def ssh(name: str, command: str) -> str:
    return lab("ssh", name, command)


def where() -> dict:
    """Per director: VIP held, nginx active, heartbeat's own view of its resources (cl_status rscstatus)."""
    state = {}
    for name in ("dir1", "dir2"):
        out = ssh(name, f"ip -o -4 addr | grep -c ' {VIP}/' ; systemctl is-active nginx ; "
                        "cl_status rscstatus 2>/dev/null || echo down").split()
        state[name] = {"vip": out[0] != "0", "nginx": out[1] == "active", "resources": out[2]}
    return state


def settled(holding: str, timeout: float = 60) -> dict:
    """Wait until `holding` has the VIP and nginx and heartbeat agrees; the other node neither."""
    other = "dir2" if holding == "dir1" else "dir1"
    deadline = time.monotonic() + timeout
    while True:
        state = where()
        if (state[holding]["vip"] and state[holding]["nginx"] and state[holding]["resources"] in ("all", "local")
                and not state[other]["vip"] and not state[other]["nginx"]
                and state[other]["resources"] in ("none", "local", "down")):
            return state
        assert time.monotonic() < deadline, f"resources not settled on {holding}: {state}"
        time.sleep(1)


# The steps of a takeover as heartbeat, its resource scripts and systemd log them, on either node.
STEPS = re.compile(r"Heartbeat shutdown in progress|Giving up all HA resources|All HA resources relinquished|"
                   r"Received shutdown notice|node dir\d: is dead|Taking over resource group|Acquiring resource group|"
                   r"Releasing resource group|Running /etc/ha.d/+resource.d/|(Stopping|Started|Stopped) nginx|"
                   r"takeover complete\.|Main process exited|Scheduled restart|Started heartbeat|"
                   r"Initial resource acquisition complete|remote resource transition completed")


# "dir2 heartbeat[1142]: [1142]: info: " before the message itself.
LOG_PREFIX = re.compile(r"^\S+ [^:]+: (\[\d+\]: )?((info|debug|INFO|WARN|ERROR|CRIT): )?")


def timeline(since: float, figures: dict) -> str:
    """Every step of the takeover that began at `since` (the host's clock; the guests' journals are read on it),
    on both directors, in order, as seconds after it, with the client's first answers from the other node and back
    (`figures` of measure(), whose clock starts just before `since`)."""
    steps = [(figures["moved_after"], "client", "the first of 10 answers in a row from dir2")]
    for name in ("dir1", "dir2"):
        for stamp, rest in journal_since(name, since):
            if STEPS.search(rest):
                message = LOG_PREFIX.sub("", rest).strip()
                steps.append((round(stamp - since, 2), name, message))
    return "\n".join(f"  +{offset:5.2f} s {name}: {message}" for offset, name, message in sorted(set(steps)))


@pytest.fixture(scope="module")
def pair(playbook):
    return converge(playbook, PLAYBOOK, " (heartbeat and the prerequisites installed)", "site.yml")


def test_the_pair_converges_idempotent_and_check_mode_changes_nothing(pair):
    assert_converged(pair, ("dir1", "dir2"), SECRET)
    for name in ("dir1", "dir2"):
        assert ssh(name, "stat -c '%a %U' /etc/ha.d/authkeys").split() == ["600", "root"]
        assert ssh(name, "systemctl is-enabled nginx || true").strip() == "disabled"
        # Installed without recommends: no pacemaker, no corosync.
        installed = ssh(name, "dpkg-query -W -f '${db:Status-Abbrev}' pacemaker corosync 2>/dev/null || true")
        assert "ii" not in installed
    state = settled("dir1")
    assert state["dir1"]["resources"] in ("all", "local")


def test_the_audit_finds_nothing_then_names_the_resources_started_on_both_nodes(pair, playbook):
    """playbooks/audit.yml on the settled pair: no finding, nothing changed. Then the VIP and nginx started by hand on
    dir2 as well: a split brain, each node named with what it holds and whether heartbeat says it holds them."""
    settled("dir1")
    result, findings, seconds = run_audit(playbook)
    print(f"\nthe audit on the heartbeat pair: {len(findings)} findings in {seconds:.0f} s")
    assert findings == [] and "no findings" in result.stdout, findings
    assert recap(result) == dict.fromkeys(("dir1", "dir2", "client"), 0), result.stdout[-2000:]
    ssh("dir2", f"ip addr add {VIP}/24 dev vec0 && systemctl start nginx")
    try:
        result, findings, _seconds = run_audit(playbook, ok=False)
    finally:
        ssh("dir2", f"ip addr del {VIP}/24 dev vec0; systemctl stop nginx")
    print("\nheartbeat's resources started on dir2 too:\n" + audit_report(findings))
    assert [(item["severity"], item["check"], item["node"]) for item in findings] == [
        ("critical", "heartbeat.split_brain", "dir1,dir2")], findings
    assert f"dir1 holds VIP {VIP}, nginx (heartbeat: holds them here" in findings[0]["seen"], findings[0]
    assert f"dir2 holds VIP {VIP}, nginx (heartbeat: not here" in findings[0]["seen"], findings[0]
    settled("dir1")


def test_bad_input_is_refused_before_anything_changes(pair, playbook):
    """heartbeat has no configuration check: the role's preflight names every bad setting at once and no
    node changes (files, addresses, units, heartbeat's process)."""
    def state():
        return {name: host_state(name, "systemctl show -P MainPID heartbeat") for name in ("dir1", "dir2")}
    before = state()
    bad = {"heartbeat_ha_initdead": 5, "heartbeat_ha_vips": [{"address": VIP}], "heartbeat_ha_udpport": 70000,
           "heartbeat_ha_ping_nodes": ["gateway"]}
    refused = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps(bad), ok=False)
    assert_refused_unchanged(refused, ("dir1", "dir2"), before, state(), [
        "heartbeat_ha_initdead=5: must be at least twice heartbeat_ha_deadtime (4) and at least 10 s",
        f"heartbeat_ha_vips[0].address='{VIP}': an IPv4 address/prefix is required",
        "heartbeat_ha_udpport=70000: must be from 1 to 65535",
        "heartbeat_ha_ping_nodes[0]='gateway': not an IP address"], secrets=(SECRET,))


def test_heartbeat_stopped_on_the_primary(pair):
    state = {}

    def stop():
        state["since"] = time.time()
        ssh("dir1", "systemctl stop heartbeat")
        state.update(settled("dir2"))

    figures = measure("heartbeat stopped on the primary, then started (auto_failback on)", stop,
                      lambda: ssh("dir1", "systemctl start heartbeat"), vip=VIP, timeout=120)
    print(f"the clean stop's handover, step by step:\n{timeline(state.pop('since'), figures)}")
    # The secondary carried both resources and knew it; the stopped primary had released both.
    assert state["dir2"] == {"vip": True, "nginx": True, "resources": "all"}, state
    assert state["dir1"] == {"vip": False, "nginx": False, "resources": "down"}, state
    settled("dir1")


def released(name: str, timeout: float = 20) -> float:
    """Poll until `name` holds neither the VIP nor nginx; the seconds it took."""
    start = time.monotonic()
    while (state := where()[name])["vip"] or state["nginx"]:
        assert time.monotonic() - start < timeout, f"{name} still holds after {timeout} s: {state}"
        time.sleep(0.2)
    return time.monotonic() - start


def test_heartbeat_killed_on_the_primary(pair):
    """SIGKILL: heartbeat releases nothing itself. The unit's drop-in stops nginx and deletes the VIP on dir1 as soon
    as heartbeat's process is gone, dir2 takes both over at the deadtime, systemd starts dir1's heartbeat again
    deadtime + 5 s after the kill and dir1 takes the resources back (auto_failback)."""
    pid = ssh("dir1", "systemctl show -P MainPID heartbeat").strip()
    seen = {}

    def kill():
        seen["since"] = time.time()
        # Every process stopped first, then killed: none of them gets to release anything.
        ssh("dir1", "systemctl kill --signal=STOP heartbeat; systemctl kill --signal=KILL heartbeat")
        seen["released_after"] = released("dir1")

    def back_by_itself() -> float:
        seen["holders"] = holder(VIP)
        return restarted("dir1", "heartbeat", pid)

    figures = measure("heartbeat killed (SIGKILL) on the primary, started again by systemd", kill, back_by_itself,
                      vip=VIP, timeout=120)
    print(f"dir1 released nginx and the VIP {seen['released_after']:.1f} s after the kill; dir2 answered "
          f"{figures['moved_after']:.1f} s after it (deadtime {DEADTIME} s, target deadtime + 2 s); holders then: "
          f"{sorted(seen['holders'])}; step by step:\n{timeline(seen['since'], figures)}")
    assert figures["moved_after"] >= DEADTIME - 0.5
    assert len(seen["holders"]) == 1, seen
    settled("dir1")


def test_ha_cf_change_is_reloaded_without_moving_the_resources(pair, playbook):
    """auto_failback off through `heartbeat -r`: the VIP stays, no request fails; then the returning
    primary leaves the resources on the secondary."""
    pids = {name: ssh(name, "systemctl show -P MainPID heartbeat") for name in ("dir1", "dir2")}
    watch = Watch(VIP)
    watch.until("dir1")
    changed = playbook(PLAYBOOK, *CHANGE, "-e", '{"heartbeat_ha_auto_failback": false}')
    watch.until("dir1", count=20)
    figures = watch.stop()
    report("ha.cf changed (auto_failback off) and reloaded with heartbeat -r", figures)
    assert "RUNNING HANDLER [linux_cluster.lvs.heartbeat_ha : Reload heartbeat]" in changed.stdout
    assert pids == {name: ssh(name, "systemctl show -P MainPID heartbeat") for name in ("dir1", "dir2")}
    assert figures["failed"] == 0
    assert "auto_failback off" in ssh("dir2", "cat /etc/ha.d/ha.cf")

    watch = Watch(VIP)
    watch.until("dir1")
    ssh("dir1", "systemctl stop heartbeat")
    watch.until("dir2")
    ssh("dir1", "systemctl start heartbeat")
    deadline = time.monotonic() + 90
    while ssh("dir1", "cl_status hbstatus >/dev/null 2>&1 && cl_status nodestatus dir2 || true").strip() != "active":
        assert time.monotonic() < deadline, "dir1's heartbeat did not see dir2 again"
        time.sleep(1)
    watch.until("dir2", count=30)
    figures = watch.stop()
    report("auto_failback off: primary stopped and started again, resources stayed on the secondary", figures)
    state = settled("dir2")
    assert state["dir1"]["resources"] in ("none", "local")


def test_haresources_change_restarts_one_node_at_a_time(pair, playbook):
    """A second VIP: haresources is read at start only, so each node restarts in turn. Measured from the
    client on the first VIP, which is on dir2 since the previous case (auto_failback off)."""
    second = "192.0.2.86"
    watch = Watch(VIP)
    watch.until("dir2")
    vips = [{"address": f"{VIP}/24"}, {"address": f"{second}/24"}]
    changed = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps({"heartbeat_ha_vips": vips}))
    deadline = time.monotonic() + 120
    while not holder(second):
        assert time.monotonic() < deadline, "the second VIP was not taken by any node"
        time.sleep(1)
    owner = holder(VIP)
    assert len(owner) == 1 and holder(second) == owner
    watch.until(owner.pop(), count=10, timeout=120)
    figures = watch.stop()
    report("haresources changed (a second VIP): heartbeat restarted one node at a time", figures)
    assert all(count > 0 for count in recap(changed).values())


def test_summary():
    print("\n" + all_figures())
