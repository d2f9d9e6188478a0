"""The director's kernel state after converge: table, VIPs, sysctls, firewall rules, boot persistence."""

from __future__ import annotations

TABLE = [
    "-A -f 10 -s rr -p 600",
    "-a -f 10 -r 198.51.100.21:0 -m -w 1",
    "-A -t 203.0.113.50:80 -s wlc",
    "-a -t 203.0.113.50:80 -r 198.51.100.21:8080 -m -w 2",
    "-a -t 203.0.113.50:80 -r 198.51.100.22:8080 -m -w 1",
]


def test_table(host):
    assert sorted(host.check_output("ipvsadm -Sn").splitlines()) == sorted(TABLE)
    assert host.check_output("ipvsadm -Ln --timeout") == "Timeout (tcp tcpfin udp): 900 60 300"


def test_table_is_restored_at_boot(host):
    saved = host.file("/etc/ipvsadm.rules").content_string.splitlines()
    assert sorted(line for line in saved if line.startswith("-")) == sorted(TABLE)
    assert 'AUTO="true"' in host.file("/etc/default/ipvsadm").content_string
    assert host.service("ipvsadm").is_enabled


def test_vips_are_held_by_a_unit(host):
    addresses = host.check_output("ip -o -4 addr show")
    assert "203.0.113.50/32" in addresses and "203.0.113.51/32" in addresses
    unit = host.service("lvs-director-vip")
    assert unit.is_enabled and unit.is_running


def test_nat_forwarding(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1


def test_mark_and_masquerade_rules_once_each(host):
    mangle = host.check_output("iptables-legacy -t mangle -S PREROUTING")
    assert mangle.count("-j MARK --set-xmark 0xa/0xffffffff") == 1
    assert "-d 203.0.113.51/32 -p tcp -m multiport --dports 80,443" in mangle
    nat = host.check_output("iptables-legacy -t nat -S POSTROUTING")
    assert nat.count("-s 198.51.100.0/24 ! -d 198.51.100.0/24") == 1 and "-j MASQUERADE" in nat
    for name in ("lvs-director-fwmark", "lvs-director-masquerade"):
        assert host.service(name).is_enabled


def test_restarting_the_rule_unit_does_not_double_rules(host):
    host.check_output("systemctl restart lvs-director-fwmark.service")
    assert host.check_output("iptables-legacy -t mangle -S PREROUTING").count("--set-xmark 0xa/") == 1
