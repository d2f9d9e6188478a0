"""This stage's lab (the five guests): the LVS cluster with a static table (site.yml's lvs_static switch), from
which the cases build the director pair (-e lvs_directors_ha=true) and hand it the table and back. The
prerequisites are not set up here: the site stage proves them (tests/integration/site); site.yml still checks
their input first."""

from __future__ import annotations

import pytest
from labhelp import switched


@pytest.fixture(scope="session")
def playbook(ansible_playbook):
    return switched(ansible_playbook, "lvs_static", "--skip-tags", "ntp_prereqs")
