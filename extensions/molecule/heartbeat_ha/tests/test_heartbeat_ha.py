"""The pair after converge: heartbeat running with the node list, media and keys it was given, the
VIP on the preferred node only, and heartbeat's own view of where the resources are."""

from __future__ import annotations

VIP = "192.0.2.95/24"


def test_heartbeat_runs_at_boot(host):
    service = host.service("heartbeat")
    assert service.is_enabled and service.is_running


def test_both_nodes_are_active_members(host):
    assert sorted(host.check_output("cl_status listnodes").split()) == ["dir1", "dir2"]
    for node in ("dir1", "dir2"):
        assert host.check_output(f"cl_status nodestatus {node}") == "active"


def test_the_preferred_node_holds_the_vip_and_the_other_does_not(host):
    preferred = host.backend.get_hostname() == "dir1"
    assert (f" {VIP} " in host.check_output("ip -o -4 addr show")) == preferred
    # The resource script heartbeat asks agrees ("running": held, as ResourceManager reads it).
    haresources = host.file("/etc/ha.d/haresources").content_string.split()
    vip = next(word for word in haresources if word.startswith("linux-cluster::vip::"))
    status = host.check_output(f"/etc/ha.d/resource.d/linux-cluster {vip.split('::', 1)[1].replace('::', ' ')} status")
    assert status == ("running" if preferred else "stopped")


def test_a_dead_heartbeat_releases_the_declared_resources_and_starts_again(host):
    dropin = host.file("/etc/systemd/system/heartbeat.service.d/linux-cluster-lvs.conf").content_string
    interface = host.check_output("ip -o -4 addr show to 192.0.2.0/24 | awk '{print $2; exit}'")
    assert f"ExecStopPost=-/etc/ha.d/resource.d/linux-cluster vip {VIP} {interface} stop" in dropin
    # systemd reads it: deadtime 10 s + 5 s.
    assert host.check_output("systemctl show -P Restart heartbeat") == "on-failure"
    assert host.check_output("systemctl show -P RestartUSec heartbeat") == "15s"


def test_keys_are_private_and_the_selected_index_is_used(host):
    authkeys = host.file("/etc/ha.d/authkeys")
    assert authkeys.mode == 0o600 and authkeys.user == "root"
    assert [line for line in authkeys.content_string.splitlines() if line.startswith("auth ")] == ["auth 2"]


def test_ucast_to_the_peer_only(host):
    peer = "192.0.2.12" if host.backend.get_hostname() == "dir1" else "192.0.2.11"
    ucast = [line for line in host.file("/etc/ha.d/ha.cf").content_string.splitlines() if line.startswith("ucast ")]
    assert len(ucast) == 1, ucast
    # The peer's address, or its name where the inventory gives no address (Docker): either reaches the peer.
    target = ucast[0].split()[-1]
    assert host.check_output(f"getent ahostsv4 {target}").split()[0] == peer, ucast
