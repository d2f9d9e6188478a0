"""Build the guests' root filesystem image, Debian 12 or 13 (cached by content hash)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from labctl import host, repo

IMAGE_SIZE = "1536M"

# What every guest has. Role packages (nginx, chrony, heartbeat...) come later
# from the lab's own apt repository, so roles exercise their install tasks. heartbeat's two large
# dependencies are here: installing them in a guest takes about 90 s of the 115 s that heartbeat
# with them takes, and the heartbeat_ha role still installs heartbeat itself from the repository.
PACKAGES = (
    "systemd-sysv", "openssh-server", "python3", "python3-apt", "iproute2",
    "ipvsadm", "keepalived", "iputils-ping", "curl", "kmod", "procps",
    "iptables", "netcat-openbsd", "tcpdump", "less", "cluster-glue", "resource-agents",
)

# gcc and libc6-dev build the ptrace wrapper that lets UML boot on hosts with AMX (labctl/xstate.py);
# dpkg-dev indexes the lab's apt repository (dpkg-scanpackages); python3-yaml writes its inventory.
HOST_PACKAGES = ("user-mode-linux", "uml-utilities", "mmdebstrap", "e2fsprogs", "iproute2", "openssh-client", "gcc",
                 "libc6-dev", "dpkg-dev", "python3-yaml")

# The QEMU/TCG backend boots Debian's own kernel from a small initrd (virtio disk and NIC, ext4).
QEMU_PACKAGES = ("linux-image-amd64", "lz4")
QEMU_HOST_PACKAGES = ("qemu-system-x86", "qemu-utils")
INITRAMFS_CONF = "MODULES=list\nCOMPRESS=lz4\n"
INITRAMFS_HOOK = """#!/bin/sh
# Lab: only what a QEMU guest needs to mount its root file system and reach the network.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for module in virtio_pci virtio_blk virtio_net ext4; do
    manual_add_modules "$module"
    echo "$module" >> "${DESTDIR}/conf/modules"
done
"""

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
            # lab.nicN=MAC,ADDR/LEN,ADDR6/LEN: the NIC is found by its MAC, whatever the backend names it.
            spec=${arg#*=}
            mac=${spec%%,*}
            dev=""
            for path in /sys/class/net/*; do
                [ "$(cat "$path/address")" = "$mac" ] && dev=${path##*/}
            done
            [ -n "$dev" ] || { echo "lab-net: no interface with MAC $mac" >&2; exit 1; }
            ip link set "$dev" up
            for addr in $(echo "${spec#*,}" | tr ',' ' '); do
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

# No root entry: the kernel mounts it read-write from its command line under either backend.
FSTAB = "# The root file system is mounted by the kernel (root=... rw).\n"

MASKED_UNITS = (
    "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-udev-settle.service",
    "getty@tty1.service", "serial-getty@ttyS0.service", "console-getty.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service",
    "systemd-journal-flush.service", "man-db.timer",
    # cluster-glue's logging daemon: heartbeat_ha logs through syslog (the journal) instead.
    "logd.service",
)

# Generators systemd runs at boot and at every daemon-reload that find nothing to do in a guest
# (no encrypted, GPT-auto, hibernation or verity disks, no gettys): each costs a guest a second or
# more under UML, so a daemon-reload took 22 s with them and 5-7 s without. fstab and sysv stay
# (the latter turns init scripts such as ipvsadm's into units).
MASKED_GENERATORS = (
    "systemd-cryptsetup-generator", "systemd-debug-generator", "systemd-getty-generator",
    "systemd-gpt-auto-generator", "systemd-hibernate-resume-generator", "systemd-integritysetup-generator",
    "systemd-rc-local-generator", "systemd-run-generator", "systemd-system-update-generator",
    "systemd-veritysetup-generator",
)


# What no lab image carries (guests and containers alike).
DPKG_EXCLUDES = tuple(f"--dpkgopt=path-exclude=/usr/share/{part}/*" for part in ("man", "doc", "locale"))


def packages(backend: str) -> tuple[str, ...]:
    return PACKAGES + (QEMU_PACKAGES if backend == "qemu" else ())


def image_directory(state: Path, backend: str, suite: str = host.SUITES[0]) -> Path:
    """image (UML, Debian 12), image-qemu, image-trixie, image-qemu-trixie."""
    parts = ["image"] + ([backend] if backend != "uml" else []) + ([suite] if suite != host.SUITES[0] else [])
    return state / "-".join(parts)


# Raise when _customize changes what it writes, so cached images are built again.
CUSTOMIZE_REVISION = "2"
# The root file system keeps a journal: `tools/lab restart` kills a guest like a power cut, and without one a
# cut while metadata was being written left "ext4_check_descriptors: ... group descriptors corrupted" and a
# guest that could not mount its root (the ha stage's power cycle of dir1, under the load of the other chain).
MKFS = ("mkfs.ext4", "-q", "-L", "labroot")


def image_inputs(pubkey: str, backend: str = "uml", suite: str = host.SUITES[0]) -> str:
    kernel = host.uml_kernel_version() if backend == "uml" else INITRAMFS_HOOK
    parts = [CUSTOMIZE_REVISION, suite, IMAGE_SIZE, " ".join(packages(backend)), LAB_NET_SCRIPT, LAB_NET_UNIT,
             " ".join(MASKED_UNITS), " ".join(MASKED_GENERATORS), kernel, pubkey, repo.sources_line(), FSTAB,
             " ".join(MKFS)]
    return hashlib.sha256("\n--\n".join(parts).encode()).hexdigest()


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _customize(root: Path, pubkey: str, backend: str) -> None:
    if backend == "uml":
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
    masks = [root / "etc/systemd/system" / unit for unit in MASKED_UNITS]
    masks += [root / "etc/systemd/system-generators" / generator for generator in MASKED_GENERATORS]
    for target in masks:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target.unlink()
        target.symlink_to("/dev/null")
    _write(root / "etc/fstab", FSTAB)
    _write(root / "etc/hostname", "lab\n")
    _write(root / "root/.ssh/authorized_keys", pubkey + "\n", 0o600)
    (root / "root/.ssh").chmod(0o700)
    _write(root / "etc/ssh/sshd_config.d/lab.conf", "UseDNS no\nPermitRootLogin prohibit-password\n")
    # Guests have no route out: their only apt source is the lab's repository.
    for sources in (root / "etc/apt/sources.list", root / "etc/apt/sources.list.d/debian.sources"):
        if sources.exists():
            sources.unlink()
    _write(root / "etc/apt/sources.list.d/lab.list", repo.sources_line())
    # The package lists of the build's mirror do not describe that source: none are kept, and the
    # lists are marked as never fetched, so `apt update_cache` with cache_valid_time fetches them.
    lists = root / "var/lib/apt/lists"
    for path in lists.glob("*"):
        if path.is_file() and path.name != "lock":
            path.unlink()
    os.utime(lists, (0, 0))


def stale_disks(state: Path, backend: str, suite: str = host.SUITES[0]) -> list[Path]:
    """The copy-on-write disks over this backend's image of `suite` (UML .cow, QEMU .qcow2) in every lab."""
    disks = state.glob(f"instances/*/run/*.{'qcow2' if backend == 'qemu' else 'cow'}")
    return sorted(disk for disk in disks if host.recorded_suite(disk.parent.parent) == suite)


def build(state: Path, pubkey: str, force: bool = False, backend: str = "uml", suite: str = host.SUITES[0]) -> Path:
    """Return the path of an image matching the current inputs, building it if needed.

    The QEMU image also holds Debian's kernel; its vmlinuz and initrd.img sit beside base.img.
    """
    image_dir = image_directory(state, backend, suite)
    image = image_dir / "base.img"
    stamp = image_dir / "base.sha256"
    digest = image_inputs(pubkey, backend, suite)
    if not force and image.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return image
    # Guests of the other backend run over the other image: they may go on running.
    host.require_stopped_guests(state, "rebuild the image", ".qcow2" if backend == "qemu" else ".cow", suite)
    image_dir.mkdir(parents=True, exist_ok=True)
    # Copy-on-write disks of stopped guests describe the old image: they go with it.
    for disk in stale_disks(state, backend, suite):
        disk.unlink()
    root = image_dir / "rootfs"
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    hooks = []
    if backend == "qemu":
        hooks = [
            "--setup-hook=mkdir -p \"$1/etc/initramfs-tools/conf.d\" \"$1/etc/initramfs-tools/hooks\"",
            f"--setup-hook=printf '{INITRAMFS_CONF}' > \"$1/etc/initramfs-tools/conf.d/lab\"",
            "--setup-hook=cat > \"$1/etc/initramfs-tools/hooks/lab\" <<'EOF'\n" + INITRAMFS_HOOK + "EOF",
            "--setup-hook=chmod 755 \"$1/etc/initramfs-tools/hooks/lab\"",
        ]
    argv = [
        "mmdebstrap", "--variant=apt", "--quiet", *hooks,
        "--include=" + ",".join(packages(backend)),
        *DPKG_EXCLUDES,
        suite, str(root),
    ]
    # The Debian mirror is the one thing here outside this machine: an `apt-get update` it fails once (seen as
    # mmdebstrap's exit 25) is tried again before the build gives up.
    for attempt in (1, 2):
        if host.run(argv, check=attempt == 2).returncode == 0:
            break
        print("lab: mmdebstrap failed; trying once more in 10 s", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        time.sleep(10)
    _customize(root, pubkey, backend)
    if backend == "qemu":
        shutil.copyfile(sorted((root / "boot").glob("vmlinuz-*"))[-1], image_dir / "vmlinuz")
        shutil.copyfile(sorted((root / "boot").glob("initrd.img-*"))[-1], image_dir / "initrd.img")
    tmp = image.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    host.run([*MKFS, "-d", str(root), str(tmp), IMAGE_SIZE])
    os.replace(tmp, image)
    shutil.copyfile(root / "var/lib/dpkg/status", image_dir / "dpkg-status")
    stamp.write_text(digest + "\n")
    shutil.rmtree(root)
    print(f"lab: image built in {time.monotonic() - started:.0f} s: {image}", flush=True)
    return image
