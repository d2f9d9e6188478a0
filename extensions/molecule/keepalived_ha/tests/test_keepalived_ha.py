"""The pair after converge: keepalived running the instance, the VIP on the master only, the
configuration private and checked, the node's own state as keepalived reports it."""

from __future__ import annotations

import time

VIP = "192.0.2.90/24"


def holds_vip(host) -> bool:
    return f" {VIP} " in host.check_output("ip -o -4 addr show")


def test_keepalived_runs_at_boot(host):
    service = host.service("keepalived")
    assert service.is_enabled and service.is_running


def test_the_master_holds_the_vip_and_the_backup_does_not(host):
    expected = host.backend.get_hostname() == "dir1"
    deadline = time.monotonic() + 30
    while holds_vip(host) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert holds_vip(host) == expected


def test_configuration_is_private_and_accepted_by_keepalived(host):
    for path in ("/etc/keepalived/keepalived.conf", "/etc/keepalived/conf.d/VI_mol.conf"):
        config = host.file(path)
        assert config.mode == 0o600 and config.user == "root"
    assert host.run("/usr/local/sbin/keepalived-config-test /etc/keepalived/keepalived.conf").rc == 0
    assert 'auth_pass "mol-Pw#1"' in host.file("/etc/keepalived/conf.d/VI_mol.conf").content_string


def test_nonlocal_bind(host):
    assert host.sysctl("net.ipv4.ip_nonlocal_bind") == 1
