"""Helpers the lab tests share: tools/lab as a function, and a playbook recap as data.
(tests/integration is on sys.path: pytest puts the directory of its conftest.py there.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lab(*args: str, stdin: str | None = None, timeout: float = 600) -> str:
    """tools/lab ARGS; its output. Fails the test when it fails."""
    result = subprocess.run([str(ROOT / "tools/lab"), *args], input=stdin, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"tools/lab {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def recap(output: str) -> dict:
    """{host: changed} from ansible-playbook's recap."""
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}
