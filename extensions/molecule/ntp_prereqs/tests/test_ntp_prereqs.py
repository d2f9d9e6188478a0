"""After converge: the client keeps cluster time and serves it, dir1 is synchronised to it; both resolve both
names to their addresses first; multicast is on and the cluster's traffic accepted on the cluster's interface,
from a unit that runs at boot; chrony runs at boot. The same checks run on the lab's guests and on Docker
containers (there chronyd runs with -x: the clock it keeps is the host's, never set)."""

from __future__ import annotations

NODES = {"client": "192.0.2.100", "dir1": "192.0.2.11"}


def tracking(host) -> list[str]:
    return host.check_output("chronyc -c tracking").split(",")


def test_chrony_synchronised_to_the_cluster_time(host):
    fields = tracking(host)
    name = host.backend.get_hostname()
    assert fields[13] == "Normal", fields
    if name == "client":
        # Its own clock (chrony's local reference), at the stratum given (local stratum 8 orphan).
        assert (fields[0], fields[2]) == ("7F7F0101", "8"), fields
    else:
        assert (fields[1], fields[2]) == ("192.0.2.100", "9"), fields
        assert abs(float(fields[4])) < 0.1 and abs(float(fields[5])) < 0.1, fields


def test_only_the_declared_sources(host):
    assert "2.debian.pool.ntp.org" not in host.file("/etc/chrony/chrony.conf").content_string
    sources = host.file("/etc/chrony/sources.d/linux-cluster.sources").content_string
    assert ("server 192.0.2.100 iburst minpoll 0 maxpoll 2" in sources) == (host.backend.get_hostname() == "dir1")


def test_the_client_serves_its_time_to_the_front_network(host):
    conf = host.file("/etc/chrony/conf.d/linux-cluster.conf").content_string
    if host.backend.get_hostname() == "client":
        assert "local stratum 8 orphan" in conf and "allow 192.0.2.0/24" in conf
    else:
        assert "allow" not in conf


def test_every_name_resolves_to_its_address_first(host):
    hosts = host.file("/etc/hosts").content_string.splitlines()
    assert hosts[0] == "# BEGIN linux_cluster.lvs cluster nodes"
    for name, address in NODES.items():
        assert host.check_output(f"getent hosts {name}").split()[0] == address


def test_multicast_and_cluster_traffic_on_the_interface_from_a_boot_unit(host):
    """The scenario's interface (vec0 on the lab, eth0 in Docker) and host firewall (none in Docker)."""
    given = host.ansible.get_variables()
    interface, firewall = given["ntp_prereqs_interfaces"][0], given["ntp_prereqs_firewall_iptables"]
    assert host.service("cluster-prereqs").is_enabled and host.service("cluster-prereqs").is_running
    assert "MULTICAST" in host.check_output(f"ip -o link show dev {interface}")
    if not firewall:
        return
    rules = host.check_output(f"{firewall} -S INPUT")
    # IP protocol 112 is listed by its name from /etc/protocols.
    for match in ("-p vrrp", "-p udp -m udp --dport 8848", "-p udp -m udp --dport 694", "-p udp -m udp --dport 123"):
        assert f"-A INPUT -i {interface} {match} -m comment" in rules, rules


def test_chrony_runs_at_boot(host):
    assert host.package("chrony").is_installed
    assert host.service("chrony").is_enabled and host.service("chrony").is_running
