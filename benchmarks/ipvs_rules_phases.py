"""Run on a lab guest by bench_ipvs_rules.py --profile: ipvs_rules' main() in this process, for a no-op (the table
as declared), one real server's weight changed, and an apply to an empty table, with a wall clock around each
phase (the functions named in PHASES, wrapped where the module calls them; a phase inside another is counted in
both). Prints one JSON line per run.

    python3 ipvs_rules_phases.py ARGS.json   (ARGS.json: {"services": [...]}; the collection and Ansible's
                                              module_utils importable, ipvsadm and IPVS on the host)
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _input, _ipvs_netlink, _ipvs_runner
from ansible_collections.linux_cluster.lvs.plugins.modules import ipvs_rules

# (label, where the name is looked up, the name)
PHASES = (
    ("whole module (main)", ipvs_rules, "main"),
    ("argument validation (AnsibleModule)", AnsibleModule, "__init__"),
    ("input check (declared_services)", _input.ModuleInput, "checked"),
    ("read the table", _ipvs_runner.IPVSAdm, "read_table_and_connections"),
    ("  over netlink", _ipvs_netlink, "read_table_and_connections"),
    ("  parse ipvsadm -Sn", _ipvs_runner, "parse_save"),
    ("  parse ipvsadm -Ln", _ipvs_runner, "parse_list"),
    ("ipvsadm processes (reads and apply)", _ipvs_runner.IPVSAdm, "run"),
    ("merge with the declaration", ipvs_rules, "merge_declared"),
    ("plan", _ipvs_runner, "plan"),
    ("render the restore script", _ipvs_runner, "restore_script"),
    ("apply", _ipvs_runner.IPVSAdm, "apply"),
    ("  real-server changes over netlink", _ipvs_netlink, "change_realservers"),
    ("rules text (result)", ipvs_rules, "save_text"),
    ("exit_json (result out)", AnsibleModule, "exit_json"),
)


def timed(spent: dict, label: str, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds, calls = spent.get(label, (0.0, 0))
            spent[label] = (seconds + time.perf_counter() - started, calls + 1)
    return wrapper


def run(services: list[dict]) -> dict:
    spent: dict = {}
    originals = []
    for label, owner, name in PHASES:
        if hasattr(owner, name):
            originals.append((owner, name, getattr(owner, name)))
            setattr(owner, name, timed(spent, label, getattr(owner, name)))
    try:
        given = patch_module_args({"services": services, "purge": True})
        with given, contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            ipvs_rules.main()
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return {label: [round(seconds, 3), calls] for label, (seconds, calls) in spent.items()}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        services = json.load(handle)["services"]
    subprocess.run(["ipvsadm", "-C"], check=True)
    run(services)
    print(json.dumps({"run": "noop", "phases": run(services)}))
    edited = json.loads(json.dumps(services))
    edited[0]["realservers"][0]["weight"] += 100
    print(json.dumps({"run": "edit", "phases": run(edited)}))
    subprocess.run(["ipvsadm", "-C"], check=True)
    print(json.dumps({"run": "apply", "phases": run(services)}))
    subprocess.run(["ipvsadm", "-C"], check=True)


if __name__ == "__main__":
    main()
