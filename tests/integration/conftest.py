"""Integration tests run ansible-playbook against lab guests from inside the lab namespace.

Run them through the lab: `tools/lab exec -- .venv/bin/pytest tests/integration`
(scripts/run-tests does this after `tools/lab up`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from labhelp import run_with_stats

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    if "LVS_LAB" not in os.environ:
        raise pytest.UsageError("integration tests run inside the lab namespace: "
                                "tools/lab up dir1 rs1 && tools/lab exec -- .venv/bin/pytest tests/integration")


@pytest.fixture(scope="session")
def ansible_playbook():
    """ansible_playbook(path, *args) runs ansible-playbook against the lab inventory (or `inventory`); fails the
    test on rc != 0 unless called with ok=False (for runs that must fail). linear=True runs it with Ansible's own
    strategy, as users run it, whatever strategy the suite runs (scripts/test-env.sh)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_ROLES_PATH=str(ROOT / "tests/integration/targets"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1")
    own = {key: value for key, value in env.items() if key not in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS")}
    binary = str(Path(sys.executable).parent / "ansible-playbook")

    def run(path: str, *args: str, ok: bool = True, linear: bool = False,
            inventory: str = str(ROOT / "inventories/lab/hosts.yml")) -> subprocess.CompletedProcess:
        result = run_with_stats([binary, "-i", inventory, str(ROOT / path), *args],
                                cwd=ROOT, env=own if linear else env, capture_output=True, text=True, timeout=1800)
        if ok and result.returncode != 0:
            pytest.fail(f"ansible-playbook {path} {' '.join(args)} failed (rc={result.returncode}):\n"
                        f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
        return result

    return run


@pytest.fixture(scope="session")
def playbook(ansible_playbook):
    """ansible_playbook against the lab's default inventory; a stage's conftest switches its topology."""
    return ansible_playbook
