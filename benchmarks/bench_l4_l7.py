"""Benchmark: layer 4 (LVS-DR) against layer 7 (the nginx proxy) in front of the same two real servers.

From the lab's client, wrk sends requests for DURATION seconds at each concurrency level through the LVS-DR VIP
(site.yml's static table on dir1, weights 1:3) and through the nginx proxy pair's VIP (playbooks/nginx_ha.yml,
nginx on dir1, weights 1:3): requests per second, latency percentiles (p50, p90, p99), and the CPU time dir1
spent per request (all of dir1's non-idle time during the run, from its /proc/stat: IPVS works in the kernel,
nginx in its workers and the kernel). Prints a table and writes it as JSON. Figures, not pass or fail.

    tools/lab --lab ngx exec -- .venv/bin/python benchmarks/bench_l4_l7.py [--duration S] [--levels 1,8,32] [--json F]

Both clusters must be built on the lab first (scripts/run-tests' nginx stage does it after its tests).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"LVS-DR (L4)": "192.0.2.50", "nginx proxy (L7)": "192.0.2.80"}
DIRECTOR = "dir1"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def ssh(name: str, command: str, timeout: float = 600) -> str:
    result = subprocess.run([str(ROOT / "tools/lab"), "ssh", name, command], capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        sys.exit(f"{name}: {command}: {result.stdout}{result.stderr}")
    return result.stdout


def busy(line: str) -> int:
    """Non-idle CPU time in clock ticks from /proc/stat's `cpu` line (user, nice, system, irq, softirq, steal)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in line.split()[1:9])
    return user + nice + system + irq + softirq + steal


class Ticks:
    """dir1's CPU time over a run: one SSH session opened before the run reads /proc/stat, waits, and reads it
    again after, so the session's own start-up is outside the window."""

    def __init__(self):
        self.proc = subprocess.Popen([str(ROOT / "tools/lab"), "ssh", DIRECTOR,
                                      "head -1 /proc/stat; read -r _; head -1 /proc/stat"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.start = busy(self.proc.stdout.readline())

    def spent(self) -> int:
        end = self.proc.communicate("\n", timeout=60)[0]
        return busy(end) - self.start


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> dict:
    """wrk --latency's summary: requests, errors, rate and the latency percentiles in ms."""
    figures = {"requests": int(re.search(r"(\d+) requests in", output).group(1)),
               "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["errors"] = (sum(int(value) for value in errors.groups()) if errors else 0) + (
        int(non_2xx.group(1)) if non_2xx else 0)
    for percent in (50, 90, 99):
        figures[f"p{percent}_ms"] = milliseconds(re.search(rf"^\s+{percent}%\s+(\S+)", output, re.M).group(1))
    return figures


def run(vip: str, connections: int, duration: int, hz: int) -> dict:
    threads = min(2, connections)
    ticks = Ticks()
    output = ssh("client", f"wrk -t{threads} -c{connections} -d{duration}s --latency http://{vip}/",
                 timeout=duration + 120)
    spent = ticks.spent() / hz
    figures = parse_wrk(output)
    figures["director_cpu_us_per_request"] = round(1e6 * spent / max(1, figures["requests"]), 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--levels", default="1,8,32", help="concurrent connections, comma-separated")
    parser.add_argument("--json", default="", help="also write the results to this file")
    args = parser.parse_args(argv)
    if "wrk" not in ssh("client", "command -v wrk || true"):
        ssh("client", "apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null")
    hz = int(ssh(DIRECTOR, "getconf CLK_TCK"))
    results = []
    for connections in (int(level) for level in args.levels.split(",")):
        for name, vip in TARGETS.items():
            results.append({"target": name, "vip": vip, "connections": connections,
                            **run(vip, connections, args.duration, hz)})
    print(f"{'target':<18} {'conns':>5} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'dir1 CPU us/req':>15}")
    for row in results:
        print(f"{row['target']:<18} {row['connections']:>5} {row['rate']:>8.0f} {row['p50_ms']:>7.2f} "
              f"{row['p90_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['errors']:>6} "
              f"{row['director_cpu_us_per_request']:>15}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
