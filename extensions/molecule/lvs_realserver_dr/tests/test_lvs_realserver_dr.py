"""An LVS-DR real server after converge: VIPs on lo, ARP held back, all of it held by a boot unit."""

from __future__ import annotations


def test_vips_on_lo(host):
    assert "192.0.2.50/32" in host.check_output("ip -o -4 addr show dev lo")
    assert "2001:db8:0:2::50/128" in host.check_output("ip -o -6 addr show dev lo")


def test_arp_sysctls_live_and_persistent(host):
    for interface in ("all", "lo"):
        assert host.sysctl(f"net.ipv4.conf.{interface}.arp_ignore") == 1
        assert host.sysctl(f"net.ipv4.conf.{interface}.arp_announce") == 2
    persistent = host.file("/etc/sysctl.d/90-lvs-realserver-dr.conf").content_string
    assert "net.ipv4.conf.all.arp_ignore = 1" in persistent


def test_vip_unit_restores_after_stop(host):
    host.check_output("systemctl stop lvs-realserver-vip.service")
    assert "192.0.2.50" not in host.check_output("ip -o -4 addr show dev lo")
    host.check_output("systemctl start lvs-realserver-vip.service")
    assert "192.0.2.50/32" in host.check_output("ip -o -4 addr show dev lo")
    assert host.service("lvs-realserver-vip").is_enabled
