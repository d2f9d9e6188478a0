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
    # heartbeat's own resource script agrees (exit 0: held, 7: not).
    assert host.run("/etc/ha.d/resource.d/IPaddr2 192.0.2.95/24 status").rc == (0 if preferred else 7)


def test_keys_are_private_and_the_selected_index_is_used(host):
    authkeys = host.file("/etc/ha.d/authkeys")
    assert authkeys.mode == 0o600 and authkeys.user == "root"
    assert [line for line in authkeys.content_string.splitlines() if line.startswith("auth ")] == ["auth 2"]


def test_ucast_to_the_peer_only(host):
    peer = "192.0.2.12" if host.backend.get_hostname() == "dir1" else "192.0.2.11"
    ucast = [line for line in host.file("/etc/ha.d/ha.cf").content_string.splitlines() if line.startswith("ucast ")]
    assert len(ucast) == 1 and ucast[0].endswith(f" {peer}")
