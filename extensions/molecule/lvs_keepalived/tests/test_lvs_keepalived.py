"""Two directors after converge with keepalived owning the IPVS table: the table as keepalived built it from
lvs_director_services (the real server that answers nothing kept out by its failing check), no static table
restored at boot, IPVS's settings for a health-checked table, and connection sync between the pair (by time,
the returning node waiting for the connections)."""

from __future__ import annotations

import time

SERVICE = "192.0.2.95:22"


def realservers(host) -> set[str]:
    out = host.check_output(f"ipvsadm -Ln -t {SERVICE}")
    return {line.split()[1] for line in out.splitlines()
            if line.strip().startswith("->") and line.split()[1][0].isdigit()}


def test_keepalived_builds_the_table_and_keeps_a_dead_real_server_out(host):
    wanted = {"192.0.2.11:22", "192.0.2.12:22"}
    deadline = time.monotonic() + 30
    while realservers(host) != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    assert realservers(host) == wanted
    config = host.file("/etc/keepalived/keepalived.conf").content_string
    assert "virtual_server 192.0.2.95 22 {" in config and "real_server 192.0.2.99 22 {" in config
    assert "TCP_CHECK {" in config


def test_no_static_table_at_boot(host):
    assert 'AUTO="false"' in host.file("/etc/default/ipvsadm").content_string
    assert not host.service("ipvsadm").is_enabled
    rules = host.file("/etc/ipvsadm.rules")
    assert not rules.exists or "192.0.2.95" not in rules.content_string


def modules_at_boot(host, name: str) -> list[str]:
    """The modules a modules-load.d file lists."""
    text = host.file(f"/etc/modules-load.d/{name}").content_string
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_ipvs_loaded_at_boot_and_expire_nodest_conn(host):
    assert modules_at_boot(host, "90-lvs-director.conf") == ["ip_vs"]
    assert host.sysctl("net.ipv4.vs.expire_nodest_conn") == 1


def test_connections_synchronised_by_time_and_the_returning_node_waits_for_them(host):
    assert modules_at_boot(host, "90-keepalived-ha-sync.conf") == ["ip_vs"]
    assert host.check_output("sysctl -n net.ipv4.vs.sync_threshold").split() == ["3", "0"]
    assert host.sysctl("net.ipv4.vs.sync_refresh_period") == 2
    assert "preempt_delay 5" in host.file("/etc/keepalived/conf.d/VI_lvs_mol.conf").content_string


def test_connection_sync_master_on_dir1_backup_on_dir2(host):
    role = "master" if host.backend.get_hostname() == "dir1" else "backup"
    deadline = time.monotonic() + 30
    while f"{role} sync daemon" not in host.check_output("ipvsadm -L --daemon") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"{role} sync daemon" in host.check_output("ipvsadm -L --daemon")
