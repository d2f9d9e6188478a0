"""The client's watch of a VIP during a failover, shared by the HA stages' tests: ping every 50 ms and
HTTP requests one after another from the lab's client, the longest reply gap and the failed requests."""

from __future__ import annotations

import collections
import datetime
import json
import queue
import shlex
import subprocess
import threading
import time

from labhelp import ROOT, lab

RESULTS: list[str] = []

# Runs on the client until a line arrives on stdin (or `limit` seconds): ping every 50 ms (timestamps
# of the replies kept), HTTP requests one after another, one every 50 ms at most (a client that does
# not starve the two-core host the guests share), 2 s at most each (a guest busy with Ansible may take
# over 1 s to answer), each printed as it ends ("TIME ANSWER": when the answer came, ANSWER a
# director's name (the page's, or the X-Proxy header of an nginx proxy pair) or FAILED; a request
# sent during a failover may be answered seconds later), then a summary line with the failures by
# kind (timeout, refused, ...).
WATCH = r"""
import http.client, json, select, subprocess, sys, threading, time
vip, limit = sys.argv[1], float(sys.argv[2])
replies, pings, end = [], [], time.monotonic() + limit
def read_ping():
    # ping ends by itself after a few seconds of unreachable errors (no address answers ARP): started again
    # until the watch ends, so a long outage is one long gap.
    while time.monotonic() < end:
        ping = subprocess.Popen(["ping", "-n", "-D", "-i", "0.05", "-W", "1", "-w", str(int(limit)), vip],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        pings.append(ping)
        for line in ping.stdout:
            if "bytes from" in line:
                replies.append(float(line[1:line.index("]")]))
        ping.wait()
        time.sleep(0.05)
threading.Thread(target=read_ping, daemon=True).start()
failed, answers, kinds = 0, 0, {}
while time.monotonic() < end and not select.select([sys.stdin], [], [], 0)[0]:
    start = time.time()
    conn = http.client.HTTPConnection(vip, 80, timeout=2)
    kind = ""
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        reply = conn.getresponse()
        # Behind a proxy pair the proxy that answered names itself in X-Proxy; otherwise the page names its host.
        body = reply.getheader("X-Proxy") or reply.read().decode().strip()
        answer = body if reply.status == 200 and body else "FAILED"
        kind = "" if answer != "FAILED" else f"HTTP {reply.status}"
    except (OSError, http.client.HTTPException) as error:
        answer, kind = "FAILED", type(error).__name__
    finally:
        conn.close()
    if kind:
        kinds[kind] = kinds.get(kind, 0) + 1
    failed += answer == "FAILED"
    answers += 1
    print(f"{time.time():.3f} {answer}", flush=True)
    time.sleep(max(0.0, 0.05 - (time.time() - start)))
end = 0
time.sleep(0.2)
for ping in pings:
    ping.terminate()
gaps = [later - earlier for earlier, later in zip(replies, replies[1:])]
print("SUMMARY " + json.dumps({"max_gap": round(max(gaps, default=0.0), 3), "ping_replies": len(replies),
                               "requests": answers, "failed": failed, "failures": kinds}), flush=True)
"""


# Runs on a guest: its clock, read the moment each line arrives on stdin.
CLOCK = ("import sys, time\nprint('ready', flush=True)\n"
         "for line in sys.stdin:\n    print(f'{time.time():.6f}', flush=True)")


def clock_offset(name: str, rounds: int = 5) -> float:
    """`name`'s clock minus the lab host's, in seconds. A guest's clock is set from the host's at boot and then runs
    on its own: when the host's is stepped (a paused machine resumed), the two differ by seconds, so a figure that
    compares a guest's time with the host's takes this off first. Over one SSH session the guest reads its clock as
    a line arrives; of `rounds` exchanges the one with the shortest round trip counts, against the midpoint of the
    host's clock before and after it (accurate to half that round trip, a few milliseconds)."""
    proc = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", name, f"python3 -uc {shlex.quote(CLOCK)}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", f"no clock read on {name}"
        best = (float("inf"), 0.0)
        for _round in range(rounds):
            before = time.time()
            proc.stdin.write("\n")
            proc.stdin.flush()
            guest = float(proc.stdout.readline())
            after = time.time()
            best = min(best, (after - before, guest - (before + after) / 2))
        return best[1]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def journal_since(name: str, since: float, options: str = "") -> list[tuple[float, str]]:
    """`name`'s journal since `since` (the lab host's clock; journalctl `options` added), each line's time on the
    host's clock and the rest of the line."""
    offset = clock_offset(name)
    entries = []
    journal = lab("ssh", name, f"journalctl -o short-unix --no-pager --since @{since + offset:.3f} {options}")
    for line in journal.splitlines():
        stamp, _space, rest = line.partition(" ")
        if stamp.replace(".", "", 1).isdigit():
            entries.append((float(stamp) - offset, rest))
    return entries


class Watch:
    """The client's watch of the VIP, read line by line as it runs. Its times are the lab host's clock (the
    client's own, less its offset measured when the watch starts)."""

    def __init__(self, vip: str, limit: float = 240):
        self.vip = vip
        self.offset = clock_offset("client")
        lab("ssh", "client", "cat > /root/vipwatch.py", stdin=WATCH)
        self.proc = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", "client", "python3", "/root/vipwatch.py",
                                      vip, str(limit)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: collections.deque = collections.deque(maxlen=12)
        threading.Thread(target=self._read, daemon=True).start()
        self.summary: dict | None = None

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def until(self, host: str | set[str], count: int = 10, timeout: float = 90) -> float:
        """Wait until `count` requests in a row are answered by `host` (or by any of a set of hosts,
        the real servers behind a director); the time the first of them was answered (the host's clock)."""
        hosts = {host} if isinstance(host, str) else host
        deadline, streak, first = time.monotonic() + timeout, 0, 0.0
        tally: collections.Counter = collections.Counter()
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("SUMMARY"):
                break
            self.seen.append(line)
            stamp, answer = line.split(" ", 1)
            tally[answer] += 1
            streak = streak + 1 if answer in hosts else 0
            first = float(stamp) - self.offset if streak == 1 else first
            if streak >= count:
                return first
        raise AssertionError(f"{self.vip} not answered by {host} {count} times in a row within {timeout} s; "
                             f"answers meanwhile: {dict(tally)}; the last ones: {list(self.seen)}")

    def stop(self) -> dict:
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=30)
            if line.startswith("SUMMARY "):
                self.proc.wait(timeout=10)
                return json.loads(line.split(" ", 1)[1])
        raise AssertionError("the client's watch did not end")


def report(case: str, summary: dict, tail: str = "") -> None:
    """Print one case's figures now and keep them for the summary at the end."""
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.get("failures", {}).items()))
    line = (f"{case}: longest ping gap {summary['max_gap']:.2f} s, failed requests {summary['failed']} "
            f"of {summary['requests']}{f' ({kinds})' if kinds else ''}{tail}")
    print("\n" + line)
    RESULTS.append(line)


def measure(case: str, away, back=None, *, vip: str, to: str = "dir2", home: str = "dir1", streak: int = 10,
            timeout: float = 90) -> dict:
    """Run `away` (a failure on dir1), wait until `to` answers `streak` requests in a row, run `back` (its
    repair, if any), wait until `home` answers again. The client's watch runs throughout (its answers
    are queued, so a move that comes and goes while `away` runs is still seen). Prints and returns the
    longest ping gap, the failed requests, `moved_after`: seconds from the start of `away` to the first
    request `to` answered, and `back_after`: from the start of `back` to the first `home` answered again
    (the host's clock throughout: the client's times are converted), or from the time `back` returns, where it
    returns one."""
    watch = Watch(vip)
    settled = time.time()
    # The failure starts from a settled pair: `home` alone holds the VIP and answers for it.
    wait_for_holders(vip, {home})
    watch.until(home)
    started = time.time()
    away()
    try:
        moved = watch.until(to, count=streak, timeout=timeout)
        repaired = time.time()
        if back is not None:
            # A repair that takes effect later than it returns (a daemon systemd starts again) says when.
            began = back()
            repaired = began if isinstance(began, float) else repaired
        returned = watch.until(home, timeout=timeout)
    except AssertionError as error:
        watch.proc.kill()  # its end of stdin closes: the client's watch ends too
        raise AssertionError(f"{error}\n{where(vip, (home, to))}") from None
    summary = watch.stop()
    summary["moved_after"] = round(moved - started, 2)
    summary["back_after"] = round(returned - repaired, 2) if back is not None else None
    way_back = f"{summary['back_after']:.1f} s after the repair began" if back is not None else "by itself"
    report(case, summary, f" (VIP to {to} {summary['moved_after']:.1f} s after the failure began, back to {home} "
                          f"{way_back}; the case took {time.time() - settled:.0f} s, {started - settled:.0f} s of "
                          f"them waiting for {home} before the failure)")
    return summary


def where(vip: str, nodes: tuple[str, ...]) -> str:
    """What a failed wait needs to be understood: the switch ports, the client's neighbour entry for the
    VIP, each node's addresses and last keepalived or heartbeat messages (a node that does not answer
    says so)."""
    def ask(name: str, command: str) -> str:
        try:
            return lab("ssh", name, command, timeout=20).strip()
        except (AssertionError, subprocess.TimeoutExpired) as error:
            return f"no answer ({type(error).__name__})"
    ports = subprocess.run(["bridge", "link"], capture_output=True, text=True, check=False).stdout.strip()
    lines = [f"switch ports:\n{ports}", f"client: {ask('client', f'ip neigh show {vip}')}"]
    state = "ip -br addr; journalctl -u keepalived -u heartbeat -n 8 --no-pager -o short-precise"
    lines += [f"{name}: {ask(name, state)}" for name in nodes]
    return "\n".join(lines)


def holder(vip: str, nodes: tuple[str, ...] = ("dir1", "dir2")) -> set[str]:
    """The nodes that have the VIP on an interface."""
    return {name for name in nodes if f" {vip}/" in lab("ssh", name, "ip -o -4 addr")}


def wait_for_holders(vip: str, expected: set[str], timeout: float = 60) -> float:
    """Poll until exactly `expected` nodes hold `vip`; the seconds it took. Fails after `timeout`."""
    start = time.monotonic()
    while (held := holder(vip)) != expected:
        assert time.monotonic() - start < timeout, f"{vip} held by {held}, not {expected}, after {timeout} s"
        time.sleep(0.5)
    return time.monotonic() - start


def restarted(name: str, unit: str, before: str, timeout: float = 90) -> float:
    """Poll until systemd has started `unit` on `name` again by itself (its Restart=): active, with a main PID
    other than `before` and its restarts counted. The time the new process started, on the lab host's clock."""
    deadline = time.monotonic() + timeout
    show = "; ".join(f"systemctl show -P {prop} {unit}" for prop in ("ActiveState", "MainPID", "NRestarts"))
    while True:
        state, pid, restarts = lab("ssh", name, show).split()
        if state == "active" and pid not in ("0", before) and int(restarts) > 0:
            started = lab("ssh", name, f"systemctl show -P ExecMainStartTimestamp --timestamp=us+utc {unit}").split()
            return datetime.datetime.strptime(" ".join(started[1:3]), "%Y-%m-%d %H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp() - clock_offset(name)
        assert time.monotonic() < deadline, f"{unit} on {name} not started again by systemd within {timeout} s: " \
                                            f"{state}, main PID {pid}, {restarts} restarts"
        time.sleep(0.5)


def summary() -> str:
    """Every case's figures, one line each."""
    return "\n".join(RESULTS)
