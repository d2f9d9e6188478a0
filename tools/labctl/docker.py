"""A Docker daemon of the lab's own, for Molecule's Docker driver: its bridges live in a network
namespace of their own (no uplink, nothing routed), its data under the lab's state directory, and
its one image (Debian 12 with systemd and the roles' packages) is imported from mmdebstrap, so no
registry is ever asked. Docker shares this machine's kernel: only roles that need no IPVS run here."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from labctl import host, image, topology

NAMESPACE = "lvs-docker"
IMAGE = "lvs-lab/debian-systemd:bookworm"
HOST_PACKAGES = ("docker.io", "mmdebstrap")
# What a container has: systemd as PID 1, what Ansible and testinfra need, the packages of the
# roles the Docker scenarios converge. No apt source is kept: the containers have no route out, and
# the roles' apt tasks find their packages installed.
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2", "procps",
    "iputils-ping", "curl", "keepalived", "nginx-light", "libnginx-mod-stream", "chrony", "heartbeat",
)
CUSTOMIZE = (
    'rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*',
    'find "$1/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete',
    # Units a container cannot use (no consoles, no udev, no kernel to tune).
    'for unit in getty@tty1.service console-getty.service systemd-udevd.service '
    'systemd-udev-trigger.service systemd-sysctl.service apt-daily.timer apt-daily-upgrade.timer '
    'e2scrub_reap.service; do ln -sf /dev/null "$1/etc/systemd/system/$unit"; done',
)
LABEL = "lvs.lab.inputs"

# The base an execution environment is built on (ansible-builder, stage ee): Python in a virtual environment
# (Debian's own python3 refuses ensurepip, which ansible-builder runs), the SSH client. No apt source: the build
# installs its Python packages from wheels given to it.
EE_BASE = "lvs-lab/ee-base:bookworm"
EE_PACKAGES = ("python3", "python3-venv", "openssh-client")
EE_PYTHON = "/opt/ee/bin/python3"
EE_CUSTOMIZE = (CUSTOMIZE[0], 'chroot "$1" python3 -m venv --without-pip /opt/ee')
EE_CHANGES = ("ENV PATH=/opt/ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
# Its host number on the lab's front network when linked to a lab (`tools/lab docker link`).
LINK_HOST = 2


def directory() -> Path:
    return host.state_root() / "docker"


def socket() -> Path:
    return directory() / "docker.sock"


def client_env() -> dict[str, str]:
    return dict(os.environ, DOCKER_HOST=f"unix://{socket()}")


def _docker(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return host.run(["docker", *argv], env=client_env(), **kwargs)


def _pid() -> int | None:
    try:
        pid = int((directory() / "dockerd.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    argv = host.cmdline(pid)
    return pid if argv and argv[0].endswith(b"dockerd") else None


def _answers() -> bool:
    return _docker(["version"], check=False, quiet=True).returncode == 0


def image_inputs(packages: tuple[str, ...] = PACKAGES, customize: tuple[str, ...] = CUSTOMIZE,
                 changes: tuple[str, ...] = ()) -> str:
    parts = [host.SUITES[0], " ".join(packages), *customize, *changes]
    return hashlib.sha256("\n--\n".join(parts).encode()).hexdigest()


def start_daemon(timeout: float = 60) -> None:
    """Start dockerd in its namespace unless it runs; return once it answers."""
    if not Path("/var/run/netns", NAMESPACE).exists():
        host.run(["ip", "netns", "add", NAMESPACE])
    host.run(["ip", "netns", "exec", NAMESPACE, "ip", "link", "set", "lo", "up"])
    if _pid() is None:
        root = directory()
        root.mkdir(parents=True, exist_ok=True)
        # nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then misses the cgroups.
        argv = ["nsenter", f"--net=/var/run/netns/{NAMESPACE}", "dockerd",
                "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                "--pidfile", str(root / "dockerd.pid"), "-H", f"unix://{socket()}",
                "--bridge=none", "--iptables=false", "--ip-forward=false"]
        with open(root / "dockerd.log", "ab") as log:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not _answers():
        if time.monotonic() > deadline:
            raise SystemExit(f"lab: dockerd did not answer on {socket()} within {timeout:.0f} s "
                             f"(see {directory() / 'dockerd.log'})")
        time.sleep(0.5)


def build_image(name: str = IMAGE, packages: tuple[str, ...] = PACKAGES, customize: tuple[str, ...] = CUSTOMIZE,
                changes: tuple[str, ...] = ('CMD ["/lib/systemd/systemd"]', "ENV container=docker")) -> None:
    """Import an image of Debian's packages (the containers' by default) unless one of the same inputs is there."""
    digest = image_inputs(packages, customize, changes)
    have = _docker(["image", "inspect", "--format", "{{index .Config.Labels \"" + LABEL + "\"}}", name],
                   check=False, capture_output=True, text=True).stdout.strip()
    if have == digest:
        return
    started = time.monotonic()
    tarball = directory() / "rootfs.tar"
    host.run(["mmdebstrap", "--variant=apt", "--quiet", "--include=" + ",".join(packages),
              *image.DPKG_EXCLUDES,
              *(f"--customize-hook={hook}" for hook in customize), host.SUITES[0], str(tarball)])
    _docker(["import", *(f"--change={change}" for change in changes), f"--change=LABEL {LABEL}={digest}",
             str(tarball), name], quiet=True)
    tarball.unlink()
    print(f"lab: Docker image {name} built in {time.monotonic() - started:.0f} s", flush=True)


def build_ee_base() -> None:
    build_image(EE_BASE, EE_PACKAGES, EE_CUSTOMIZE, EE_CHANGES)


def link() -> str:
    """Join the daemon's namespace to the current lab's front bridge (a veth pair), so that containers on the
    host network reach the lab's guests; return the address it takes there. The lab's namespace going takes the
    link with it."""
    address = topology.net_address("front", LINK_HOST)
    inside, outside = "lvs-lab0", f"lvs-dk{LINK_HOST}"
    if host.run(["ip", "netns", "exec", NAMESPACE, "ip", "link", "show", inside], check=False, quiet=True).returncode:
        host.run(["ip", "link", "add", inside, "netns", NAMESPACE, "type", "veth", "peer", "name", outside,
                  "netns", host.namespace()])
        host.run(["ip", "netns", "exec", host.namespace(), "ip", "link", "set", outside, "master",
                  topology.bridge_name("front"), "up"])
        host.run(["ip", "netns", "exec", NAMESPACE, "ip", "addr", "add", address, "dev", inside])
        host.run(["ip", "netns", "exec", NAMESPACE, "ip", "link", "set", inside, "up"])
    return address.split("/")[0]


def up(build: Callable[[], None] = build_image) -> None:
    """Start the daemon and build its image (`build`: the containers' by default)."""
    # The package's own daemon would make bridges and firewall rules in this machine's network:
    # it is neither started by the installation nor left to start at boot.
    if "docker.io" in host.ensure_packages(HOST_PACKAGES, start_nothing=True):
        host.run(["systemctl", "disable", "--quiet", "docker.service", "docker.socket", "containerd.service"],
                 check=False, quiet=True)
    if shutil.which("docker") is None:
        raise SystemExit("lab: no docker client on PATH (package docker.io)")
    start_daemon()
    build()
    print(f"lab: dockerd answers on {socket()} (namespace {NAMESPACE})", flush=True)


def down(timeout: float = 30) -> None:
    """Stop the lab's dockerd by PID (it stops its containers) and remove its namespace; the image stays."""
    pid = _pid()
    if pid is not None:
        host.terminate(pid, lambda: _pid() == pid, timeout)
    if Path("/var/run/netns", NAMESPACE).exists():
        host.run(["ip", "netns", "del", NAMESPACE])
