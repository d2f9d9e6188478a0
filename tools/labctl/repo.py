"""The lab's own apt repository: the packages roles install, served inside the namespace.

Guests have no route out, so the packages that roles install (nginx, chrony, heartbeat...)
are downloaded on the host with its apt, indexed here, and served over HTTP on the front
bridge's controller address. Guests carry `deb [trusted=yes] http://CONTROLLER:PORT ./`.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import time
from pathlib import Path

from labctl import host, topology

PORT = 8000
# What roles install; their dependencies come along (minus what the image has at that version).
PACKAGES = ("nginx-light", "libnginx-mod-stream", "chrony", "heartbeat", "keepalived", "ipvsadm", "iptables", "curl",
            "socat", "wrk")


def url() -> str:
    address = topology.net_address("front", topology.CONTROLLER_HOST).split("/")[0]
    return f"http://{address}:{PORT}"


def sources_line() -> str:
    return f"deb [trusted=yes] {url()} ./\n"


# Where the host's own apt does not describe a release (Debian 13 on a Debian 12 host), the lab keeps an apt
# state of its own for it: its sources, its package lists, and the image's dpkg status as what is installed.
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
LISTS_MAX_AGE = 86400


def directory(state: Path, suite: str = host.SUITES[0]) -> Path:
    return state / ("repo" if suite == host.SUITES[0] else f"repo-{suite}")


def apt_options(state: Path, suite: str, status: Path) -> list[str]:
    """apt's options for `suite` ([] for the host's own release, Debian 12), its lists fetched when missing or old."""
    if suite == host.SUITES[0]:
        return []
    root = state / f"apt-{suite}"
    lists = root / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    (root / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "sources.list.d").mkdir(exist_ok=True)
    sources = root / "sources.list"
    sources.write_text(f"deb [signed-by={KEYRING}] {MIRROR} {suite} main\n"
                       f"deb [signed-by={KEYRING}] {SECURITY_MIRROR} {suite}-security main\n")
    options = ["-o", f"Dir::Etc::SourceList={sources}", "-o", f"Dir::Etc::SourceParts={root / 'sources.list.d'}",
               "-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache::Archives={root / 'archives'}",
               "-o", f"Dir::Cache::pkgcache={root / 'pkgcache.bin'}",
               "-o", f"Dir::Cache::srcpkgcache={root / 'srcpkgcache.bin'}",
               "-o", f"Dir::State::status={status}", "-o", "APT::Sandbox::User=root"]
    # Fetched when missing or a day old: the mirror keeps only the newest version of each package, so older lists
    # would name versions it no longer has.
    fetched = [path.stat().st_mtime for path in lists.glob("*_Packages*")]
    if not fetched or time.time() - max(fetched) > LISTS_MAX_AGE:
        host.run(["apt-get", "update", "-q", *options], stdout=subprocess.DEVNULL)
    return options


def _closure(packages: tuple[str, ...], options: list[str]) -> list[str]:
    out = host.run(["apt-cache", *options, "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                    "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                   capture_output=True, text=True).stdout
    return sorted({line.strip() for line in out.splitlines() if line and not line.startswith((" ", "<"))})


def _candidates(names: list[str], options: list[str]) -> dict[str, str]:
    out = host.run(["apt-cache", *options, "policy", *names], capture_output=True, text=True).stdout
    result, name = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            name = line.rstrip(":")
        elif name and line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            if version != "(none)":
                result[name] = version
    return result


def image_versions(status_file: Path) -> dict[str, str]:
    """Installed packages and versions from a dpkg status file."""
    versions, name = {}, None
    for line in status_file.read_text(errors="replace").splitlines():
        if line.startswith("Package: "):
            name = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and name:
            versions[name] = line.split(": ", 1)[1]
    return versions


def _index(repo: Path) -> None:
    """Write Packages and Packages.gz for the .deb files in `repo` (dpkg-scanpackages, from dpkg-dev)."""
    text = host.run(["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=repo, capture_output=True,
                    text=True).stdout
    (repo / "Packages").write_text(text)
    with gzip.open(repo / "Packages.gz", "wt") as handle:
        handle.write(text)


def build(state: Path, status: Path, suite: str = host.SUITES[0]) -> Path:
    """Download the packages of `suite` (and dependencies the image, whose dpkg `status` file this is, lacks at the
    same version) and index them."""
    repo = directory(state, suite)
    stamp = repo / "inputs.sha256"
    installed = image_versions(status)
    options = apt_options(state, suite, status)
    wanted = _candidates(_closure(PACKAGES, options), options)
    needed = {name: version for name, version in wanted.items() if installed.get(name) != version}
    digest = hashlib.sha256(repr(sorted(needed.items())).encode()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return repo
    repo.mkdir(parents=True, exist_ok=True)
    for old in repo.glob("*.deb"):
        old.unlink()
    started = time.monotonic()
    pins = [f"{name}={version}" for name, version in sorted(needed.items())]
    host.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *options, *pins], cwd=repo,
             stdout=subprocess.DEVNULL)
    _index(repo)
    stamp.write_text(digest + "\n")
    print(f"lab: apt repository of {len(needed)} packages built in {time.monotonic() - started:.0f} s", flush=True)
    return repo


def _pidfile() -> Path:
    return host.instance_dir() / "repo.pid"


def serve(repo: Path) -> None:
    """Serve the repository on the controller address inside the namespace (once per lab)."""
    pidfile = _pidfile()
    if pidfile.exists():
        text = pidfile.read_text().strip()
        if text.isdigit() and _is_server(int(text)):
            return
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    address = url().split("//")[1].split(":")[0]
    log = open(host.instance_dir() / "repo.log", "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        ["ip", "netns", "exec", host.namespace(), "python3", "-m", "http.server", str(PORT), "--bind", address,
         "--directory", str(repo)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    pidfile.write_text(f"{proc.pid}\n")


def _is_server(pid: int) -> bool:
    argv = host.cmdline(pid)
    return b"http.server" in argv and b"--directory" in argv


def revive(state: Path) -> None:
    """Start the lab's repository server again if it was started and has ended since."""
    pidfile = _pidfile()
    if not pidfile.exists():
        return
    text = pidfile.read_text().strip()
    if text.isdigit() and _is_server(int(text)):
        return
    print(f"lab: the repository server (pid {text}) has ended; starting it again", flush=True)
    pidfile.unlink()
    serve(directory(state, host.suite()))


def _stop_server(pid: int) -> bool:
    """End `pid` if it is a repository server (python -m http.server); True if it was one."""
    return _is_server(pid) and host.terminate(pid, lambda: _is_server(pid), 5)


def stop() -> None:
    pidfile = _pidfile()
    if not pidfile.exists():
        return
    text = pidfile.read_text().strip()
    if text.isdigit():
        _stop_server(int(text))
    pidfile.unlink(missing_ok=True)


def stop_strays(pids: list[str]) -> None:
    """End repository servers still inside the lab's namespace whose pidfile was lost."""
    for pid in pids:
        if pid.isdigit() and _stop_server(int(pid)):
            print(f"lab: stopped a repository server (pid {pid}) that had lost its pidfile", flush=True)
