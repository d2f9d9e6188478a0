"""1,000 services x 10 real servers through ipvs_rules, with wall times printed."""

from __future__ import annotations

import json


def large_services() -> list[dict]:
    services = []
    for index in range(1000):
        services.append({
            "address": f"192.0.2.{100 + index // 250}",
            "port": 1000 + index,
            "scheduler": "wrr",
            "realservers": [{"address": f"198.51.100.{rs + 21}", "weight": rs + 1} for rs in range(10)],
        })
    return services


def test_thousand_services_by_ten(playbook, tmp_path):
    variables = tmp_path / "large.json"
    figures_file = tmp_path / "figures.json"
    variables.write_text(json.dumps({"services": large_services(), "figures_file": str(figures_file)}))
    playbook("tests/integration/large_table.yml", "-e", f"@{variables}")
    figures = json.loads(figures_file.read_text())
    print(f"\n1000 x 10 table: ipvs_rules apply {figures['module_apply_s']} s (Ansible task incl. transfer), "
          f"idempotent rerun {figures['module_rerun_s']} s, bare 'ipvsadm -R' on the guest "
          f"{figures['bare_restore_s']} s")
    assert float(figures["module_apply_s"]) > 0
