"""Helpers the lab tests share: tools/lab as a function, a playbook recap as data, the client's request loop.
(tests/integration is on sys.path: pytest puts the directory of its conftest.py there.)"""

from __future__ import annotations

import collections
import difflib
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / ".build/collections"))

from ansible_collections.linux_cluster.lvs.plugins.module_utils._audit import report_lines  # noqa: E402
from labctl import host as labhost  # noqa: E402
from labctl import topology  # noqa: E402


def lab(*args: str, stdin: str | None = None, timeout: float = 600) -> str:
    """tools/lab ARGS; its output. Fails the test when it fails."""
    result = subprocess.run([str(ROOT / "tools/lab"), *args], input=stdin, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"tools/lab {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def set_link(name: str, net: str, up: bool) -> None:
    """Cut (or restore) a guest's link to network `net` at the switch: its tap leaves (or joins again)
    the network's bridge. The guest's interface stays up and learns nothing, as with a cable pulled
    at the far end. (Setting the tap down instead can leave a UML guest's NIC dead once it is up again.)
    The tests run inside the lab's namespace."""
    tap = next(nic["tap"] for nic in topology.guest_interfaces(name) if nic["net"] == net)
    master = ["master", topology.bridge_name(net)] if up else ["nomaster"]
    subprocess.run(["ip", "link", "set", "dev", tap, *master], check=True)


def interface_to(name: str, address: str) -> str:
    """The guest's interface toward `address` (vec0 on UML, ens3 on QEMU: never written into a test)."""
    return json.loads(lab("ssh", name, f"ip -j route get {address}"))[0]["dev"]


def role_alone(role: str) -> tuple[str, ...]:
    """ansible-playbook options for a change to a pair `role` has built: the role's own tasks without its
    install phase, as an operator changes a running pair (no package checks, no other roles or pre-tasks)."""
    return ("--tags", role, "--skip-tags", "install")


CALLBACKS = ROOT / "tests/integration/callback_plugins"


def stats_env(env: dict, path: Path | str, callbacks: Path | str = CALLBACKS) -> dict:
    """`env` with the lab_stats callback (found in `callbacks`) enabled, writing a run's statistics to `path`."""
    return dict(env, ANSIBLE_CALLBACK_PLUGINS=str(callbacks), ANSIBLE_CALLBACKS_ENABLED="lab_stats",
                LVS_TEST_STATS=str(path))


def read_stats(path: Path) -> dict:
    """What lab_stats wrote ({} when the run ended before its recap)."""
    return json.loads(path.read_text()) if path.exists() else {}


def run_with_stats(argv: list[str], env: dict, check: bool = False, **options) -> subprocess.CompletedProcess:
    """An ansible-playbook run with Ansible's own statistics of it as `.stats` ({host: {ok, changed, unreachable,
    failures, ...}}; empty when the run ended before its recap)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stats.json"
        result = subprocess.run(argv, env=stats_env(env, path), check=check, **options)
        result.stats = read_stats(path)
    return result


def recap(run: subprocess.CompletedProcess) -> dict:
    """{host: changed} of a run of run_with_stats (the counts its PLAY RECAP prints)."""
    return {host: counts["changed"] for host, counts in run.stats.items()}


def converge(playbook, path: str, note: str = "", first_path: str = "") -> tuple:
    """`path` run twice (the first run `first_path` when given: site.yml, building the topology with the
    prerequisites) and then with --check --diff; prints the two runs' times. The three results."""
    start = time.monotonic()
    first = playbook(first_path or path)
    middle = time.monotonic()
    second = playbook(path)
    took = (middle - start, time.monotonic() - middle)
    print(f"\n{first_path or path}: first run {took[0]:.0f} s{note}; {path}: re-run {took[1]:.0f} s "
          f"({100 * took[1] / took[0]:.0f} % of the first)")
    return first, second, playbook(path, "--check", "--diff")


def switched(playbook, topology: str, *args: str):
    """playbook(path, *args) against the lab with its directors switched to `topology` (site.yml's switch,
    inventories/lab-topologies/TOPOLOGY.yml) and `args` (a --limit to the lab's guests) on every run."""
    switch = str(ROOT / f"inventories/lab-topologies/{topology}.yml")

    def run(path: str, *more: str, **options):
        return playbook(path, "-i", switch, *args, *more, **options)

    return run


def operator_firewall(name: str, on: bool, ports: tuple[int, ...] = (22, 80)) -> None:
    """An operator's host firewall on `name` (on) or gone (off): what it knows in (loopback, replies, TCP `ports`,
    ping), everything else dropped, VRRP adverts included unless a rule ahead of it accepts them."""
    known = ("-i lo", "-m conntrack --ctstate ESTABLISHED,RELATED",
             f"-p tcp -m multiport --dports {','.join(map(str, ports))}", "-p icmp")
    rules = "; ".join(f"iptables-legacy {'-A' if on else '-D'} INPUT {rule} -j ACCEPT" for rule in known)
    lab("ssh", name, f"{rules}; iptables-legacy -P INPUT {'DROP' if on else 'ACCEPT'}")


def assert_converged(runs: tuple, hosts: tuple[str, ...], secret: str) -> None:
    """The re-run and the check run changed nothing on `hosts`; `secret` appears in no output."""
    _first, second, check = runs
    quiet = dict.fromkeys(hosts, 0)
    assert recap(second) == quiet, second.stdout[-2000:]
    assert recap(check) == quiet, check.stdout[-2000:]
    for run in runs:
        assert secret not in run.stdout + run.stderr


# What a refused run must leave as it was on a guest: the configuration the roles write, the kernel
# state they set (addresses, routes, IPVS, firewall rules, sysctls) and the services running.
STATE_FILES = ("/etc/keepalived", "/etc/ha.d", "/etc/sysctl.d", "/etc/systemd/system", "/etc/nginx", "/etc/hosts",
               "/etc/chrony",
               "/etc/default/ipvsadm", "/etc/ipvsadm.rules", "/etc/modules-load.d", "/usr/local/sbin")
STATE_COMMANDS = (
    "ip -o addr show", "ip route show table main", "ipvsadm -Sn 2>/dev/null",
    "iptables-legacy-save 2>/dev/null | grep -v '^[#:]'",
    "sysctl net.ipv4.ip_forward net.ipv4.ip_nonlocal_bind net.ipv4.conf.all.arp_ignore "
    "net.ipv4.conf.all.arp_announce net.ipv4.conf.all.rp_filter net.ipv4.conf.all.send_redirects",
    "systemctl list-units --type=service --state=running --no-legend --plain | cut -d' ' -f1",
)


def host_state(name: str, *commands: str) -> str:
    """One SSH call: every file under STATE_FILES hashed, the output of STATE_COMMANDS and of `commands` (a
    daemon's process id, say). Compared before and after a run that must change nothing."""
    paths = " ".join(STATE_FILES)
    script = [f"find {paths} -xdev -type f 2>/dev/null | sort | xargs -r md5sum", *STATE_COMMANDS, *commands]
    return lab("ssh", name, "; ".join(f"echo '## {command}'; {command}" for command in script))


def assert_unchanged(before: dict, after: dict, hosts) -> None:
    """Each of `hosts` in the same state (host_state) after as before; the difference shown when not."""
    for name in hosts:
        assert after[name] == before[name], (name, "\n".join(difflib.unified_diff(
            before[name].splitlines(), after[name].splitlines(), "before", "after", lineterm="")))


def assert_refused_unchanged(result, hosts: tuple[str, ...], before: dict, after: dict, problems: list[str],
                             secrets: tuple[str, ...] = ()) -> None:
    """A run refused at a preflight: it failed, named each problem, changed nothing on `hosts` (as ansible
    reports it and as the guests' state shows), and printed no secret."""
    assert result.returncode != 0
    for problem in problems:
        assert problem in result.stdout, (problem, result.stdout[-4000:])
    changed = recap(result)
    assert all(changed.get(host) == 0 for host in hosts), changed
    assert_unchanged(before, after, hosts)
    for secret in secrets:
        assert secret not in result.stdout + result.stderr


# Runs on the client: `count` rounds of one request to each port, each on a new connection (so
# IPVS schedules every one), five seconds at most each (a slow guest is not a failure); prints the
# answer (a real server's name) or FAILED. One interpreter for all of them: a process start costs a
# UML guest about a second.
REQUEST_LOOP = """
import http.client, sys
host, count, ports = sys.argv[1], int(sys.argv[2]), [int(port) for port in sys.argv[3].split(",")]
for _round in range(count):
    for port in ports:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            reply = conn.getresponse()
            body = reply.read().decode().strip()
            print(body if reply.status == 200 and body else "FAILED", flush=True)
        except (OSError, http.client.HTTPException):
            print("FAILED", flush=True)
        finally:
            conn.close()
"""


def answers(address: str, count: int, ports: tuple[int, ...] = (80,)) -> list[str]:
    """`count` rounds of requests from the client, one at a time: each answer in order, a real server's
    name or FAILED."""
    command = shlex.join(["python3", "-", address, str(count), ",".join(map(str, ports))])
    return lab("ssh", "client", command, stdin=REQUEST_LOOP).split()


def requests(address: str, count: int, ports: tuple[int, ...] = (80,)) -> collections.Counter:
    return collections.Counter(answers(address, count, ports))


def audit_report(findings: list[dict]) -> str:
    """The findings as the audit's report prints them."""
    return "\n".join(report_lines(findings))


def run_audit(run, *args: str, ok: bool = True, **options) -> tuple:
    """playbooks/audit.yml through `run` (a playbook fixture): (the run, its findings from the JSON report, seconds).
    Every guest the lab runs has the same state after the run as before (host_state, with the daemons' process
    ids): the audit changes nothing, whatever it finds."""
    guests = sorted(labhost.running_guests(labhost.instance_dir()))
    before = guest_states(guests)
    report = Path(tempfile.mkdtemp(prefix="lvs-audit.")) / "report.json"
    started = time.monotonic()
    result = run("playbooks/audit.yml", "-e", f"audit_report_file={report}", *args, ok=ok, **options)
    seconds = time.monotonic() - started
    findings = json.loads(report.read_text())["findings"]
    shutil.rmtree(report.parent)
    assert_unchanged(before, guest_states(guests), guests)
    return result, findings, seconds


def guest_states(guests: list[str]) -> dict[str, str]:
    """host_state of each guest, with the cluster daemons' process ids, read on all of them at once."""
    with ThreadPoolExecutor(max_workers=len(guests) or 1) as pool:
        states = pool.map(lambda name: host_state(name, "systemctl show -p MainPID keepalived heartbeat nginx chrony"),
                          guests)
    return dict(zip(guests, states))
