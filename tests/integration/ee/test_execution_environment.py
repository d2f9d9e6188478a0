"""An execution environment built with ansible-builder from docs/execution-environment.yml, then one of the
collection's playbooks run from inside it against the lab's guests, proven with requests through the VIP.

scripts/run-tests (stage `ee`) runs this on a lab of dir1 and rs1 after making the base image (`tools/lab docker
ee-base`) and putting the wheels of the Python packages the build installs in .build/ee-wheels: the lab's dockerd
has no route out, so nothing is fetched during the build. The definition is the documented example with what only
this machine needs changed: that base image instead of one from a registry, and pip told to use those wheels.
The image then runs `linux_cluster.lvs.lvs_dr` (the collection's own playbook, from the image) on the
host network of the dockerd's namespace, which `tools/lab docker link` joins to the lab's front network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from labhelp import CALLBACKS, ROOT, lab, read_stats, recap, stats_env

TAG = "lvs-ee:test"
WHEELS = ROOT / ".build/ee-wheels"
VIP = "192.0.2.50"
# The lab inventory's LVS-DR cluster with a static table on dir1, rs1 its only real server on port 80.
PLAYBOOK = ["ansible-playbook", "linux_cluster.lvs.lvs_dr", "-i", "/runner/inventories/lab/hosts.yml",
            "-i", "/runner/inventories/lab-topologies/lvs_static.yml", "--limit", "dir1,rs1",
            "-e", '{"lvs_lab_dropped": ["192.0.2.22"]}']


def docker(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "tools/lab"), "docker", "exec", "--", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def definition(tarball: str) -> dict:
    """docs/execution-environment.yml with this machine's base image, its Python and the wheels."""
    ee = yaml.safe_load((ROOT / "docs/execution-environment.yml").read_text())
    ee["images"]["base_image"]["name"] = "lvs-lab/ee-base:bookworm"
    ee["dependencies"]["python_interpreter"]["python_path"] = "/opt/ee/bin/python3"
    ee["dependencies"]["galaxy"]["collections"][0]["name"] = f"collections/{tarball}"
    ee["additional_build_files"][0]["src"] = tarball
    ee["additional_build_files"].append({"src": str(WHEELS), "dest": "wheels"})
    steps = ee.setdefault("additional_build_steps", {})
    steps["prepend_base"] = ["COPY _build/wheels /wheels", "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels"]
    return ee


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    assert any(WHEELS.glob("ansible_core-*.whl")), f"no wheels in {WHEELS}: run the stage (scripts/run-tests ee)"
    work = tmp_path_factory.mktemp("ee")
    built = subprocess.run([str(ROOT / ".venv/bin/ansible-galaxy"), "collection", "build", str(ROOT),
                            "--output-path", str(work)], capture_output=True, text=True, check=True)
    tarball = next(work.glob("linux_cluster-lvs-*.tar.gz")).name
    assert tarball in built.stdout
    (work / "execution-environment.yml").write_text(yaml.safe_dump(definition(tarball)))
    base = docker("docker", "image", "inspect", "--format", "{{.Id}}", "lvs-lab/ee-base:bookworm")
    assert base.returncode == 0, f"no base image: run the stage (scripts/run-tests ee): {base.stderr}"
    start = time.monotonic()
    result = docker(str(ROOT / ".venv/bin/ansible-builder"), "build", "-f", str(work / "execution-environment.yml"),
                    "-c", str(work / "context"), "-t", TAG, "--container-runtime", "docker", "-v", "2")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    print(f"\nansible-builder build: {TAG} in {time.monotonic() - start:.0f} s")
    return work


def run_inside(work: Path, *argv: str) -> subprocess.CompletedProcess:
    """argv in a container of the image (user 1000) on the dockerd's host network, with the lab's inventory and SSH
    key; an ansible-playbook run's statistics as `.stats` (labhelp.run_with_stats, the callback mounted)."""
    keys, stats = work / "keys", work / "stats"
    if not keys.exists():
        keys.mkdir()
        stats.mkdir()
        shutil.copy(Path(os.environ.get("LVS_LAB_DIR", "/var/tmp/lvs-lab")) / "id_ed25519", keys / "id_ed25519")
        for path in (keys, keys / "id_ed25519", stats):
            os.chown(path, 1000, 0)
    (stats / "stats.json").unlink(missing_ok=True)
    inside = stats_env({"LVS_LAB_DIR": "/runner/lab", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_FORCE_COLOR": "0"},
                       "/runner/stats/stats.json", "/runner/callbacks")
    result = docker("docker", "run", "--rm", "--network", "host",
                    "-v", f"{ROOT / 'inventories'}:/runner/inventories:ro", "-v", f"{keys}:/runner/lab:ro",
                    "-v", f"{CALLBACKS}:/runner/callbacks:ro", "-v", f"{stats}:/runner/stats",
                    *(part for key, value in inside.items() for part in ("-e", f"{key}={value}")), TAG, *argv)
    result.stats = read_stats(stats / "stats.json")
    return result


def test_the_image_holds_the_collection_and_what_it_needs(image):
    listed = run_inside(image, "ansible-galaxy", "collection", "list", "linux_cluster.lvs")
    assert listed.returncode == 0 and "linux_cluster.lvs" in listed.stdout, listed.stdout + listed.stderr
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert version in listed.stdout
    tools = run_inside(image, "sh", "-c", "command -v ssh && ansible --version | head -1")
    assert tools.returncode == 0 and "/usr/bin/ssh" in tools.stdout and "core 2.19" in tools.stdout, tools.stdout


def test_a_playbook_of_the_collection_run_from_the_image_builds_a_cluster_that_answers(image):
    print("\n" + lab("docker", "link").strip())
    start = time.monotonic()
    first = run_inside(image, *PLAYBOOK)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert set(recap(first)) == {"dir1", "rs1"} and recap(first)["dir1"] > 0, first.stdout[-2000:]
    middle = time.monotonic()
    again = run_inside(image, *PLAYBOOK)
    assert again.returncode == 0 and recap(again) == {"dir1": 0, "rs1": 0}, again.stdout[-3000:]
    print(f"linux_cluster.lvs.lvs_dr from the image: first run {middle - start:.0f} s (changed "
          f"{recap(first)}), re-run {time.monotonic() - middle:.0f} s (changed 0)")
    answers = []
    for _request in range(20):
        with urllib.request.urlopen(f"http://{VIP}/", timeout=5) as reply:
            answers.append(reply.read().decode().strip())
    assert answers == ["rs1"] * 20, answers
    table = lab("ssh", "dir1", "ipvsadm -Ln -t 192.0.2.50:80")
    assert "192.0.2.21:80" in table and "Route" in table, table
