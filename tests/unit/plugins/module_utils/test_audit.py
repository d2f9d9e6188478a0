"""The audit's verdicts over readings shaped as vrrp_info and vip_info return them, and the ARP frames."""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path

import pytest
import yaml

from ansible_collections.linux_cluster.lvs.plugins.module_utils._arp import (
    asking_interface,
    holders,
    interfaces,
    probe_frame,
    reply_mac,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._audit import (
    REALSERVER_SYSCTL_INTERFACES,
    REALSERVER_SYSCTLS,
    audit_findings,
    heartbeat_findings,
    ipvs_findings,
    prerequisite_findings,
    proxy_findings,
    realserver_findings,
    realserver_probes,
    realserver_sysctls,
    report_lines,
    summary,
    table_drift,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import declared_services, public_service
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import auth_digest, live_instances

from .test_keepalived import FIXTURES

MAC = {"dir1": "52:54:00:00:00:11", "dir2": "52:54:00:00:00:12", "client": "52:54:00:00:01:00"}


def instance(state: str, priority: int, **changes) -> dict:
    return {"state": state, "base_priority": priority, "effective_priority": priority, "virtual_router_id": 51,
            "interface": "eth0", "vips": ["192.0.2.50/24 dev eth0 scope global"], "advert_int": 1, "version": 2,
            "nopreempt": False, "auth_type": "PASS", "auth": "aaaa", "stats": {"advert_rcvd": 10, "auth_failure": 0},
            **changes}


def link(node: str, *extra: str) -> dict:
    own = {"dir1": "192.0.2.11/24", "dir2": "192.0.2.12/24", "client": "192.0.2.100/24"}[node]
    return {"lo": {"mac": "00:00:00:00:00:00", "up": True, "addresses": ["127.0.0.1/8"]},
            "eth0": {"mac": MAC[node], "up": True, "addresses": [own, *extra]}}


def vips(node: str, held_on=(), answered_by=None, extra=()) -> dict:
    return {"interfaces": link(node, *extra),
            "addresses": {"192.0.2.50": {"held_on": list(held_on), "asked_on": None if held_on else "eth0",
                                         "answered_by": None if held_on else answered_by}}}


@pytest.fixture
def healthy() -> tuple[dict, dict]:
    vrrp = {"dir1": {"running": True, "instances": {"VI_web": instance("MASTER", 150)}},
            "dir2": {"running": True, "instances": {"VI_web": instance("BACKUP", 100)}},
            "client": {"running": False, "instances": {}}}
    seen = {"dir1": vips("dir1", ["eth0"], extra=["192.0.2.50/24"]),
            "dir2": vips("dir2", answered_by=[MAC["dir1"]]),
            "client": vips("client", answered_by=[MAC["dir1"]])}
    return vrrp, seen


def nodes(vrrp: dict, seen: dict) -> dict:
    return {node: {"vrrp": vrrp[node], "vips": seen[node]} for node in vrrp}


def test_a_healthy_pair_has_no_findings(healthy):
    assert audit_findings(nodes(*healthy)) == []
    assert summary(nodes(*healthy)) == [
        "instance | VRID | peers (state, priority)          | VIPs held by",
        "VI_web   | 51   | dir1 MASTER 150, dir2 BACKUP 100 | 192.0.2.50: dir1",
    ]


def test_a_vip_added_by_hand_on_the_backup(healthy):
    vrrp, seen = healthy
    seen["dir2"] = vips("dir2", ["eth0"], extra=["192.0.2.50/32"])
    seen["client"] = vips("client", answered_by=[MAC["dir2"], MAC["dir1"]])
    found = audit_findings(nodes(vrrp, seen))
    assert [(item["check"], item["node"]) for item in found] == [("vip.arp", "client"), ("vip.held_elsewhere", "dir2")]
    assert report_lines(found) == [
        "ERROR vip.arp client: VIP 192.0.2.50 (VI_web): expected ARP answered by 52:54:00:00:00:11 (dir1 eth0) alone; "
        "seen answered by 52:54:00:00:00:11 (dir1 eth0), 52:54:00:00:00:12 (dir2 eth0)",
        "ERROR vip.held_elsewhere dir2: VIP 192.0.2.50 (VI_web): expected held by dir1 (MASTER) only; seen also held "
        "by dir2 (BACKUP) on eth0",
    ]


def test_a_password_changed_on_one_node_is_a_split_brain_named_first(healthy):
    vrrp, seen = healthy
    vrrp["dir2"]["instances"]["VI_web"] = instance("MASTER", 100, auth="bbbb",
                                                   stats={"advert_rcvd": 40, "auth_failure": 12})
    seen["dir2"] = vips("dir2", ["eth0"], extra=["192.0.2.50/24"])
    found = audit_findings(nodes(vrrp, seen))
    assert found[0]["check"] == "vrrp.split_brain" and found[0]["severity"] == "critical"
    assert found[0]["seen"] == "dir1 MASTER (priority 150), dir2 MASTER (priority 100)"
    assert found[0]["causes"] == ["different authentication (password or type): dir1 (digest) aaaa, dir2 (digest) bbbb",
                                  "authentication failures counted: dir2 12"]
    assert {item["check"] for item in found[1:]} == {"vrrp.peers_differ"}
    assert report_lines(found)[0].startswith("CRITICAL vrrp.split_brain dir1,dir2: VI_web (VRID 51): expected one "
                                             "MASTER; seen dir1 MASTER (priority 150), dir2 MASTER (priority 100); "
                                             "likely: different authentication")


def test_adverts_dropped_leave_only_the_peers_agreeing(healthy):
    """Authentication failures counted while the passwords agree are from before (keepalived counts since it
    started): not the cause."""
    vrrp, seen = healthy
    vrrp["dir2"]["instances"]["VI_web"] = instance("MASTER", 100, stats={"advert_rcvd": 40, "auth_failure": 6})
    found = audit_findings(nodes(vrrp, seen))
    assert [item["check"] for item in found] == ["vrrp.split_brain"]
    assert len(found[0]["causes"]) == 1
    assert found[0]["causes"][0].startswith("the peers agree on every setting: their adverts do not reach each other")


@pytest.mark.parametrize("change, check, seen", [
    ({"virtual_router_id": 52}, "vrrp.peers_differ", "dir1 51, dir2 52"),
    ({"advert_int": 3}, "vrrp.peers_differ", "dir1 1, dir2 3"),
    ({"vips": ["192.0.2.51/24 dev eth0"]}, "vrrp.peers_differ", "dir1 192.0.2.50; dir2 192.0.2.51"),
    ({"base_priority": 150}, "vrrp.equal_priorities", "dir1 150, dir2 150"),
])
def test_settings_peers_must_share_or_must_not(healthy, change, check, seen):
    vrrp, seen_vips = healthy
    vrrp["dir2"]["instances"]["VI_web"].update(change)
    found = [item for item in audit_findings(nodes(vrrp, seen_vips)) if item["check"] == check]
    assert [item["seen"] for item in found] == [seen]


def test_no_master_and_a_vip_not_on_the_master(healthy):
    vrrp, seen = healthy
    no_master = copy.deepcopy(vrrp)
    no_master["dir1"]["instances"]["VI_web"]["state"] = "FAULT"
    assert [(item["check"], item["seen"]) for item in audit_findings(nodes(no_master, seen))] == [
        ("vrrp.no_master", "dir1 FAULT (priority 150), dir2 BACKUP (priority 100)")]
    seen["dir1"] = vips("dir1", answered_by=[])
    seen["dir2"] = vips("dir2", answered_by=[])
    seen["client"] = vips("client", answered_by=[])
    assert [(item["check"], item["seen"]) for item in audit_findings(nodes(vrrp, seen))] == [
        ("vip.arp", "no answer"), ("vip.not_on_master", "held by no node")]


def test_a_dr_realservers_vip_on_lo_is_not_held(healthy):
    vrrp, seen = healthy
    vrrp["rs1"] = {"running": False, "instances": {}}
    seen["rs1"] = {"interfaces": {"lo": {"mac": "00:00:00:00:00:00", "up": True,
                                         "addresses": ["127.0.0.1/8", "192.0.2.50/32"]}},
                   "addresses": {"192.0.2.50": {"held_on": ["lo"], "asked_on": None, "answered_by": None}}}
    assert audit_findings(nodes(vrrp, seen)) == []


def test_the_dump_gives_the_authentication_only_keyed():
    dump = (FIXTURES / "keepalived_dump.json").read_text()
    plain = live_instances(dump)["VI_1"]
    keyed = live_instances(dump, "k")["VI_1"]
    assert "auth" not in plain
    assert keyed["auth"] == auth_digest("k", "PASS", "s3cr!t") != auth_digest("j", "PASS", "s3cr!t")
    assert "s3cr!t" not in json.dumps(keyed)
    assert (keyed["advert_int"], keyed["version"], keyed["auth_type"]) == (1, 2, "PASS")
    assert keyed["stats"]["auth_failure"] == 0


def test_arp_probe_and_reply():
    frame = probe_frame("52:54:00:00:01:00", "192.0.2.50")
    assert frame[:6] == b"\xff" * 6 and len(frame) == 42
    assert frame[28:32] == b"\0" * 4 and frame[38:42] == bytes([192, 0, 2, 50])
    assert reply_mac(frame, "192.0.2.50") is None
    sender = bytes.fromhex("525400000011")
    reply = (bytes.fromhex("525400000100") + sender + struct.pack("!H", 0x0806)
             + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, sender, bytes([192, 0, 2, 50]),
                           bytes.fromhex("525400000100"), b"\0" * 4))
    assert reply_mac(reply, "192.0.2.50") == "52:54:00:00:00:11"
    assert reply_mac(reply, "192.0.2.51") is None


def test_interfaces_holders_and_where_to_ask():
    links = interfaces([
        {"ifname": "lo", "flags": ["LOOPBACK", "UP"], "address": "00:00:00:00:00:00",
         "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}, {"local": "192.0.2.50", "prefixlen": 32}]},
        {"ifname": "eth0", "flags": ["BROADCAST", "UP"], "address": "52:54:00:00:00:21",
         "addr_info": [{"local": "192.0.2.21", "prefixlen": 24}, {"local": "fe80::1", "prefixlen": 64}]},
        {"ifname": "eth1", "flags": ["BROADCAST"], "address": "52:54:00:00:00:22",
         "addr_info": [{"local": "203.0.113.21", "prefixlen": 24}]},
    ])
    assert links["eth0"] == {"mac": "52:54:00:00:00:21", "up": True, "addresses": ["192.0.2.21/24", "fe80::1/64"]}
    assert holders(links, "192.0.2.50") == ["lo"] and asking_interface(links, "192.0.2.50") is None
    assert asking_interface(links, "192.0.2.60") == "eth0"
    assert asking_interface(links, "203.0.113.50") is None  # eth1 is down
    assert asking_interface(links, "198.51.100.1") is None


DECLARED = [{"address": "192.0.2.50", "port": 80, "scheduler": "wrr",
             "realservers": [{"address": "192.0.2.21", "weight": 1, "forwarding": "route"},
                             {"address": "192.0.2.22", "weight": 3, "forwarding": "route"}]},
            {"fwmark": 10, "scheduler": "rr", "persistence_timeout": 600,
             "realservers": [{"address": "192.0.2.21", "forwarding": "route"}]}]


def live_table(change=None) -> dict:
    """ipvs_info's result for the declared table, with its connection counts, changed by `change`(services)."""
    services = [public_service(svc) for svc in declared_services(DECLARED)]
    for svc in services:
        for rs in svc["realservers"]:
            rs.update(active_connections=0, inactive_connections=2)
    if change:
        change(services)
    return {"available": True, "services": json.loads(json.dumps(services))}


def test_a_table_as_declared_has_no_drift():
    assert table_drift(DECLARED, live_table()["services"]) == []
    assert ipvs_findings({"dir1": {"owner": "static", "declared": DECLARED, "live": live_table()}}) == []


def test_every_kind_of_drift_is_named():
    def change(services):
        web, marked = services[0], services[1]
        web["realservers"][1]["weight"] = 5
        web["realservers"].pop(0)
        web["scheduler"] = "wlc"
        marked["realservers"].append(dict(marked["realservers"][0], address="192.0.2.23"))
        services.append(dict(web, address="192.0.2.99", realservers=[]))
    drift = table_drift(DECLARED, live_table(change)["services"])
    named = [(item["change"], item["service"], item["realserver"], item["expected"], item["seen"]) for item in drift]
    assert named == [
        ("extra_service", "tcp 192.0.2.99:80", None, "not declared", "in the table"),
        ("extra_realserver", "fwmark 10", "192.0.2.23:0", "not declared", "weight 1"),
        ("service_differs", "tcp 192.0.2.50:80", None, "scheduler wrr", "scheduler wlc"),
        ("missing_realserver", "tcp 192.0.2.50:80", "192.0.2.21:80", "weight 1", "not in the table"),
        ("realserver_differs", "tcp 192.0.2.50:80", "192.0.2.22:80", "weight 3", "weight 5"),
    ]


def answering(silent=()) -> dict:
    """node_state's connect result for every probe of DECLARED, the hosts in `silent` not answering."""
    return {f"{probe['host']}:{probe['port']}": probe["host"] not in silent for probe in realserver_probes(DECLARED)}


def test_a_realserver_keepalived_took_out_is_down_not_drift():
    def deleted(services):
        services[0]["realservers"].pop(0)
    table = {"owner": "keepalived", "declared": DECLARED, "live": live_table(deleted),
             "connect": answering(silent=("192.0.2.21",))}
    assert [(item["severity"], item["check"], item["object"]) for item in ipvs_findings({"dir1": table})] == [
        ("warning", "ipvs.realserver_down", "tcp 192.0.2.50:80 -> 192.0.2.21:80")]
    # In the table, not answering: keepalived's check has yet to take it out.
    table["live"] = live_table()
    assert [(item["severity"], item["check"], item["object"]) for item in ipvs_findings({"dir1": table})] == [
        ("warning", "ipvs.realserver_silent", "tcp 192.0.2.50:80 -> 192.0.2.21:80")]
    table.update(connect=answering(), live=live_table(deleted))
    assert [(item["severity"], item["check"]) for item in ipvs_findings({"dir1": table})] == [
        ("error", "ipvs.missing_realserver")]
    static = dict(table, owner="static", connect=answering(silent=("192.0.2.21",)))
    assert [(item["severity"], item["check"], item["object"]) for item in ipvs_findings({"dir1": static})] == [
        ("error", "ipvs.missing_realserver", "tcp 192.0.2.50:80 -> 192.0.2.21:80")]
    assert [item["check"] for item in ipvs_findings({"dir1": {"declared": DECLARED, "live": {"available": False}}})] \
        == ["ipvs.unavailable"]


def test_a_realserver_of_a_static_table_that_does_not_answer_is_an_error():
    table = {"owner": "static", "declared": DECLARED, "live": live_table(),
             "connect": answering(silent=("192.0.2.22",))}
    assert [(item["severity"], item["check"], item["object"], item["expected"], item["seen"])
            for item in ipvs_findings({"dir1": table})] == [
        ("error", "ipvs.realserver_silent", "tcp 192.0.2.50:80 -> 192.0.2.22:80", "answering on 192.0.2.22:80",
         "in the table, no answer")]
    # Not asked (no answer recorded): nothing said.
    assert ipvs_findings({"dir1": dict(table, connect={})}) == []


def test_the_realservers_are_asked_where_their_health_check_connects():
    declared = copy.deepcopy(DECLARED)
    declared[0]["health_check"] = {"type": "http", "path": "/"}
    declared[1]["health_check"] = {"type": "http", "port": 80}
    declared[1]["realservers"].append({"address": "192.0.2.22", "health_check": {"connect_ip": "198.51.100.22"}})
    assert realserver_probes(declared) == [
        {"object": "tcp 192.0.2.50:80 -> 192.0.2.21:80", "host": "192.0.2.21", "port": 80},
        {"object": "tcp 192.0.2.50:80 -> 192.0.2.22:80", "host": "192.0.2.22", "port": 80},
        {"object": "fwmark 10 -> 192.0.2.21:0", "host": "192.0.2.21", "port": 80},
        {"object": "fwmark 10 -> 192.0.2.22:0", "host": "198.51.100.22", "port": 80},
    ]
    # A firewall-mark service's real server without a check port is not asked.
    assert [probe["object"] for probe in realserver_probes(DECLARED)] == [
        "tcp 192.0.2.50:80 -> 192.0.2.21:80", "tcp 192.0.2.50:80 -> 192.0.2.22:80"]


def test_the_audit_expects_what_the_realserver_roles_set():
    """REALSERVER_SYSCTLS is what roles/lvs_realserver_dr and lvs_realserver_tun pass to sysctl_arp, on the
    interfaces of their defaults when the inventory gives none."""
    root = Path(__file__).resolve().parents[4]
    for mode, variable in (("dr", "lvs_realserver_dr_arp_interfaces"), ("tun", "lvs_realserver_tun_sysctl_interfaces")):
        defaults = yaml.safe_load((root / f"roles/lvs_realserver_{mode}/defaults/main.yml").read_text())
        assert defaults[variable] == REALSERVER_SYSCTL_INTERFACES[mode]
        given = yaml.safe_load((root / f"roles/lvs_realserver_{mode}/vars/main.yml").read_text())
        arp = given[f"__lvs_realserver_{mode}_arp"]
        assert {name: str(arp[name]) for name in ("arp_ignore", "arp_announce", "rp_filter") if name in arp} == \
            REALSERVER_SYSCTLS[mode]


def dr_realserver(**changes) -> dict:
    sysctls = realserver_sysctls("dr", ["all", "lo"])
    return {"mode": "dr", "vips": ["192.0.2.50", "192.0.2.51"], "interfaces": ["all", "lo"], "gateway": "",
            "sysctls": sysctls, "routes": [], "held": {"192.0.2.50": ["lo"], "192.0.2.51": ["lo"]}, **changes}


def test_realservers_hold_what_their_mode_needs():
    assert realserver_findings({"rs1": dr_realserver()}) == []
    assert realserver_findings({"rs1": dr_realserver(interfaces=None)}) == []
    broken = dr_realserver(held={"192.0.2.50": ["lo"], "192.0.2.51": []},
                           sysctls={**realserver_sysctls("dr", ["all", "lo"]), "net.ipv4.conf.all.arp_ignore": "0"})
    assert [(item["check"], item["object"], item["expected"], item["seen"])
            for item in realserver_findings({"rs1": broken})] == [
        ("realserver.vip", "VIP 192.0.2.51 (LVS-DR)", "on lo", "on no interface"),
        ("realserver.sysctl", "net.ipv4.conf.all.arp_ignore", "1", "0"),
    ]
    assert sorted(realserver_sysctls("tun", ["all", "tunl0"])) == [
        "net.ipv4.conf.all.arp_announce", "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.tunl0.arp_announce", "net.ipv4.conf.tunl0.arp_ignore", "net.ipv4.conf.tunl0.rp_filter"]
    nat = {"mode": "nat", "gateway": "198.51.100.10", "routes": [{"dst": "default", "gateway": "198.51.100.11"}]}
    assert [(item["check"], item["seen"]) for item in realserver_findings({"rs2": nat})] == [
        ("realserver.gateway", "through 198.51.100.11")]
    assert realserver_findings({"rs2": dict(nat, routes=[{"dst": "default", "gateway": "198.51.100.10"}])}) == []


def beat(node: str, resources: str = "none", holds=(), running=True, **changes) -> dict:
    """A heartbeat node's readings: heartbeat_info's, its units, its vip_info for the pair's VIP."""
    reading = {"running": running, "resources": resources if running else None, "holds": running and resources == "all",
               "nodes": {"dir1": "active", "dir2": "active"} if running else {}, "peers": ["dir1", "dir2"],
               "vips": ["192.0.2.85"], "services": ["nginx"],
               "units": {"nginx": {"active": "active" if "nginx" in holds else "inactive"}}, **changes}
    held_on = ["eth0"] if "vip" in holds else []
    return {"heartbeat": reading, "vips": {"addresses": {"192.0.2.85": {"held_on": held_on}}}}


def checks(found: list[dict]) -> list[tuple]:
    return [(item["severity"], item["check"], item["node"], item["seen"]) for item in found]


def test_heartbeat_resources_on_the_one_node_heartbeat_names():
    assert heartbeat_findings({"dir1": beat("dir1", "all", ("vip", "nginx")), "dir2": beat("dir2")}) == []
    both = {"dir1": beat("dir1", "all", ("vip", "nginx")), "dir2": beat("dir2", "none", ("vip", "nginx"))}
    assert checks(heartbeat_findings(both)) == [
        ("critical", "heartbeat.split_brain", "dir1,dir2",
         "dir1 holds VIP 192.0.2.85, nginx (heartbeat: holds them here, rscstatus all); "
         "dir2 holds VIP 192.0.2.85, nginx (heartbeat: not here, rscstatus none)")]
    assert audit_findings(both)[0]["check"] == "heartbeat.split_brain"
    partial = {"dir1": beat("dir1", "all", ("vip",)), "dir2": beat("dir2")}
    assert checks(heartbeat_findings(partial)) == [
        ("error", "heartbeat.partial", "dir1", "missing nginx")]
    # Held where heartbeat does not say so; heartbeat saying so where nothing is held.
    moved = {"dir1": beat("dir1", "all"), "dir2": beat("dir2", "none", ("vip", "nginx"))}
    assert [item[:3] for item in checks(heartbeat_findings(moved))] == [
        ("error", "heartbeat.disagrees", "dir1"), ("error", "heartbeat.disagrees", "dir2")]
    dead = {"dir1": beat("dir1", "all", ("vip", "nginx"), nodes={"dir1": "active", "dir2": "dead"}),
            "dir2": beat("dir2", running=False)}
    assert checks(heartbeat_findings(dead)) == [
        ("error", "heartbeat.peer_dead", "dir1", "dead"), ("error", "heartbeat.down", "dir2", "not running")]
    nobody = {"dir1": beat("dir1"), "dir2": beat("dir2")}
    assert [item[:2] for item in checks(heartbeat_findings(nobody))] == [("error", "heartbeat.not_held")]


def proxy(node: str, holding: bool, active=True, same=True) -> dict:
    return {"vrrp": {"instances": {"VI_web": instance("MASTER" if holding else "BACKUP", 150 if holding else 100)}},
            "vips": vips(node, ["eth0"] if holding else []),
            "proxy": {"active": active, "files": {"/etc/nginx/nginx.conf": {"exists": True, "same": same}}}}


def test_the_proxy_holding_the_vip_runs_the_declared_configuration():
    assert proxy_findings({"dir1": proxy("dir1", True), "dir2": proxy("dir2", False)}) == []
    found = proxy_findings({"dir1": proxy("dir1", True, same=False), "dir2": proxy("dir2", False, active=False)})
    assert [(item["severity"], item["check"], item["node"], item["object"]) for item in found] == [
        ("error", "nginx.config", "dir1", "/etc/nginx/nginx.conf (holding 192.0.2.50)"),
        ("warning", "nginx.down", "dir2", "nginx (not holding a VIP)")]


def prereqs(name: str, offset: float = 0.001, **changes) -> dict:
    entries = [{"name": "dir1", "address": "192.0.2.11"}, {"name": "rs1", "address": "192.0.2.21"}]
    return {"prereqs": {"name": name, "uname": name, "hosts": True, "entries": entries,
                        "resolved": {entry["name"]: [entry["address"]] for entry in entries}, "chrony": True,
                        "unit": {"active": "active"}, "max_offset": 0.1,
                        "files": {"/etc/chrony/conf.d/linux-cluster.conf": {"same": True}},
                        "probe": {"sources": [{"server": "192.0.2.100", "offset": offset, "delay": 0.001}]},
                        **changes}}


def test_names_and_clocks_as_the_prerequisites_declare():
    assert prerequisite_findings({"dir1": prereqs("dir1"), "rs1": prereqs("rs1", -0.002)}) == []
    # rs1's clock stepped 5 s ahead (the source's time minus rs1's is -5 s), chrony stopped.
    stepped = {"dir1": prereqs("dir1"), "rs1": prereqs("rs1", -5.0, unit={"active": "inactive"})}
    assert [(item["check"], item["node"], item["object"], item["expected"], item["seen"])
            for item in prerequisite_findings(stepped)] == [
        ("time.chrony", "rs1", "chrony", "running", "inactive"),
        ("time.offset", "rs1", "clock against 192.0.2.100", "within 0.1 s", "-5.000000 s"),
        ("time.pair", "dir1,rs1", "clocks of dir1 and rs1 (through 192.0.2.100)", "within 0.2 s of each other",
         "dir1 5.001000 s behind rs1")]
    wrong = {"dir1": prereqs("dir1", uname="localhost", hosts=False,
                             resolved={"dir1": ["127.0.1.1", "192.0.2.11"], "rs1": []},
                             probe={"sources": [{"server": "192.0.2.100", "error": "no answer within 1 s"}]})}
    assert [(item["check"], item["object"], item["seen"]) for item in prerequisite_findings(wrong)] == [
        ("names.uname", "the node's name", "uname -n localhost"),
        ("names.hosts", "/etc/hosts", "missing or different"),
        ("names.resolve", "name dir1", "resolves to 127.0.1.1, 192.0.2.11"),
        ("names.resolve", "name rs1", "does not resolve"),
        ("time.source", "time source 192.0.2.100", "no answer within 1 s")]
    # Without chrony kept by the role, no time check.
    assert prerequisite_findings({"rs1": prereqs("rs1", -5.0, chrony=False)}) == []
