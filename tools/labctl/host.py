"""Host-side helpers: commands, packages, SSH key, state directories."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def run(argv: list[str], check: bool = True, quiet: bool = False, **kwargs) -> subprocess.CompletedProcess:
    if quiet:
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
    result = subprocess.run(argv, check=False, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit(f"lab: command failed ({result.returncode}): {' '.join(argv)}")
    return result


def state_root() -> Path:
    return Path(os.environ.get("LVS_LAB_DIR", "/var/tmp/lvs-lab"))


def lab_name() -> str:
    return os.environ.get("LVS_LAB", "lab")


def backend() -> str:
    """uml (default) or qemu, from LVS_LAB_BACKEND or --backend."""
    value = os.environ.get("LVS_LAB_BACKEND", "uml")
    if value not in ("uml", "qemu"):
        raise SystemExit(f"lab: LVS_LAB_BACKEND={value!r}: must be uml or qemu")
    return value


# The Debian releases guests run: Debian 12 (the default) and Debian 13.
SUITES = ("bookworm", "trixie")
SUITE_FILE = "suite"


def recorded_suite(instance: Path) -> str:
    """The Debian release a lab's guests were booted with (`tools/lab up` writes it), bookworm when none is."""
    path = instance / SUITE_FILE
    return path.read_text().strip() if path.exists() else SUITES[0]


def suite() -> str:
    """The Debian release of this lab's guests: LVS_LAB_SUITE (or --suite), else what the lab was booted with."""
    value = os.environ.get("LVS_LAB_SUITE") or recorded_suite(instance_dir())
    if value not in SUITES:
        raise SystemExit(f"lab: LVS_LAB_SUITE={value!r}: must be one of {', '.join(SUITES)}")
    return value


def instance_dir(name: str | None = None) -> Path:
    return state_root() / "instances" / (name or lab_name())


def namespace(name: str | None = None) -> str:
    return f"lvs-{name or lab_name()}"


def uml_kernel_version() -> str:
    modules = Path("/usr/lib/uml/modules")
    versions = sorted(p.name for p in modules.iterdir()) if modules.is_dir() else []
    if not versions:
        raise SystemExit("lab: no User-Mode Linux kernel modules under /usr/lib/uml/modules "
                         "(package user-mode-linux missing?)")
    return versions[-1]


POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def ensure_packages(packages: tuple[str, ...], start_nothing: bool = False) -> list[str]:
    """Install the host packages the lab needs when any is missing; return those installed. With
    `start_nothing`, the installation starts none of their services (policy-rc.d)."""
    missing = [p for p in packages
               if run(["dpkg-query", "-W", "-f=${Status}", p], check=False,
                      capture_output=True, text=True).stdout.strip() != "install ok installed"]
    if not missing:
        return []
    print(f"lab: installing host packages: {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env, quiet=True)
    policy = start_nothing and not POLICY_RC_D.exists()
    if policy:
        POLICY_RC_D.write_text("#!/bin/sh\n# tools/lab: no service starts while it installs packages.\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    try:
        run(["apt-get", "install", "-y", "-q", *missing], env=env, quiet=True)
    finally:
        if policy:
            POLICY_RC_D.unlink()
    return missing


def ssh_key() -> tuple[Path, str]:
    root = state_root()
    root.mkdir(parents=True, exist_ok=True)
    key = root / "id_ed25519"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lvs-lab", "-f", str(key)])
    return key, key.with_suffix(".pub").read_text().strip()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie or a recycled PID of something else is not our guest.
    raw = b" ".join(cmdline(pid))
    return b"linux.uml" in raw or b"qemu-system" in raw


def terminate(pid: int, still: Callable[[], bool], timeout: float) -> bool:
    """End a process the lab started, by PID: SIGTERM, then SIGKILL if `still` (is it still that process?) holds
    after `timeout` seconds. False when there was no such process to signal."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while still() and time.monotonic() < deadline:
        time.sleep(0.2)
    if still():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True


def cmdline(pid: int | str) -> list[bytes]:
    """A process's arguments ([] when it is gone or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return text.rstrip(b"\0").split(b"\0") if text else []


def running_guests(instance: Path) -> dict[str, int]:
    result = {}
    for pidfile in instance.glob("run/*.pid") if instance.exists() else ():
        try:
            pid = int(pidfile.read_text().strip())
        except ValueError:
            continue
        if pid_alive(pid):
            result[pidfile.stem] = pid
    return result


def require_stopped_guests(state: Path, why: str, disk_suffix: str = "", suite: str = "") -> None:
    """Stop with a message while guests run; with `disk_suffix` (".cow", ".qcow2") and `suite` only guests whose
    disks have it in labs of that Debian release, the guests over one image."""
    for instance in (state / "instances").glob("*") if (state / "instances").exists() else ():
        if suite and recorded_suite(instance) != suite:
            continue
        alive = running_guests(instance)
        if disk_suffix:
            alive = [name for name in alive if (instance / "run" / f"{name}{disk_suffix}").exists()]
        if alive:
            raise SystemExit(f"lab: guests {', '.join(alive)} of lab '{instance.name}' are running; "
                             f"run 'tools/lab down' before you {why}")


def boot_facts() -> str:
    """What a guest's boot depends on from this machine: shared memory, memory, the kernel binary."""
    facts = []
    try:
        shm = os.statvfs("/dev/shm")
        facts.append(f"/dev/shm {shm.f_bavail * shm.f_frsize // 2**20} MiB free")
    except OSError as err:
        facts.append(f"/dev/shm: {err.strerror}")
    try:
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        facts.append(f"MemAvailable {int(meminfo['MemAvailable'].split()[0]) // 1024} MiB")
    except (OSError, KeyError, ValueError):
        pass
    facts.append(f"linux.uml at {shutil.which('linux.uml') or 'nowhere on PATH'}")
    return ", ".join(facts)


def ensure_sbin_path() -> None:
    """ip, sysctl and the like live in sbin: make sure the lab finds them whatever PATH it was given."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    missing = [d for d in ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin") if d not in path]
    os.environ["PATH"] = os.pathsep.join([p for p in path if p] + missing)


def check_host() -> None:
    """Fail loudly when this machine cannot run guests."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the lab needs root (network namespaces, taps)")
    if not Path("/dev/net/tun").exists():
        problems.append("/dev/net/tun is missing (no tap devices)")
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        problems.append("/dev/shm is missing or not writable (guest memory lives there)")
    if shutil.which("ip") is None:
        problems.append("'ip' (iproute2) is missing")
    if problems:
        sys.exit("lab: cannot start guests on this machine: " + "; ".join(problems))
