"""A large table through ipvs_rules: benchmarks/bench_ipvs_rules.py on dir1 with 200 services x 10 real servers, one
round. Its playbook asserts the module's results (the whole table in one batch, then a re-run that changes
nothing, then one real server's weight changed by one `ipvsadm -e`); the figures and ratios are printed (the
1,000 x 10 table and its targets: `make bench-lab`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_large_table_applied_left_and_edited(tmp_path):
    figures = tmp_path / "figures.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_ipvs_rules.py"), "--services", "200",
                          "--rounds", "1", "--json", str(figures)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900, check=False)
    print("\n" + run.stdout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    measured = json.loads(figures.read_text())["rounds"][0]
    assert int(measured["lines"]) == 2200, measured
