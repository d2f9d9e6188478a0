"""An LVS-TUN real server after converge: ipip loaded now and at boot, tunl0 up with the VIPs, sysctls."""

from __future__ import annotations


def test_ipip_loaded_now_and_at_boot(host):
    assert host.file("/sys/module/ipip").is_directory
    assert host.file("/etc/modules-load.d/lvs-realserver-tun.conf").content_string == "ipip\n"


def test_tunl0_up_with_the_vips(host):
    link = host.check_output("ip -o link show dev tunl0")
    assert ",UP" in link
    addresses = host.check_output("ip -o -4 addr show dev tunl0")
    assert "192.0.2.60/32" in addresses and "192.0.2.61/32" in addresses


def test_arp_and_reverse_path_sysctls(host):
    for interface in ("all", "tunl0"):
        assert host.sysctl(f"net.ipv4.conf.{interface}.arp_ignore") == 1
        assert host.sysctl(f"net.ipv4.conf.{interface}.arp_announce") == 2
        assert host.sysctl(f"net.ipv4.conf.{interface}.rp_filter") == 0


def test_unit_holds_the_tunnel(host):
    host.check_output("systemctl restart lvs-realserver-tun.service")
    assert "192.0.2.60/32" in host.check_output("ip -o -4 addr show dev tunl0")
    assert host.service("lvs-realserver-tun").is_enabled
