"""Every integration target (tests/integration/targets/NAME, ansible-test layout: an `aliases`
file and tasks/main.yml) on real guests in the lab. A target passes when its own assertions
do: ansible-playbook exits 0 with no failed or unreachable host."""

from __future__ import annotations

from pathlib import Path

import pytest

TARGETS_DIR = Path(__file__).parent / "targets"
# ansible-test aliases that keep a target out of the run.
SKIPPING_ALIASES = {"disabled", "unsupported", "hidden"}


def aliases(target: Path) -> set[str]:
    return {line.split("#", 1)[0].strip() for line in (target / "aliases").read_text().splitlines()} - {""}


def targets() -> list[str]:
    return sorted(path.name for path in TARGETS_DIR.iterdir()
                  if (path / "aliases").is_file() and not aliases(path) & SKIPPING_ALIASES)


@pytest.mark.parametrize("target", targets())
def test_target(playbook, target):
    result = playbook("tests/integration/run_target.yml", "-e", f"target={target}")
    assert result.stats, result.stdout[-3000:]
    assert all(counts["unreachable"] == 0 and counts["failures"] == 0 for counts in result.stats.values()), \
        result.stats
