"""The lab controller's pure parts: topology, inventory, guest command line, repository index."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))

from labctl import docker, guests, host, image, repo, topology  # noqa: E402

DOC_RANGES = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def test_committed_inventory_is_the_generated_one():
    from labctl.cli import INVENTORY_KEY_EXPR

    assert (ROOT / "inventories/lab/hosts.yml").read_text() == topology.inventory_text(INVENTORY_KEY_EXPR)


def test_every_lab_address_is_a_documentation_address():
    for name in topology.GUESTS:
        for nic in topology.guest_interfaces(name):
            for key in ("ipv4", "ipv6"):
                address = ipaddress.ip_interface(nic[key]).ip
                assert any(address in net for net in DOC_RANGES), (name, nic)


def test_real_servers_reach_the_outside_network_only_through_a_director():
    holders = {name for name in topology.GUESTS
               for nic in topology.guest_interfaces(name) if "outside" in nic["overlays"]}
    assert holders == {"dir1", "dir2", "client"}
    client_args = guests.nic_arguments("client")
    assert client_args == ["lab.nic0=02:4c:56:00:01:64,192.0.2.100/24,2001:db8:0:2::64/64,"
                           "203.0.113.100/24,2001:db8:0:1::64/64"]


def test_addresses_and_macs_are_unique():
    nics = [nic for name in topology.GUESTS for nic in topology.guest_interfaces(name)]
    for key in ("ipv4", "ipv6", "mac", "tap"):
        values = [nic[key] for nic in nics]
        assert len(values) == len(set(values)), key
    assert all(len(nic["tap"]) <= 15 for nic in nics)


def test_uml_command_line(tmp_path):
    argv = guests.uml_argv("dir1", tmp_path / "base.img", tmp_path, "256M")
    assert argv[0] == "linux.uml"
    assert "vec0:transport=tap,ifname=t-dir1-0,mac=02:4c:56:00:01:0b,gro=1" in argv
    assert "vec1:transport=tap,ifname=t-dir1-1,mac=02:4c:56:00:02:0b,gro=1" in argv
    assert "lab.nic0=02:4c:56:00:01:0b,192.0.2.11/24,2001:db8:0:2::b/64,203.0.113.11/24,2001:db8:0:1::b/64" in argv
    assert "lab.nic1=02:4c:56:00:02:0b,198.51.100.11/24,2001:db8:0:3::b/64" in argv
    assert f"ubd0={tmp_path / 'dir1.cow'},{tmp_path / 'base.img'}" in argv


def test_qemu_command_line(tmp_path):
    argv = guests.qemu_argv("rs2", tmp_path / "base.img", tmp_path, "384M")
    assert argv[:3] == ["qemu-system-x86_64", "-accel", "tcg,thread=multi,tb-size=128"]
    assert "-enable-kvm" not in argv and "host" not in argv
    append = argv[argv.index("-append") + 1]
    assert "root=/dev/vda" in append and "lab.nic1=02:4c:56:00:02:16,198.51.100.22/24,2001:db8:0:3::16/64" in append
    assert "virtio-net-pci,netdev=n0,mac=02:4c:56:00:01:16" in argv


def test_the_repository_index_lists_each_package_with_its_file_and_checksums(tmp_path):
    """dpkg-scanpackages on a package dpkg-deb built: apt finds it under ./NAME.deb with its size and SHA256."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text("Package: lvs-probe\nVersion: 1.0-1\nArchitecture: all\n"
                                         "Maintainer: lab <lab@example.org>\nDescription: probe\n")
    built = tmp_path / "repo"
    built.mkdir()
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(built / "lvs-probe_1.0-1_all.deb")],
                   check=True, capture_output=True)
    repo._index(built)
    data = (built / "lvs-probe_1.0-1_all.deb").read_bytes()
    fields = dict(line.split(": ", 1) for line in (built / "Packages").read_text().strip().splitlines())
    assert (fields["Package"], fields["Version"], fields["Filename"]) == \
        ("lvs-probe", "1.0-1", "./lvs-probe_1.0-1_all.deb")
    assert (int(fields["Size"]), fields["SHA256"]) == (len(data), hashlib.sha256(data).hexdigest())
    with gzip.open(built / "Packages.gz", "rt") as handle:
        assert handle.read() == (built / "Packages").read_text()


def test_repository_sources_point_at_the_controller():
    assert repo.sources_line() == "deb [trusted=yes] http://192.0.2.1:8000 ./\n"


def test_image_versions(tmp_path):
    status = tmp_path / "status"
    status.write_text("Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n"
                      "Package: nginx\nVersion: 1.22.1-9\n")
    assert repo.image_versions(status) == {"libc6": "2.36-9", "nginx": "1.22.1-9"}


def test_a_guest_that_dies_while_booting_is_booted_again(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    alive = {"dir1": False}
    boots = []

    def boot(name):
        boots.append(name)
        alive[name] = True

    monkeypatch.setattr(host, "running_guests", lambda _instance: {n: 1 for n, up in alive.items() if up})
    monkeypatch.setattr(guests, "ssh_argv", lambda name, command: ["ssh", name, *command])
    monkeypatch.setattr(host, "run", lambda *a, **k: type("R", (), {"returncode": 0, "stdout": "running"})())
    monkeypatch.setattr(guests.time, "sleep", lambda _s: None)
    guests.wait_ready(["dir1"], 10, boot=boot)
    assert boots == ["dir1"]


def test_a_guest_slower_than_one_probe_is_waited_for(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    answers = iter([subprocess.TimeoutExpired("ssh", 60), type("R", (), {"returncode": 0, "stdout": "running"})()])

    def probe(*_args, **_kwargs):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(host, "running_guests", lambda _instance: {"dir1": 1})
    monkeypatch.setattr(guests, "ssh_argv", lambda name, command: ["ssh", name, *command])
    monkeypatch.setattr(host, "run", probe)
    monkeypatch.setattr(guests.time, "sleep", lambda _s: None)
    guests.wait_ready(["dir1"], 120)


def test_a_guest_that_keeps_dying_fails_with_how_it_ended(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    log = host.instance_dir() / "run" / "dir1.log"
    log.parent.mkdir(parents=True)
    log.write_text("Bus error - the host /dev/shm or /tmp mount likely just ran out of space\n")
    boots = []
    monkeypatch.setattr(host, "running_guests", lambda _instance: {})
    monkeypatch.setattr(guests.time, "sleep", lambda _s: None)
    with pytest.raises(SystemExit) as failed:
        guests.wait_ready(["dir1"], 10, boot=boots.append)
    assert len(boots) == guests.BOOT_ATTEMPTS - 1
    message = str(failed.value)
    assert f"attempt {guests.BOOT_ATTEMPTS}" in message
    assert "/dev/shm" in message and "MiB free" in message
    assert "Bus error" in message


def test_an_ended_repository_server_is_started_again(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    served = []
    monkeypatch.setattr(repo, "serve", served.append)
    repo.revive(tmp_path)
    assert served == []  # this lab never had a server
    pidfile = host.instance_dir() / "repo.pid"
    pidfile.parent.mkdir(parents=True)
    pidfile.write_text(f"{os.getpid()}\n")  # alive, but not a repository server
    repo.revive(tmp_path)
    assert served == [tmp_path / "repo"] and not pidfile.exists()


def test_an_image_rebuild_finds_the_disks_guests_boot_from(tmp_path, monkeypatch):
    """Disks over the old image must go with it: they are where guests.start() puts them."""
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    for lab in ("test", "cluster"):
        monkeypatch.setenv("LVS_LAB", lab)
        run_dir = host.instance_dir() / "run"
        run_dir.mkdir(parents=True)
        (run_dir / "dir1.cow").write_text("")
        (run_dir / "dir1.qcow2").write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in image.stale_disks(tmp_path, "uml")] == [
        "instances/cluster/run/dir1.cow", "instances/test/run/dir1.cow"]
    assert [p.name for p in image.stale_disks(tmp_path, "qemu")] == ["dir1.qcow2", "dir1.qcow2"]


def test_power_cycling_a_guest_ends_only_its_shared_ssh_connections(tmp_path, monkeypatch):
    import socket

    monkeypatch.setattr(guests, "control_dir", lambda: tmp_path)
    listeners = []
    for name in ("192.0.2.11-root", "192.0.2.100-root"):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(tmp_path / name))
        listeners.append(listener)
    ended = []
    monkeypatch.setattr(host, "run", lambda argv, **_kw: ended.append(argv[argv.index("-o") + 1]))
    guests.end_shared_connections(["dir1"])
    assert ended == [f"ControlPath={tmp_path / '192.0.2.11-root'}"]
    guests.end_shared_connections()
    assert len(ended) == 3
    for listener in listeners:
        listener.close()


def test_an_image_rebuild_waits_only_for_guests_over_that_image(monkeypatch, tmp_path):
    """A QEMU image may be built while UML guests of another lab run (the suite's stages overlap)."""
    run = tmp_path / "instances/ha/run"
    run.mkdir(parents=True)
    (run / "dir1.cow").touch()
    monkeypatch.setattr(host, "running_guests", lambda _instance: {"dir1": 1})
    host.require_stopped_guests(tmp_path, "rebuild the image", ".qcow2")
    with pytest.raises(SystemExit, match="guests dir1 of lab 'ha' are running"):
        host.require_stopped_guests(tmp_path, "rebuild the image", ".cow")
    with pytest.raises(SystemExit):
        host.require_stopped_guests(tmp_path, "rebuild the image")


def test_packages_installed_for_docker_start_no_service(monkeypatch, tmp_path):
    policy = tmp_path / "policy-rc.d"
    monkeypatch.setattr(host, "POLICY_RC_D", policy)
    calls = []

    def fake_run(argv, check=True, quiet=False, **kwargs):
        calls.append((argv, policy.exists() and policy.read_text()))
        return subprocess.CompletedProcess(argv, 0, stdout="" if argv[0] == "dpkg-query" else None)

    monkeypatch.setattr(host, "run", fake_run)
    assert host.ensure_packages(("docker.io",), start_nothing=True) == ["docker.io"]
    install = next(seen for argv, seen in calls if argv[:2] == ["apt-get", "install"])
    assert install and "exit 101" in install
    assert not policy.exists()  # removed again
    calls.clear()
    host.ensure_packages(("docker.io",))
    assert next(seen for argv, seen in calls if argv[:2] == ["apt-get", "install"]) is False


def test_the_docker_daemon_is_recognised_by_its_pid_file_and_arguments(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    assert docker._pid() is None
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "dockerd.pid").write_text(f"{os.getpid()}\n")
    assert docker._pid() is None  # alive, but not a dockerd (a recycled PID)
    monkeypatch.setattr(host, "cmdline", lambda pid: [b"/usr/sbin/dockerd", b"--data-root"])
    assert docker._pid() == os.getpid()


def test_the_bridges_keep_one_address_whatever_ports_come_and_go(monkeypatch):
    """A bridge whose address is not set takes its lowest port's: a guest's tap made again and then
    taken off the bridge would change the controller's address under the other guests."""
    calls = []
    monkeypatch.setattr(guests, "namespace_exists", lambda: True)
    monkeypatch.setattr(guests, "ns_run",
                        lambda argv, **_kw: calls.append(argv) or subprocess.CompletedProcess(argv, 0))
    guests.ensure_network()
    for net in topology.NETWORKS:
        bridge = topology.bridge_name(net)
        assert ["ip", "link", "set", bridge, "address", topology.mac_address(net, topology.CONTROLLER_HOST), "up"] \
            in calls, net
    guest_macs = {nic["mac"] for name in topology.GUESTS for nic in topology.guest_interfaces(name)}
    assert not guest_macs & {topology.mac_address(net, topology.CONTROLLER_HOST) for net in topology.NETWORKS}


def test_terminate_ends_a_process_and_kills_one_that_ignores_sigterm():
    """host.terminate, the lab's one way to end what it started: TERM, then KILL after the timeout."""
    polite = subprocess.Popen(["sleep", "30"])
    stubborn = subprocess.Popen(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline() == "ready\n"  # its trap is set
    for proc, timeout in ((polite, 5), (stubborn, 0.5)):
        started = time.monotonic()
        assert host.terminate(proc.pid, lambda proc=proc: proc.poll() is None, timeout)
        assert proc.wait(5) == (-signal.SIGTERM if proc is polite else -signal.SIGKILL)
        assert time.monotonic() - started < timeout + 2
    assert not host.terminate(polite.pid, lambda: False, 1)


def test_a_lab_keeps_the_debian_release_it_was_booted_with(monkeypatch, tmp_path):
    monkeypatch.setenv("LVS_LAB_DIR", str(tmp_path))
    monkeypatch.setenv("LVS_LAB", "d13")
    monkeypatch.delenv("LVS_LAB_SUITE", raising=False)
    assert host.suite() == "bookworm"  # never booted
    host.instance_dir().mkdir(parents=True)
    (host.instance_dir() / host.SUITE_FILE).write_text("trixie\n")
    assert host.suite() == "trixie"
    monkeypatch.setenv("LVS_LAB_SUITE", "sid")
    with pytest.raises(SystemExit, match="must be one of bookworm, trixie"):
        host.suite()
    assert image.image_directory(tmp_path, "uml").name == "image"
    assert image.image_directory(tmp_path, "qemu").name == "image-qemu"
    assert image.image_directory(tmp_path, "uml", "trixie").name == "image-trixie"
    assert image.image_directory(tmp_path, "qemu", "trixie").name == "image-qemu-trixie"
    assert repo.directory(tmp_path).name == "repo" and repo.directory(tmp_path, "trixie").name == "repo-trixie"
    assert image.image_inputs("key", "uml", "trixie") != image.image_inputs("key", "uml")


def test_an_image_rebuild_touches_only_labs_of_its_debian_release(monkeypatch, tmp_path):
    """Rebuilding the Debian 13 image neither waits for nor removes the disks of Debian 12 labs, and the reverse."""
    for lab, suite in (("test", None), ("d13", "trixie")):
        run = tmp_path / "instances" / lab / "run"
        run.mkdir(parents=True)
        (run / "dir1.cow").touch()
        if suite:
            (run.parent / host.SUITE_FILE).write_text(suite + "\n")
    assert [p.parent.parent.name for p in image.stale_disks(tmp_path, "uml")] == ["test"]
    assert [p.parent.parent.name for p in image.stale_disks(tmp_path, "uml", "trixie")] == ["d13"]
    monkeypatch.setattr(host, "running_guests", lambda instance: {"dir1": 1} if instance.name == "d13" else {})
    host.require_stopped_guests(tmp_path, "rebuild the image", ".cow", "bookworm")
    with pytest.raises(SystemExit, match="lab 'd13' are running"):
        host.require_stopped_guests(tmp_path, "rebuild the image", ".cow", "trixie")


def test_the_repository_of_another_release_has_an_apt_state_of_its_own(monkeypatch, tmp_path):
    """Debian 13's packages are found with trixie's lists (fetched once), never the host's Debian 12 ones."""
    runs = []
    monkeypatch.setattr(host, "run", lambda argv, **_kw: runs.append(argv))
    status = tmp_path / "dpkg-status"
    assert repo.apt_options(tmp_path, "bookworm", status) == [] and runs == []
    options = repo.apt_options(tmp_path, "trixie", status)
    assert runs == [["apt-get", "update", "-q", *options]]
    sources = (tmp_path / "apt-trixie/sources.list").read_text().splitlines()
    assert sources == [f"deb [signed-by={repo.KEYRING}] http://deb.debian.org/debian trixie main",
                       f"deb [signed-by={repo.KEYRING}] http://deb.debian.org/debian-security trixie-security main"]
    settings = dict(options[i + 1].split("=", 1) for i in range(0, len(options), 2))
    assert settings["Dir::State::status"] == str(status)
    assert settings["Dir::State::Lists"] == str(tmp_path / "apt-trixie/lists")
    assert settings["Dir::Etc::SourceParts"] == str(tmp_path / "apt-trixie/sources.list.d")
    lists = tmp_path / "apt-trixie/lists/deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages"
    lists.touch()
    repo.apt_options(tmp_path, "trixie", status)
    assert len(runs) == 1  # the lists are there: not fetched again
    os.utime(lists, (time.time() - repo.LISTS_MAX_AGE - 60,) * 2)
    repo.apt_options(tmp_path, "trixie", status)
    assert len(runs) == 2  # a day old: fetched again


def test_the_dockerd_joins_a_labs_front_network_once(monkeypatch):
    """`tools/lab docker link`: a veth pair from the dockerd's namespace to the lab's front bridge, made once."""
    monkeypatch.setenv("LVS_LAB", "ee")
    runs = []

    def run(argv, **_kw):
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 1 if argv[-3:] == ["link", "show", "lvs-lab0"] else 0)

    monkeypatch.setattr(host, "run", run)
    assert docker.link() == "192.0.2.2"
    assert ["ip", "link", "add", "lvs-lab0", "netns", docker.NAMESPACE, "type", "veth", "peer", "name", "lvs-dk2",
            "netns", "lvs-ee"] in runs
    assert ["ip", "netns", "exec", "lvs-ee", "ip", "link", "set", "lvs-dk2", "master", "lvs-front", "up"] in runs
    assert ["ip", "netns", "exec", docker.NAMESPACE, "ip", "addr", "add", "192.0.2.2/24", "dev", "lvs-lab0"] in runs
    monkeypatch.setattr(host, "run", lambda argv, **_kw: runs.append(argv) or subprocess.CompletedProcess(argv, 0))
    made = len(runs)
    docker.link()
    assert len(runs) == made + 1  # the link is there: only looked at
    assert docker.image_inputs(docker.EE_PACKAGES, docker.EE_CUSTOMIZE, docker.EE_CHANGES) != docker.image_inputs()
