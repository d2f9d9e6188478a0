"""An LVS-NAT real server after converge: its default route goes through the director, held by a unit."""

from __future__ import annotations

import os

import pytest
import testinfra


@pytest.fixture
def gateway(host):
    if host.backend.get_hostname() != "rs1":
        pytest.skip("the real server is rs1")
    unit = host.file("/etc/systemd/system/lvs-realserver-nat.service").content_string
    return unit.split("ip route replace default via ", 1)[1].split()[0]


def test_default_route_through_the_director(host, gateway):
    assert f"default via {gateway} " in host.check_output("ip -4 route show default")
    director = testinfra.get_host("ansible://dir1", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])
    assert f" {gateway}/" in director.check_output("ip -o -4 addr show")
    # The gateway is reached directly, never through another router.
    assert " via " not in host.check_output(f"ip -o route get {gateway}")


def test_route_comes_back_with_the_unit(host, gateway):
    host.check_output("systemctl stop lvs-realserver-nat.service")
    assert f"via {gateway}" not in host.check_output("ip -4 route show default")
    host.check_output("systemctl start lvs-realserver-nat.service")
    assert f"default via {gateway} " in host.check_output("ip -4 route show default")
    assert host.service("lvs-realserver-nat").is_enabled
