"""Each module's integration target (tests/integration/targets/NAME) on real IPVS in the lab."""

from __future__ import annotations

import re

import pytest

TARGETS = ["ipvs_service", "ipvs_realserver", "ipvs_rules", "ipvs_info", "sysctl_arp", "lab_repo"]


@pytest.mark.parametrize("target", TARGETS)
def test_target(playbook, target):
    result = playbook("tests/integration/run_target.yml", "-e", f"target={target}")
    recap = re.search(r"dir1\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0", result.stdout)
    assert recap, result.stdout[-3000:]
    assert int(recap.group(1)) > 3
