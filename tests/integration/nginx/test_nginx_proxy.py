"""nginx as a reverse proxy on the lab's two directors, made HA by keepalived (site.yml's nginx_pair topology,
playbooks/nginx_ha.yml), proven with requests from the client.

scripts/run-tests (stage `nginx`) runs this on a lab of dir1, dir2, rs1, rs2 and the client. The proxies listen on
keepalived's VIP 192.0.2.80 (dir1 master) and proxy to rs1 and rs2, whose pages name them; the proxy that answers
names itself in an X-Proxy header (inventories/lab/group_vars/nginx_pair.yml). For each failure the client requests
every 50 ms through the VIP, the test waits (polling, bounded) for the state it expects and reports the longest
ping gap and the failed requests.
"""

from __future__ import annotations

import collections
import json
import time

import pytest
from labhelp import (
    ROOT,
    assert_refused_unchanged,
    audit_report,
    host_state,
    lab,
    recap,
    requests,
    role_alone,
    run_audit,
)
from vipwatch import Watch, report, restarted
from vipwatch import holder as holder_of
from vipwatch import measure as measure_vip
from vipwatch import wait_for_holders as wait_for_vip_holders

VIP = "192.0.2.80"
PLAYBOOK = "playbooks/nginx_ha.yml"
NODES = ("dir1", "dir2", "rs1", "rs2")
# A change to the built pair: the proxy role alone, as an operator changes a running proxy.
CHANGE = role_alone("nginx_proxy")


def ssh(name: str, command: str) -> str:
    return lab("ssh", name, command)


def holder() -> set[str]:
    return holder_of(VIP)


def requests_through(port: int, count: int) -> collections.Counter:
    """`count` requests one after another from the client through the VIP's `port` (the suite's request loop):
    the answers, a real server's name or FAILED."""
    return requests(VIP, count, (port,))


def nginx_state(name: str) -> str:
    return host_state(name, "systemctl show -P MainPID nginx", "ps -o pid= --ppid $(cat /run/nginx.pid)")


@pytest.fixture(scope="module")
def pair(playbook):
    """The pair built on fresh guests: a --check --diff run first (nothing installed yet, nothing changed), then
    site.yml with the nginx_pair switch (the prerequisites, the proxies and their backends), the pair's playbook
    re-run and a --check --diff run of it on the converged pair."""
    before = {name: host_state(name) for name in ("dir1", "dir2")}
    fresh = playbook(PLAYBOOK, "--check", "--diff")
    after = {name: host_state(name) for name in ("dir1", "dir2")}
    first = playbook("site.yml")
    second = playbook(PLAYBOOK)
    check = playbook(PLAYBOOK, "--check", "--diff")
    return {"fresh": fresh, "fresh_before": before, "fresh_after": after, "first": first, "second": second,
            "check": check}


def test_check_mode_on_fresh_proxies_changes_nothing(pair):
    assert "+upstream web {" in pair["fresh"].stdout, pair["fresh"].stdout[-3000:]
    assert pair["fresh_after"] == pair["fresh_before"]


def test_the_pair_converges_idempotent_and_check_mode_changes_nothing(pair):
    assert recap(pair["second"]) == dict.fromkeys(NODES, 0), pair["second"].stdout[-2000:]
    assert recap(pair["check"]) == dict.fromkeys(NODES, 0), pair["check"].stdout[-2000:]
    assert "lab-Pw!1" not in pair["first"].stdout + pair["check"].stdout
    assert holder() == {"dir1"}
    # nginx runs on the backup too, listening on the VIP it does not hold.
    assert "192.0.2.80:80" in ssh("dir2", "ss -Hltn sport = :80")


def test_the_audit_finds_nothing_on_the_pair(pair, playbook):
    """playbooks/audit.yml on the nginx pair (VI_web, 192.0.2.80): one MASTER, the peers agreeing, the VIP on dir1
    alone and answered in ARP by dir1 alone."""
    result, findings, seconds = run_audit(playbook)
    print(f"\nthe audit on the nginx pair (VI_web, 192.0.2.80): {len(findings)} findings in {seconds:.0f} s")
    assert findings == [] and "no findings" in result.stdout, findings


def test_the_audit_names_a_proxy_configuration_edited_by_hand(pair, playbook):
    """A line appended by hand to dir1's http.conf (dir1 holds the VIP): an error naming the file; nothing else."""
    live = "/etc/nginx/linux-cluster/http.conf"
    ssh("dir1", f"cp -p {live} /run/http.conf.kept && echo '# edited by hand' >> {live}")
    try:
        _result, findings, _seconds = run_audit(playbook, ok=False)
    finally:
        ssh("dir1", f"mv /run/http.conf.kept {live}")
    print("\nhttp.conf edited by hand on dir1:\n" + audit_report(findings))
    assert [(item["severity"], item["check"], item["node"], item["object"]) for item in findings] == [
        ("error", "nginx.config", "dir1", f"{live} (holding 192.0.2.80)")], findings


def test_requests_are_spread_as_each_upstream_says(pair):
    weighted, by_client = requests_through(80, 200), requests_through(81, 20)
    fewest, stream = requests_through(82, 20), requests_through(9000, 20)
    print(f"\nthrough the VIP: weights 1:3 {dict(weighted)}; ip_hash {dict(by_client)}; least_conn {dict(fewest)}; "
          f"stream (TCP) {dict(stream)}")
    assert weighted == {"rs1": 50, "rs2": 150}, weighted
    assert len(by_client) == 1 and "FAILED" not in by_client, by_client
    assert set(fewest) == {"rs1", "rs2"}, fewest
    assert stream == {"rs1": 10, "rs2": 10}, stream


def test_a_stopped_real_server_is_routed_around(pair):
    """nginx's passive check: the first request to the stopped rs1 is passed on to rs2 (proxy_next_upstream error),
    then rs1 is left out for fail_timeout (10 s); started again, it is used again once that time is over."""
    ssh("rs1", "systemctl stop nginx")
    try:
        down = requests_through(80, 40)
    finally:
        ssh("rs1", "systemctl start nginx")
    print(f"\nrs1's nginx stopped: {dict(down)}")
    assert down == {"rs2": 40}, down
    # Polled for a time, not a number of rounds: a round of 8 requests takes well under a second, and rs1 stays out
    # for the 10 s of fail_timeout.
    started, again = time.monotonic(), collections.Counter()
    while not again.get("rs1") and time.monotonic() - started < 30:
        again = requests_through(80, 8)
    print(f"rs1 used again {time.monotonic() - started:.1f} s after its nginx started")
    assert again.get("rs1"), f"rs1 not used again within 30 s: {again}"


def test_nginx_killed_on_the_master_proxy(pair):
    """systemd starts nginx again at once (the role's restart drop-in); keepalived's process check would move the
    VIP after two failed checks (2 s). The client's failed requests and gap are the figures."""
    pid = ssh("dir1", "systemctl show -P MainPID nginx").strip()
    watch = Watch(VIP)
    watch.until("dir1")
    killed = time.time()
    ssh("dir1", "systemctl kill --signal=KILL nginx")
    started = restarted("dir1", "nginx", pid, timeout=30)
    answered = watch.until({"dir1", "dir2"}, count=20)
    summary = watch.stop()
    report("nginx killed (SIGKILL) on the master proxy, started again by systemd", summary,
           f" (nginx started again {started - killed:.2f} s after the kill, requests answered again from "
           f"{answered - killed:.2f} s; VIP holders then {sorted(holder())})")
    wait_for_vip_holders(VIP, {"dir1"})


def test_maintenance_file_moves_the_vip_to_the_other_proxy(pair):
    measure_vip("maintenance file on the master proxy, then removed",
                lambda: ssh("dir1", "touch /etc/keepalived/down"), lambda: ssh("dir1", "rm /etc/keepalived/down"),
                vip=VIP)
    assert holder() == {"dir1"}


# Bad input in three layers, each stopped before any node changes: a wrong type (the role's argument specs), bad
# values (the field checks), and fields that cannot go together (the rules between them).
def _upstream(**server) -> dict:
    return {"name": "web", "method": "hash", "servers": [{"address": "192.0.2.21", **server},
                                                         {"address": "192.0.2.22", "backup": True}]}


BAD_INPUTS = [
    ({"nginx_proxy_upstreams": [_upstream(weight="heavy")]},
     ["weight", "nginx_proxy_upstreams"]),
    ({"nginx_proxy_upstreams": [_upstream(port=70000)],
      "nginx_proxy_servers": [{"address": "192.0.2.300", "locations": [{"upstream": "web"}]}]},
     ["dir1: nginx_proxy_upstreams[0].servers[0].port=70000: must be from 1 to 65535",
      "dir2: nginx_proxy_servers[0].address='192.0.2.300': not an IP address"]),
    ({"nginx_proxy_upstreams": [_upstream()],
      "nginx_proxy_servers": [{"address": VIP, "locations": [{"upstream": "nowhere"}]}]},
     ["dir1: nginx_proxy_upstreams[0].hash_key=None: method hash needs a key",
      "dir2: nginx_proxy_upstreams[0].servers[1].backup=True: nginx has no backup server with method hash",
      "dir1: nginx_proxy_servers[0].locations[0].upstream='nowhere': no such upstream in nginx_proxy_upstreams"]),
]


@pytest.mark.parametrize(("bad", "problems"), BAD_INPUTS, ids=["type", "values", "rules"])
def test_bad_input_is_refused_before_any_node_changes(pair, playbook, bad, problems):
    before = {name: nginx_state(name) for name in ("dir1", "dir2")}
    refused = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps(bad), ok=False)
    assert_refused_unchanged(refused, ("dir1", "dir2"), before, {name: nginx_state(name) for name in ("dir1", "dir2")},
                             problems)


def test_a_configuration_nginx_refuses_changes_nothing_live(pair, playbook):
    servers = [{"address": VIP, "locations": [{"upstream": "web", "directives": ["no_such_directive on;"]}]}]
    before = {name: nginx_state(name) for name in ("dir1", "dir2")}
    refused = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps({"nginx_proxy_servers": servers}), ok=False)
    # Only the staged candidate was written (outside /etc/nginx); every live file, nginx's master and its workers
    # are as they were.
    assert refused.returncode != 0
    assert 'unknown directive "no_such_directive"' in refused.stdout, refused.stdout[-3000:]
    assert "nginx -t refused the candidate configuration" in refused.stdout
    assert {name: nginx_state(name) for name in ("dir1", "dir2")} == before
    assert requests_through(80, 4).keys() <= {"rs1", "rs2"}


def test_a_reload_that_cannot_bind_is_a_failure(pair, playbook):
    """sshd holds port 22 on every address: nginx -t passes (its test ignores 'address in use'), the reload exits
    0 and the master keeps its old configuration; the role reports nginx's error and puts the files nginx runs back.
    The old workers keep serving."""
    streams = {"nginx_proxy_stream_servers": [{"address": VIP, "port": 9000, "upstream": "tcp_web"},
                                              {"address": VIP, "port": 22, "upstream": "tcp_web"}]}
    before = {name: nginx_state(name) for name in ("dir1", "dir2")}
    failed = playbook(PLAYBOOK, *CHANGE, "-e", json.dumps(streams), ok=False)
    assert "bind() to 192.0.2.80:22 failed (98: Address already in use)" in failed.stdout, failed.stdout[-3000:]
    assert "nginx still runs the configuration it had, and its files were put back" in failed.stdout
    # The files, the master and its workers as they were (the staged candidate aside, outside /etc/nginx).
    assert {name: nginx_state(name) for name in ("dir1", "dir2")} == before
    assert requests_through(9000, 4).keys() <= {"rs1", "rs2"}


def test_dual_master_each_vip_on_its_own_proxy(pair, playbook):
    playbook(PLAYBOOK, "--tags", "nginx_proxy,keepalived_ha", "--skip-tags", "install",
             "-e", f"@{ROOT}/inventories/lab-topologies/nginx/dual_master.yml")
    wait_for_vip_holders("192.0.2.81", {"dir2"})
    assert holder() == {"dir1"}
    measure_vip("dual master: the first VIP's proxy stopped (maintenance file), then back",
                lambda: ssh("dir1", "touch /etc/keepalived/down"), lambda: ssh("dir1", "rm /etc/keepalived/down"),
                vip=VIP)
    measure_vip("dual master: the second VIP's proxy stopped (maintenance file), then back",
                lambda: ssh("dir2", "touch /etc/keepalived/down"), lambda: ssh("dir2", "rm /etc/keepalived/down"),
                vip="192.0.2.81", to="dir1", home="dir2")
