"""This stage's lab (dir1, dir2 and the client): its directors switched to site.yml's keepalived_pair topology,
without the prerequisites' firewall rules (the stage proves keepalived_ha's own, keepalived_ha_firewall_iptables;
the site stage proves the prerequisites')."""

from __future__ import annotations

import pytest
from labhelp import switched


@pytest.fixture(scope="session")
def playbook(ansible_playbook):
    return switched(ansible_playbook, "keepalived_pair", "--limit", "dir1,dir2,client",
                    "-e", "ntp_prereqs_firewall_iptables=")
