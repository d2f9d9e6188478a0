"""Benchmark: parse a 10,000 real-server table, plan a change, count ipvsadm processes.

Prints figures; asserts nothing about speed (a noisy machine makes timed tests flaky).
Run with `make bench` (or with the collection importable as ansible_collections.linux_cluster.lvs).
"""

from __future__ import annotations

import copy
import os
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import plan  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (  # noqa: E402
    parse_save,
    restore_script,
    save_text,
)

SERVICES = 1000
PER_SERVICE = 10


def table_text() -> str:
    lines = []
    for index in range(SERVICES):
        vip = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}:80"
        lines.append(f"-A -t {vip} -s wlc")
        for rs in range(PER_SERVICE):
            lines.append(f"-a -t {vip} -r 172.16.{index % 250}.{rs + 1}:80 -g -w {rs + 1}")
    return "\n".join(lines) + "\n"


def timed(func, *args, repeat: int = 5):
    best, result = float("inf"), None
    for _attempt in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    text = table_text()
    parse_s, current = timed(parse_save, text)
    realservers = sum(len(svc["realservers"]) for svc in current.values())

    desired = copy.deepcopy(current)
    keys = sorted(desired)
    for key in keys[::10]:  # every tenth service: one weight changes
        rs = next(iter(desired[key]["realservers"].values()))
        rs["weight"] += 100
    for key in keys[:20]:  # twenty services go away
        del desired[key]
    for key in keys[20:70]:  # fifty get a new scheduler
        desired[key]["scheduler"] = "rr"

    noop_s, noop = timed(plan, current, copy.deepcopy(current))
    plan_s, commands = timed(plan, current, desired)
    render_s, _text = timed(save_text, current)

    tracemalloc.start()
    parse_save(text)
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # A module run: -Sn and -Ln --thresholds to read, one -R batch to apply, the same two reads to verify.
    processes = 2 + (1 if commands else 0) + 2
    print(f"table: {len(current)} services, {realservers} real servers, {len(text.splitlines())} lines of ipvsadm -Sn")
    print(f"parse ipvsadm -Sn:           {parse_s * 1000:8.1f} ms   (peak memory {peak / 2**20:.1f} MiB)")
    print(f"plan, nothing to change:     {noop_s * 1000:8.1f} ms   ({len(noop)} commands)")
    print(f"plan, {len(commands):4d} changes:         {plan_s * 1000:8.1f} ms   "
          f"(restore batch {len(restore_script(commands))} bytes)")
    print(f"render -S text for --diff:   {render_s * 1000:8.1f} ms")
    print(f"ipvsadm processes for the apply: {processes} (2 reads, 1 'ipvsadm -R' batch, 2 reads to verify); "
          f"one process per command would be {len(commands) + 4}")


if __name__ == "__main__":
    main()
