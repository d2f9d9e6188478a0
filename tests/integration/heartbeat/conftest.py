"""This stage's lab (dir1, dir2 and the client): its directors switched to site.yml's heartbeat_pair topology."""

from __future__ import annotations

import pytest
from labhelp import switched


@pytest.fixture(scope="session")
def playbook(ansible_playbook):
    return switched(ansible_playbook, "heartbeat_pair", "--limit", "dir1,dir2,client")
