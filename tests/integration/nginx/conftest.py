"""This stage's lab (the five guests): its directors switched to site.yml's nginx_pair topology."""

from __future__ import annotations

import pytest
from labhelp import switched


@pytest.fixture(scope="session")
def playbook(ansible_playbook):
    return switched(ansible_playbook, "nginx_pair")
