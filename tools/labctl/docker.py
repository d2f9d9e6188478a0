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
from pathlib import Path

from labctl import host, image

NAMESPACE = "lvs-docker"
IMAGE = "lvs-lab/debian-systemd:bookworm"
HOST_PACKAGES = ("docker.io", "mmdebstrap")
# What a container has: systemd as PID 1, what Ansible and testinfra need, the packages of the
# roles the Docker scenarios converge. No apt source is kept: the containers have no route out, and
# the roles' apt tasks find their packages installed.
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2", "procps",
    "iputils-ping", "curl", "keepalived", "nginx-light", "libnginx-mod-stream", "chrony",
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


def image_inputs() -> str:
    return hashlib.sha256("\n--\n".join([host.SUITES[0], " ".join(PACKAGES), *CUSTOMIZE]).encode()).hexdigest()


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


def build_image() -> None:
    """Import the containers' image unless one of the same inputs is there."""
    digest = image_inputs()
    have = _docker(["image", "inspect", "--format", "{{index .Config.Labels \"" + LABEL + "\"}}", IMAGE],
                   check=False, capture_output=True, text=True).stdout.strip()
    if have == digest:
        return
    started = time.monotonic()
    tarball = directory() / "rootfs.tar"
    host.run(["mmdebstrap", "--variant=apt", "--quiet", "--include=" + ",".join(PACKAGES),
              *image.DPKG_EXCLUDES,
              *(f"--customize-hook={hook}" for hook in CUSTOMIZE), host.SUITES[0], str(tarball)])
    _docker(["import", "--change", 'CMD ["/lib/systemd/systemd"]', "--change", "ENV container=docker",
             "--change", f"LABEL {LABEL}={digest}", str(tarball), IMAGE], quiet=True)
    tarball.unlink()
    print(f"lab: Docker image {IMAGE} built in {time.monotonic() - started:.0f} s", flush=True)


def up() -> None:
    # The package's own daemon would make bridges and firewall rules in this machine's network:
    # it is neither started by the installation nor left to start at boot.
    if "docker.io" in host.ensure_packages(HOST_PACKAGES, start_nothing=True):
        host.run(["systemctl", "disable", "--quiet", "docker.service", "docker.socket", "containerd.service"],
                 check=False, quiet=True)
    if shutil.which("docker") is None:
        raise SystemExit("lab: no docker client on PATH (package docker.io)")
    start_daemon()
    build_image()
    print(f"lab: dockerd answers on {socket()} (namespace {NAMESPACE}); image {IMAGE}", flush=True)


def down(timeout: float = 30) -> None:
    """Stop the lab's dockerd by PID (it stops its containers) and remove its namespace; the image stays."""
    pid = _pid()
    if pid is not None:
        host.terminate(pid, lambda: _pid() == pid, timeout)
    if Path("/var/run/netns", NAMESPACE).exists():
        host.run(["ip", "netns", "del", NAMESPACE])
