"""Build the guests' Debian 12 root filesystem image (cached by content hash)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from labctl import host, repo

SUITE = "bookworm"
IMAGE_SIZE = "1536M"

# What every guest has. Role packages (nginx, chrony, heartbeat...) come later
# from the lab's own apt repository, so roles exercise their install tasks.
PACKAGES = (
    "systemd-sysv", "openssh-server", "python3", "python3-apt", "iproute2",
    "ipvsadm", "keepalived", "iputils-ping", "curl", "kmod", "procps",
    "iptables", "netcat-openbsd", "tcpdump", "less",
)

HOST_PACKAGES = ("user-mode-linux", "uml-utilities", "mmdebstrap", "e2fsprogs", "iproute2", "openssh-client")

# Sets hostname and addresses from the kernel command line (lab.name=, lab.nicN=).
LAB_NET_SCRIPT = """#!/bin/sh
# Lab guest network setup: reads lab.* arguments from the kernel command line.
set -eu
ip link set lo up
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        lab.name=*)
            name=${arg#lab.name=}
            hostname "$name"
            echo "$name" > /etc/hostname
            printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n::1 localhost ip6-localhost\\n' "$name" > /etc/hosts
            ;;
        lab.nic*=*)
            spec=${arg#lab.nic}
            dev="vec${spec%%=*}"
            ip link set "$dev" up
            for addr in $(echo "${spec#*=}" | tr ',' ' '); do
                case "$addr" in
                    *:*) ip -6 addr add "$addr" dev "$dev" nodad ;;
                    *) ip addr add "$addr" dev "$dev" ;;
                esac
            done
            ;;
    esac
done
"""

LAB_NET_UNIT = """[Unit]
Description=Lab guest network from the kernel command line
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target ssh.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lab-net

[Install]
WantedBy=multi-user.target
"""

MASKED_UNITS = (
    "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-udev-settle.service",
    "getty@tty1.service", "serial-getty@ttyS0.service", "console-getty.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service",
    "systemd-journal-flush.service", "man-db.timer",
)


def image_inputs(pubkey: str) -> str:
    kernel = host.uml_kernel_version()
    parts = [SUITE, IMAGE_SIZE, " ".join(PACKAGES), LAB_NET_SCRIPT, LAB_NET_UNIT,
             " ".join(MASKED_UNITS), kernel, pubkey, repo.sources_line()]
    return hashlib.sha256("\n--\n".join(parts).encode()).hexdigest()


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _customize(root: Path, pubkey: str) -> None:
    kernel = host.uml_kernel_version()
    modules = root / "lib/modules" / kernel
    if modules.exists():
        shutil.rmtree(modules)
    shutil.copytree(Path("/usr/lib/uml/modules") / kernel, modules)
    host.run(["chroot", str(root), "depmod", kernel])
    _write(root / "usr/local/sbin/lab-net", LAB_NET_SCRIPT, 0o755)
    _write(root / "etc/systemd/system/lab-net.service", LAB_NET_UNIT)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "lab-net.service"
    if not link.is_symlink():
        link.symlink_to("/etc/systemd/system/lab-net.service")
    for unit in MASKED_UNITS:
        target = root / "etc/systemd/system" / unit
        if target.exists() or target.is_symlink():
            target.unlink()
        target.symlink_to("/dev/null")
    _write(root / "etc/fstab", "/dev/ubda / ext4 defaults,noatime 0 1\n")
    _write(root / "etc/hostname", "lab\n")
    _write(root / "root/.ssh/authorized_keys", pubkey + "\n", 0o600)
    (root / "root/.ssh").chmod(0o700)
    _write(root / "etc/ssh/sshd_config.d/lab.conf", "UseDNS no\nPermitRootLogin prohibit-password\n")
    # Guests have no route out: their only apt source is the lab's repository.
    for sources in (root / "etc/apt/sources.list", root / "etc/apt/sources.list.d/debian.sources"):
        if sources.exists():
            sources.unlink()
    _write(root / "etc/apt/sources.list.d/lab.list", repo.sources_line())


def build(state: Path, pubkey: str, force: bool = False) -> Path:
    """Return the path of an image matching the current inputs, building it if needed."""
    image_dir = state / "image"
    image = image_dir / "base.img"
    stamp = image_dir / "base.sha256"
    digest = image_inputs(pubkey)
    if not force and image.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return image
    host.require_stopped_guests(state, "rebuild the image")
    image_dir.mkdir(parents=True, exist_ok=True)
    for cow in (state / "run").glob("*.cow") if (state / "run").exists() else ():
        cow.unlink()
    root = image_dir / "rootfs"
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    host.run([
        "mmdebstrap", "--variant=apt", "--quiet",
        "--include=" + ",".join(PACKAGES),
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        SUITE, str(root),
    ])
    _customize(root, pubkey)
    tmp = image.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    host.run(["mkfs.ext4", "-q", "-O", "^has_journal", "-L", "labroot", "-d", str(root), str(tmp), IMAGE_SIZE])
    os.replace(tmp, image)
    shutil.copyfile(root / "var/lib/dpkg/status", image_dir / "dpkg-status")
    stamp.write_text(digest + "\n")
    shutil.rmtree(root)
    print(f"lab: image built in {time.monotonic() - started:.0f} s: {image}", flush=True)
    return image
