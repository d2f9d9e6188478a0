"""What the kernel holds after converge, read with ipvsadm on each director."""

from __future__ import annotations

EXPECTED = [
    "-A -f 10 -s rr -p 600 -M 255.255.255.0",
    "-a -f 10 -r 192.0.2.21:0 -g -w 1",
    "-a -f 10 -r 192.0.2.22:0 -g -w 1",
    "-A -t 192.0.2.50:80 -s wrr",
    "-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1",
    "-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 3",
    "-A -t [2001:db8:0:2::50]:443 -s sh -b sh-port",
    "-a -t [2001:db8:0:2::50]:443 -r [2001:db8:0:3::15]:8443 -m -w 1",
    "-a -t [2001:db8:0:2::50]:443 -r [2001:db8:0:3::16]:8443 -m -w 0",
]


def test_table(host):
    table = host.check_output("ipvsadm -Sn").splitlines()
    assert sorted(table) == sorted(EXPECTED)


def test_timeouts(host):
    assert host.check_output("ipvsadm -Ln --timeout") == "Timeout (tcp tcpfin udp): 900 60 300"


def test_ip_vs_loaded(host):
    assert host.file("/proc/net/ip_vs").exists
