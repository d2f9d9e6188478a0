"""Network namespace, bridges, taps and User-Mode Linux guests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from labctl import host, repo, topology, xstate

SSH_OPTIONS = [
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=3",
]

# Boot attempts per guest before `up` gives up (a guest that dies at boot is started again).
BOOT_ATTEMPTS = 3

# The UML guests this process started, by name: their exit status tells how a failed boot ended.
_children: dict[str, subprocess.Popen] = {}


def ns_run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return host.run(["ip", "netns", "exec", host.namespace(), *argv], **kwargs)


def namespace_exists() -> bool:
    return Path("/var/run/netns", host.namespace()).exists()


def ensure_network() -> None:
    """Create the namespace and its bridges; no uplink, no route out, no forwarding."""
    ns = host.namespace()
    if not namespace_exists():
        host.run(["ip", "netns", "add", ns])
    ns_run(["ip", "link", "set", "lo", "up"])
    ns_run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"])
    ns_run(["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=0"])
    for net in topology.NETWORKS:
        bridge = topology.bridge_name(net)
        if ns_run(["ip", "link", "show", bridge], check=False, quiet=True).returncode != 0:
            ns_run(["ip", "link", "add", bridge, "type", "bridge", "mcast_snooping", "0"])
            ns_run(["sysctl", "-q", "-w", f"net.ipv6.conf.{bridge}.accept_dad=0"])
            for family in (4, 6):
                ns_run(["ip", "addr", "add", topology.net_address(net, topology.CONTROLLER_HOST, family),
                        "dev", bridge])
        # A bridge left to itself takes the lowest address of its ports, and a tap made again (a guest
        # power-cycled) gets a new random one: taking that tap off the bridge (a link cut) then changed
        # the controller's address under the guests, whose SSH sessions hung until their ARP entries
        # aged. Set once, the bridge keeps its address whatever ports come and go.
        ns_run(["ip", "link", "set", bridge, "address", topology.mac_address(net, topology.CONTROLLER_HOST), "up"])


def _ensure_tap(tap: str, bridge: str) -> None:
    ns_run(["ip", "link", "del", tap], check=False, quiet=True)
    ns_run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
    ns_run(["ip", "link", "set", tap, "master", bridge])
    ns_run(["ip", "link", "set", tap, "up"])


def uml_argv(name: str, image: Path, run_dir: Path, mem: str) -> list[str]:
    argv = [
        "linux.uml", f"umid={name}", f"uml_dir={run_dir}", f"mem={mem}",
        f"ubd0={run_dir / (name + '.cow')},{image}", "root=/dev/ubda", "rw",
        "con=null", "con0=null,fd:1", "ssl=null", f"lab.name={name}",
    ]
    for index, nic in enumerate(topology.guest_interfaces(name)):
        argv.append(f"vec{index}:transport=tap,ifname={nic['tap']},mac={nic['mac']},gro=1")
    return argv + nic_arguments(name)


def nic_arguments(name: str) -> list[str]:
    """lab.nicN=MAC,ADDR,ADDR6[,ADDR,ADDR6...] for the guest's lab-net unit (it finds each NIC by MAC)."""
    return [",".join([f"lab.nic{index}={nic['mac']}", nic["ipv4"], nic["ipv6"],
                      *(address for pair in nic["overlays"].values() for address in pair)])
            for index, nic in enumerate(topology.guest_interfaces(name))]


def qemu_argv(name: str, image: Path, run_dir: Path, mem: str) -> list[str]:
    """QEMU in software emulation (TCG): Debian's kernel, virtio disk and NICs, daemonized."""
    append = ["console=ttyS0", "root=/dev/vda", "rw", "quiet", f"lab.name={name}", *nic_arguments(name)]
    argv = [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi,tb-size=128", "-cpu", "max", "-m", mem, "-smp", "1",
        "-kernel", str(image.parent / "vmlinuz"), "-initrd", str(image.parent / "initrd.img"),
        "-append", " ".join(append),
        "-drive", f"file={run_dir / (name + '.qcow2')},if=virtio,cache=unsafe,format=qcow2",
        "-display", "none", "-monitor", "none", "-serial", f"file:{run_dir / (name + '.log')}",
        "-daemonize", "-pidfile", str(run_dir / f"{name}.pid"),
    ]
    for index, nic in enumerate(topology.guest_interfaces(name)):
        argv += ["-netdev", f"tap,id=n{index},ifname={nic['tap']},script=no,downscript=no",
                 "-device", f"virtio-net-pci,netdev=n{index},mac={nic['mac']}"]
    return argv


def start_qemu(name: str, image: Path, mem: str, keep_disk: bool = False) -> int:
    run_dir = host.instance_dir() / "run"
    disk = run_dir / f"{name}.qcow2"
    if disk.exists() and not keep_disk:
        disk.unlink()
    if not disk.exists():
        host.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(image), str(disk)])
    ns_run(qemu_argv(name, image, run_dir, mem))
    return int((run_dir / f"{name}.pid").read_text().strip())


def start(name: str, image: Path, mem: str, backend: str = "uml", keep_disk: bool = False) -> int:
    """Boot a guest; `keep_disk` boots it on the disk it had (a power cycle) instead of a fresh one."""
    run_dir = host.instance_dir() / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    for nic in topology.guest_interfaces(name):
        _ensure_tap(nic["tap"], topology.bridge_name(nic["net"]))
    cow = run_dir / f"{name}.cow"
    if cow.exists() and not keep_disk:
        cow.unlink()
    stale = run_dir / name
    if stale.exists():
        shutil.rmtree(stale, ignore_errors=True)
    if backend == "qemu":
        return start_qemu(name, image, mem, keep_disk)
    log = open(run_dir / f"{name}.log", "wb")  # noqa: SIM115 - owned by the child
    # Guest memory is a file in TMPDIR: always the tmpfs /dev/shm (check_host), whatever the caller's TMPDIR.
    env = dict(os.environ, TMPDIR="/dev/shm", LD_PRELOAD=str(xstate.library()))
    proc = subprocess.Popen(
        ["ip", "netns", "exec", host.namespace(), *uml_argv(name, image, run_dir, mem)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
    )
    log.close()
    _children[name] = proc
    (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    # Until `ip netns exec` has exec'd the kernel, the child does not look like a guest yet.
    deadline = time.monotonic() + 10
    while not host.pid_alive(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc.pid


def control_dir() -> Path:
    """Where this lab's SSH connections are shared (Ansible's and tools/lab ssh's)."""
    return host.instance_dir() / "ssh-control"


def control_path() -> str:
    """One shared connection per guest and user in this lab, whoever opens it: tools/lab ssh, Ansible
    (its ssh plugin and Mitogen, which takes ControlPath only from ssh_args) and testinfra. Short, because
    a socket path may not exceed 107 bytes and ssh adds 17 while it sets one up."""
    return f"{control_dir()}/%h-%r"


def ansible_ssh_args() -> str:
    return ("-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=" + control_path() +
            " -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR")


def ssh_argv(name: str, command: list[str] | None = None) -> list[str]:
    """SSH to a guest from inside the namespace. Calls share one connection per guest for a while:
    a new SSH connection costs a guest seconds (sshd and key exchange under UML)."""
    key, _pub = host.ssh_key()
    control_dir().mkdir(parents=True, exist_ok=True)
    argv = ["ip", "netns", "exec", host.namespace(), "ssh", *SSH_OPTIONS, "-i", str(key),
            "-o", "ControlMaster=auto", "-o", f"ControlPath={control_path()}", "-o", "ControlPersist=60",
            f"root@{topology.guest_address(name)}"]
    return argv + (command or [])


def end_shared_connections(names: list[str] | None = None) -> None:
    """Ask the shared SSH connections of this lab to end (their master processes exit): those of the
    guests `names`, or all. Sessions over other guests' connections (a client's long-running command
    while a director is power-cycled) go on."""
    addresses = None if names is None else {topology.guest_address(name) for name in names}
    for socket in sorted(control_dir().glob("*")) if control_dir().is_dir() else ():
        if addresses is not None and socket.name.rsplit("-", 1)[0] not in addresses:
            continue
        if socket.is_socket():
            host.run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "lab"], check=False, quiet=True)


def how_it_ended(name: str) -> str:
    """A guest's exit status when this process started it, in words."""
    proc = _children.get(name)
    code = proc.poll() if proc else None
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def console_tail(name: str, size: int = 2000) -> str:
    log = host.instance_dir() / "run" / f"{name}.log"
    text = log.read_text(errors="replace")[-size:] if log.exists() else ""
    return text if text.strip() else "(the guest printed nothing)"


def wait_ready(names: list[str], timeout: float, boot: Callable[[str], object] | None = None) -> None:
    """Wait until every guest answers SSH with systemd up; `boot(name)` starts a guest that died again."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    attempts = dict.fromkeys(names, 1)
    while pending:
        for name in list(pending):
            if name not in host.running_guests(host.instance_dir()):
                ended = how_it_ended(name)
                if boot is None or attempts[name] >= BOOT_ATTEMPTS:
                    raise SystemExit(f"lab: guest {name} died while booting ({ended}, attempt {attempts[name]}); "
                                     f"{host.boot_facts()}; last console lines:\n{console_tail(name)}")
                attempts[name] += 1
                print(f"lab: guest {name} died while booting ({ended}); booting it again "
                      f"(attempt {attempts[name]} of {BOOT_ATTEMPTS}); {host.boot_facts()}; last console lines:\n"
                      f"{console_tail(name, 600)}", file=sys.stderr, flush=True)
                end_leftovers(name)
                time.sleep(5 * (attempts[name] - 1))  # 5 s, then 10 s: let a passing cause pass
                boot(name)
                deadline = max(deadline, time.monotonic() + timeout / 2)
                continue
            wait = max(10.0, min(60.0, deadline - time.monotonic()))
            try:
                probe = host.run(ssh_argv(name, ["systemctl", "is-system-running", "--wait"]), check=False,
                                 capture_output=True, text=True, timeout=wait)
            except subprocess.TimeoutExpired:
                continue  # still booting (a slow machine); the deadline decides
            if probe.returncode == 0 or probe.stdout.strip() in ("running", "degraded"):
                pending.remove(name)
        if pending and time.monotonic() > deadline:
            raise SystemExit(f"lab: guests not reachable over SSH after {timeout:.0f} s: {', '.join(pending)}")
        if pending:
            time.sleep(1)


def stop(name: str, pid: int) -> None:
    host.terminate(pid, lambda: host.pid_alive(pid), 20)
    end_leftovers(name)


def end_leftovers(name: str) -> list[int]:
    """End the helper processes a guest kernel left behind when it was killed (they stay stopped).

    They carry this lab's own guest arguments (umid= and uml_dir=), which no other process has.
    """
    marks = (b"linux.uml", f"umid={name}".encode(), f"uml_dir={host.instance_dir() / 'run'}".encode())
    ended = []
    for entry in Path("/proc").iterdir():
        argv = host.cmdline(entry.name) if entry.name.isdigit() else []
        if argv and argv[0] == marks[0] and marks[1] in argv and marks[2] in argv:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                ended.append(int(entry.name))
            except ProcessLookupError:
                pass
    return ended


def remove_all(keep_network: bool = False) -> None:
    """Stop every guest of this lab by PID, then remove taps, files and (unless kept) the namespace.

    `keep_network` is for callers that run inside the namespace themselves (Molecule's destroy).
    """
    instance = host.instance_dir()
    end_shared_connections()
    for name, pid in host.running_guests(instance).items():
        stop(name, pid)
    for name in topology.GUESTS:  # guests that died on their own may have left helpers too
        end_leftovers(name)
    if not keep_network:
        repo.stop()
        if namespace_exists():
            pids = host.run(["ip", "netns", "pids", host.namespace()], check=False, capture_output=True, text=True)
            repo.stop_strays(pids.stdout.split())
    if namespace_exists():
        if keep_network:
            for name in topology.GUESTS:
                for nic in topology.guest_interfaces(name):
                    ns_run(["ip", "link", "del", nic["tap"]], check=False, quiet=True)
        else:
            host.run(["ip", "netns", "del", host.namespace()])
    if instance.exists():
        if keep_network:
            # The repository server lives on with the network: keep its pidfile for the full `down`.
            for path in instance.iterdir():
                if not path.name.startswith("repo.") and path.name != host.SUITE_FILE:
                    (shutil.rmtree if path.is_dir() else Path.unlink)(path)
        else:
            shutil.rmtree(instance, ignore_errors=True)
