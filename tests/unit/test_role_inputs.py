"""Bad role input stops a play before any task changes anything (run against this machine in check
mode; nothing reaches a task that acts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def play(tmp_path: Path, role: str, variables: dict) -> subprocess.CompletedProcess:
    collections = tmp_path / "collections/ansible_collections/linux_cluster"
    collections.mkdir(parents=True)
    (collections / "lvs").symlink_to(ROOT)
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                                     "roles": [{"role": f"linux_cluster.lvs.{role}", "vars": variables}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--check", str(playbook)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize("variables, names", [
    ({"lvs_director_fwmark_rules": [{"mark": 10, "ports": [80]}]}, ["vip"]),
    ({"lvs_director_fwmark_rules": [{"mark": 10, "vip": "192.0.2.51", "ports": ["http"]}]}, ["ports"]),
    ({"lvs_director_timeouts": {"tcp": "soon"}}, ["tcp"]),
    ({"lvs_director_mode": "fast"}, ["lvs_director_mode"]),
])
def test_lvs_director_refuses_bad_input_before_any_task(tmp_path, variables, names):
    result = play(tmp_path, "lvs_director", variables)
    assert result.returncode != 0
    assert "Validating arguments against arg spec" in result.stdout
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    # The failure is the argument check: no task of the role ran.
    assert "TASK [linux_cluster.lvs.lvs_director : " not in result.stdout.split("Validating arguments")[1]


def test_lvs_director_preflight_names_a_bad_vip_before_install(tmp_path):
    result = play(tmp_path, "lvs_director", {"lvs_director_fwmark_rules": [{"mark": 10, "vip": "www", "ports": [80]}]})
    assert result.returncode != 0
    failed = result.stdout.split("TASK [linux_cluster.lvs.lvs_director : Inputs are coherent]")[1]
    assert "lvs_director_fwmark_rules[0].vip='www': must be an IP address" in failed, result.stdout[-2000:]
    assert "TASK [linux_cluster.lvs.lvs_director : Install]" not in result.stdout


@pytest.mark.parametrize("variables, names", [
    ({"heartbeat_ha_media": "serial", "heartbeat_ha_authkeys": [{"index": 1, "key": "k"}]}, ["heartbeat_ha_media"]),
    ({"heartbeat_ha_authkeys": [{"index": 1, "method": "crc", "key": "k"}]}, ["method"]),
    ({"heartbeat_ha_vips": [{"interface": "eth0"}], "heartbeat_ha_authkeys": [{"index": 1, "key": "k"}]}, ["address"]),
])
def test_heartbeat_ha_refuses_bad_input_before_any_task(tmp_path, variables, names):
    result = play(tmp_path, "heartbeat_ha", variables)
    assert result.returncode != 0
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    assert "TASK [linux_cluster.lvs.heartbeat_ha : " not in result.stdout.split("Validating arguments")[1]
