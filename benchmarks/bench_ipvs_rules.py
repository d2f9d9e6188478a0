"""Benchmark: ipvs_rules on a large table (SERVICES services x REALSERVERS real servers) on a lab director.

Each round is one run of benchmarks/ipvs_rules.yml with Ansible's default strategy, as users run it: the floor (a
task shipping the same argument to the guest, a module that does nothing with it), the module's apply to an empty
director, its no-op re-run, a change of one real server's weight; then on the guest the bare `ipvsadm -Sn`, the
bare `ipvsadm -R` of the whole table and one bare `ipvsadm -e`. Prints every round (with the CPU steal during it),
the medians and the ratios the module is held to; the first round also measures the peak memory of the floor, of
ipvs_rules' argument validation alone and of an apply on the guest.
With --profile, a no-op and an apply run once more on the guest inside one Python process with a clock around each
phase of the module (benchmarks/ipvs_rules_phases.py), and the phases are printed. Figures, not pass or fail.

    tools/lab exec -- .venv/bin/python benchmarks/bench_ipvs_rules.py [--services 1000] [--realservers 10]
        [--rounds 3] [--profile] [--json FILE] [--host dir1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The ratios: the module's time over the floor plus what it must do.
TARGETS = {"apply": ("floor + restore", 1.25), "noop": ("floor + dump", 1.2), "edit": ("floor + dump + one edit", 1.2)}


def large_services(services: int, realservers: int) -> list[dict]:
    return [{"address": f"192.0.2.{100 + index // 250}", "port": 1000 + index, "scheduler": "wrr",
             "realservers": [{"address": f"198.51.100.{rs + 21}", "weight": rs + 1} for rs in range(realservers)]}
            for index in range(services)]


def cpu_times() -> tuple[int, int]:
    """(all, steal) jiffies of this machine: the share of its CPU its hypervisor kept for others in a round."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[7]


def playbook(variables: dict, host: str) -> dict:
    total, steal = cpu_times()
    figures = run_playbook(variables, host)
    total_after, steal_after = cpu_times()
    figures["steal_pct"] = 100.0 * (steal_after - steal) / max(total_after - total, 1)
    return figures


def run_playbook(variables: dict, host: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ipvs.") as tmp:
        figures = Path(tmp) / "figures.json"
        given = Path(tmp) / "vars.json"
        given.write_text(json.dumps({**variables, "figures_file": str(figures), "bench_host": host}))
        env = {key: value for key, value in os.environ.items()
               if key not in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS")}
        env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i",
                              str(ROOT / "inventories/lab/hosts.yml"), str(ROOT / "benchmarks/ipvs_rules.yml"),
                              "-e", f"@{given}"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            sys.exit(f"benchmarks/ipvs_rules.yml failed:\n{run.stdout[-5000:]}\n{run.stderr[-2000:]}")
        return {key: float(value) if isinstance(value, (int, float, str)) else value
                for key, value in json.loads(figures.read_text()).items()}


def ratios(figures: dict) -> dict:
    floors = {"apply": figures["floor_s"] + figures["restore_s"], "noop": figures["floor_s"] + figures["dump_s"],
              "edit": figures["floor_s"] + figures["dump_s"] + figures["one_edit_s"]}
    return {name: figures[f"{name}_s"] / floors[name] for name in TARGETS}


def phases(host: str, services: list[dict]) -> str:
    """The module's phases on the guest: the collection, Ansible's module_utils (what a module run ships) and
    benchmarks/ipvs_rules_phases.py copied there, run in one process with a clock around each phase."""
    import ansible.module_utils
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        def add(path: Path, name: str) -> None:
            tar.add(path, name, filter=lambda info: None if "__pycache__" in info.name else info)
        stub = tarfile.TarInfo("ansible/__init__.py")
        tar.addfile(stub, io.BytesIO(b""))
        add(Path(ansible.module_utils.__file__).parent, "ansible/module_utils")
        for part in ("", "linux_cluster/", "linux_cluster/lvs/", "linux_cluster/lvs/plugins/"):
            stub = tarfile.TarInfo(f"ansible_collections/{part}__init__.py")
            tar.addfile(stub, io.BytesIO(b""))
        for part in ("module_utils", "modules"):
            add(ROOT / "plugins" / part, f"ansible_collections/linux_cluster/lvs/plugins/{part}")
        add(ROOT / "benchmarks/ipvs_rules_phases.py", "ipvs_rules_phases.py")
        given = json.dumps({"services": services}).encode()
        info = tarfile.TarInfo("args.json")
        info.size = len(given)
        tar.addfile(info, io.BytesIO(given))
    command = ("rm -rf /run/bench-py && mkdir /run/bench-py && tar xzf - -C /run/bench-py && cd /run/bench-py && "
               "PYTHONPATH=/run/bench-py python3 ipvs_rules_phases.py args.json; rm -rf /run/bench-py")
    result = subprocess.run([str(ROOT / "tools/lab"), "ssh", host, command], input=buffer.getvalue(),
                            capture_output=True, check=False)
    runs = [json.loads(line) for line in result.stdout.decode().splitlines() if line.startswith("{")]
    if not runs:
        return result.stdout.decode() + result.stderr.decode()
    labels = list(dict.fromkeys(label for measured in runs for label in measured["phases"]))
    lines = [f"  {'phase':40} " + " ".join(f"{measured['run']:>14}" for measured in runs)]
    for label in labels:
        cells = []
        for measured in runs:
            seconds, calls = measured["phases"].get(label, (0, 0))
            cells.append(f"{seconds:8.3f} s ({calls})" if calls else f"{'-':>14}")
        lines.append(f"  {label:40} " + " ".join(f"{cell:>14}" for cell in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--realservers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", help="write the rounds and medians here")
    parser.add_argument("--host", default="dir1")
    args = parser.parse_args()
    services = large_services(args.services, args.realservers)
    edited = json.loads(json.dumps(services))
    edited[0]["realservers"][0]["weight"] += 100
    rounds = [playbook({"services": services, "edited": edited, "memory": index == 0}, args.host)
              for index in range(args.rounds)]
    names = ("floor_s", "apply_s", "noop_s", "edit_s", "dump_s", "restore_s", "one_edit_s", "steal_pct")
    median = {name: statistics.median(figures[name] for figures in rounds) for name in names}
    print(f"ipvs_rules, {args.services} services x {args.realservers} real servers ({int(rounds[0]['lines'])} "
          f"lines, {int(rounds[0]['table_bytes']) // 1024} KiB as ipvsadm -Sn prints it), on {args.host}, "
          f"{args.rounds} rounds (seconds)")
    print("  round " + " ".join(f"{name.rsplit('_', 1)[0]:>9}" for name in names) + "  (steal: % of this machine's "
          "CPU its hypervisor kept for others during the round)")
    for index, figures in enumerate(rounds, 1):
        print(f"  {index:5} " + " ".join(f"{figures[name]:9.2f}" for name in names))
    print("  median " + " ".join(f"{median[name]:8.2f}" for name in names)[1:])
    achieved = ratios(median)
    for name, (floor, target) in TARGETS.items():
        print(f"  {name:6} {median[name + '_s']:6.2f} s = {achieved[name]:.2f} x ({floor}), target <= {target}")
    memory = rounds[0]["rss_kib"]
    if memory:
        own, validation = memory["apply"] - memory["floor"], memory["validated"] - memory["floor"]
        text = rounds[0]["table_bytes"] / 1024
        print(f"  peak memory on the guest: apply {memory['apply'] / 1024:.1f} MiB, the floor "
              f"{memory['floor'] / 1024:.1f} MiB; the module's own {own / 1024:.1f} MiB = {own / text:.1f} x the "
              f"table's text, of which AnsibleModule's validation of the arguments {validation / 1024:.1f} MiB "
              f"({validation / text:.1f} x) and the module's work {(own - validation) / 1024:.1f} MiB "
              f"({(own - validation) / text:.1f} x)")
    if args.profile:
        print("the module's phases on the guest (seconds, calls; a phase inside another counts in both):\n"
              + phases(args.host, services))
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": rounds, "median": median, "ratios": achieved}, indent=1))


if __name__ == "__main__":
    main()
