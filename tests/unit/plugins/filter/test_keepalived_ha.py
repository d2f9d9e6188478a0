"""The keepalived_ha role's filters: each node's vrrp_instance arguments and vrrp_scripts from the cluster's
declaration, every bad input found by vrrp_instance's own validation, and the play-wide checks."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.filter.keepalived_ha import (
    held_vips,
    keepalived_ha_node,
    network_interface,
    vrrp_problems,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import VRRP_INPUT, instance, render

WEB = {"name": "VI_web", "virtual_router_id": 51, "auth_pass": "s3cret", "priorities": {"dir1": 150, "dir2": 100},
       "virtual_ipaddresses": [{"address": "192.0.2.50/24"}]}
LINKS = [{"ifname": "lo", "flags": ["LOOPBACK", "UP"], "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}]},
         {"ifname": "eth0", "flags": ["BROADCAST", "MULTICAST", "UP"],
          "addr_info": [{"local": "192.0.2.11", "prefixlen": 24}]}]
ROLE = {"notify": "/etc/keepalived/notify.sh", "router_id": "dir1", "mcast_group4": "224.0.0.18",
        "garp_master_refresh": 5, "maintenance_file": "/etc/keepalived/down", "maintenance_weight": -100,
        "check_process": "", "check_url": "", "check_weight": -100, "check_interval": 1, "check_fall": 2,
        "check_rise": 1, "interface": "", "links": LINKS, "sync_groups": [], "scripts": [],
        "addresses": {"dir1": "192.0.2.11", "dir2": "192.0.2.12"}}


def node(host: str, instances: list, **settings) -> dict:
    return keepalived_ha_node({**ROLE, "host": host, "instances": instances, **settings})


def pair(*instances, **settings) -> dict:
    return {host: node(host, list(instances), **settings)["instances"] for host in ("dir1", "dir2")}


def test_a_consistent_pair_has_no_problem():
    assert node("dir1", [WEB])["problems"] == []
    assert vrrp_problems(pair(WEB)) == []


def test_node_arguments_are_what_vrrp_instance_takes():
    (args,) = node("dir1", [dict(WEB, unicast=True, initial_states={"dir1": "MASTER"})], check_process="nginx")[
        "instances"]
    assert args == {
        "name": "VI_web", "interface": "eth0", "virtual_router_id": 51, "priority": 150, "initial_state": "MASTER",
        "auth_pass": "s3cret", "virtual_ipaddresses": [{"address": "192.0.2.50/24"}],
        "track_scripts": [{"name": "chk_maintenance", "weight": None}, {"name": "chk_process", "weight": None}],
        "notify": "/etc/keepalived/notify.sh", "unicast_src_ip": "192.0.2.11", "unicast_peers": ["192.0.2.12"]}
    assert VRRP_INPUT.problems(args) == []
    (plain,) = node("dir3", [WEB], addresses={})["instances"]
    assert "priority" not in plain and "unicast_src_ip" not in plain
    assert instance(VRRP_INPUT.validate(plain)[0])["priority"] == 100


def test_every_vrrp_field_reaches_the_node_without_a_line_for_it():
    """A field the module declares and the role passes on needs nothing in the role: garp_lower_prio_repeat is
    one the role never names."""
    (args,) = node("dir1", [dict(WEB, garp_lower_prio_repeat=3, notify_master="/usr/local/bin/mail-me master")])[
        "instances"]
    text = render(instance(VRRP_INPUT.validate(args)[0]))
    assert "    garp_lower_prio_repeat 3" in text and '    notify_master "/usr/local/bin/mail-me master"' in text
    assert '    notify "/etc/keepalived/notify.sh"' in text


def test_bad_inputs_are_all_reported_at_once_naming_what_the_user_set():
    bad = dict(WEB, interface="eth0", virtual_router_id=300, priorities={"dir1": 255, "dir2": 100},
               auth_pass="123456789", virtual_ipaddresses=[{"address": "2001:db8::50/64"}])
    problems = node("dir1", [bad], check_interval=0, check_fall=0, check_process="nginx",
                    mcast_group4="192.0.2.18")["problems"]
    assert problems == [
        "dir1: keepalived_ha_check_interval=0: must be from 1 to 3600",
        "dir1: keepalived_ha_check_fall=0: must be from 1 to 1000",
        "dir1: keepalived_ha_instances[0].virtual_router_id=300: must be from 1 to 255",
        "dir1: keepalived_ha_instances[0].priorities.dir1=255: must be from 1 to 254",
        "dir1: keepalived_ha_instances[0].auth_pass='********': 9 characters: keepalived keeps 8",
        "dir1: keepalived_ha_instances[0].virtual_ipaddresses='2001:db8::50/64': IPv6 needs version: 3",
        "dir1: keepalived_ha_mcast_group4='192.0.2.18': not a multicast address (those are in 224.0.0.0/4)",
    ]
    assert "123456789" not in " ".join(problems)


@pytest.mark.parametrize(("change", "words"), [
    ({"name": None}, "keepalived_ha_instances[0].name: required"),
    ({"virtual_router_id": "x"}, "argument 'virtual_router_id' is of type"),
    ({"initial_states": {"dir1": "LEADER"}}, "value of initial_state must be one of: MASTER, BACKUP, got: LEADER"),
    ({"track_scripts": [{"name": "chk_nginx"}]}, "track_scripts[0].name='chk_nginx': no such vrrp_script"),
    ({"interface": "eth9"}, "interface eth9 of dir1 does not exist"),
])
def test_a_bad_instance_is_named(change, words):
    problems = node("dir1", [dict(WEB, **change)])["problems"]
    assert any(words in problem for problem in problems), problems


def test_multicast_off_is_refused_unless_unicast():
    links = [dict(LINKS[1], flags=["BROADCAST", "UP"])]
    assert node("dir1", [WEB], links=links)["problems"] == [
        "dir1: interface eth0 of dir1 has multicast off, so VRRP adverts cannot go out or in: switch it on in its "
        "network configuration (ip link set dev eth0 multicast on), or set unicast: true on the instances"]
    assert node("dir1", [dict(WEB, unicast=True)], links=links)["problems"] == []


def test_no_interface_in_the_vips_network():
    problems = node("dir1", [dict(WEB, virtual_ipaddresses=[{"address": "198.51.100.50/24"}])])["problems"]
    assert problems == ["dir1: keepalived_ha_interface='': no interface of dir1 has an address in the network of "
                        "keepalived_ha_instances[0]'s first VIP; set keepalived_ha_interface or "
                        "keepalived_ha_instances[0].interface"]
    assert network_interface(LINKS, "192.0.2.80/24") == "eth0" and network_interface(LINKS, "bad") == ""


def test_each_instance_adverts_on_the_interface_of_its_own_vips():
    back = {"ifname": "eth1", "flags": ["BROADCAST", "MULTICAST", "UP"],
            "addr_info": [{"local": "198.51.100.11", "prefixlen": 24}]}
    dip = dict(WEB, name="VI_dip", virtual_router_id=52, virtual_ipaddresses=[{"address": "198.51.100.10/24"}])
    result = node("dir1", [WEB, dip], links=[*LINKS, back])
    assert result["problems"] == []
    assert [args["interface"] for args in result["instances"]] == ["eth0", "eth1"]
    # keepalived_ha_interface, when set, is every instance's.
    fixed = node("dir1", [WEB, dip], links=[*LINKS, back], interface="eth1")["instances"]
    assert {args["interface"] for args in fixed} == {"eth1"}


def test_user_scripts_chosen_per_instance():
    """Seed 002: the operator's own checks, tracked by the first instance only; the second tracks none."""
    scripts = [{"name": "chk_nginx", "script": "/usr/bin/killall -0 nginx", "interval": 1, "weight": -5, "fall": 2,
                "rise": 1},
               {"name": "chk_login", "script": "/etc/keepalived/check-login.sh", "interval": 3, "timeout": 10,
                "user": "root"}]
    first = dict(WEB, track_scripts=[{"name": "chk_nginx"}, {"name": "chk_login", "weight": -20}])
    second = {"name": "VI_2", "virtual_router_id": 52, "track_role_checks": False,
              "virtual_ipaddresses": [{"address": "192.0.2.51/24"}]}
    result = node("dir1", [first, second], scripts=scripts)
    assert result["problems"] == []
    assert [entry["name"] for entry in result["instances"][0]["track_scripts"]] == [
        "chk_maintenance", "chk_nginx", "chk_login"]
    assert "track_scripts" not in result["instances"][1]
    assert result["scripts_text"].startswith("vrrp_script chk_maintenance {")
    assert result["scripts_text"].endswith(
        'vrrp_script chk_nginx {\n    script "/usr/bin/killall -0 nginx"\n    interval 1\n    weight -5\n'
        '    fall 2\n    rise 1\n}\n\n'
        'vrrp_script chk_login {\n    script "/etc/keepalived/check-login.sh"\n    interval 3\n    timeout 10\n'
        '    user root\n}\n')


@pytest.mark.parametrize(("script", "words"), [
    ({"name": "chk_maintenance", "script": "/bin/true"},
     "keepalived_ha_scripts[0].name='chk_maintenance': is already a script's name"),
    ({"name": "chk", "script": "killall -0 nginx"}, "keepalived_ha_scripts[0].script='killall -0 nginx': must start "
                                                    "with the script's absolute path"),
    ({"name": "chk", "script": "/bin/true", "interval": 0}, "keepalived_ha_scripts[0].interval=0: must be from 1"),
    ({"name": "chk", "script": "/bin/true", "weight": 254}, "keepalived_ha_scripts[0].weight=254: must be from -253"),
    ({"name": "chk", "script": "/bin/true", "user": "No-Body!"}, "keepalived_ha_scripts[0].user='No-Body!'"),
])
def test_bad_user_scripts(script, words):
    problems = node("dir1", [WEB], scripts=[script])["problems"]
    assert any(words in problem for problem in problems), problems


@pytest.mark.parametrize(("change", "words"), [
    ({"virtual_router_id": 52}, "virtual_router_id differs between dir1 (51) and dir2 (52)"),
    ({"virtual_ipaddresses": [{"address": "192.0.2.51/24"}]}, "virtual_ipaddresses differs"),
    ({"auth_pass": "other"}, "auth_pass differs between dir1 ((secret)) and dir2 ((secret))"),
    ({"advert_int": 2}, "advert_int differs between dir1 (1.0) and dir2 (2.0)"),
])
def test_peers_that_disagree(change, words):
    nodes = {"dir1": node("dir1", [WEB])["instances"], "dir2": node("dir2", [dict(WEB, **change)])["instances"]}
    problems = vrrp_problems(nodes)
    assert any(words in problem for problem in problems), problems
    assert not any("s3cret" in problem or "other" in problem.split("(")[0] for problem in problems)


def test_one_vrid_twice_on_an_interface():
    other = dict(WEB, name="VI_other", virtual_ipaddresses=[{"address": "192.0.2.60/24"}])
    assert "dir1: virtual_router_id 51 on eth0 is used by instances VI_web and VI_other" in vrrp_problems(
        pair(WEB, other))


def test_exactly_one_highest_priority():
    tie = dict(WEB, priorities={"dir1": 100, "dir2": 100})
    assert vrrp_problems(pair(tie)) == [
        "instance VI_web: dir1 and dir2 share the highest priority 100; give exactly one node the highest"]
    assert vrrp_problems(pair(dict(tie, nopreempt=True))) == []


def test_dual_master_is_two_instances_each_with_its_own_master():
    other = {"name": "VI_2", "virtual_router_id": 52, "priorities": {"dir1": 100, "dir2": 150},
             "virtual_ipaddresses": [{"address": "192.0.2.51/24"}]}
    nodes = pair(WEB, other)
    assert vrrp_problems(nodes) == []
    assert [(args["name"], args["priority"]) for args in nodes["dir2"]] == [("VI_web", 100), ("VI_2", 150)]


def test_an_instance_that_fails_its_own_checks_is_left_to_the_nodes_preflight():
    assert vrrp_problems({"dir1": [{"name": "VI_1", "virtual_router_id": 300}], "dir2": []}) == []


def test_lvs_connection_sync_follows_an_instance_of_the_node():
    synced = node("dir1", [WEB], lvs_sync_daemon={"interface": "eth0", "instance": "VI_web", "id": 7})
    assert synced["problems"] == [] and synced["sync_daemon_text"] == "lvs_sync_daemon eth0 VI_web id 7"
    assert node("dir1", [WEB])["sync_daemon_text"] == ""
    assert node("dir1", [WEB], lvs_sync_daemon={"interface": "eth0", "instance": "VI_db"})["problems"] == [
        "dir1: keepalived_ha_lvs_sync_daemon.instance='VI_db': is not one of the node's VRRP instances (VI_web)"]
    assert node("dir1", [WEB], lvs_sync_daemon={"interface": "eth 0", "instance": "VI_web", "id": 300})["problems"] == [
        "dir1: keepalived_ha_lvs_sync_daemon.interface='eth 0': not an interface name (1-15 letters, digits, '_', "
        "'.', '@' or '-')",
        "dir1: keepalived_ha_lvs_sync_daemon.id=300: must be from 0 to 255"]
    assert node("dir1", [WEB], lvs_sync_daemon={"id": 1})["problems"] == [
        "dir1: keepalived_ha_lvs_sync_daemon={'id': 1}: needs interface and instance"]
    assert node("dir1", [WEB], lvs_sync_daemon={"interface": "eth0", "instance": "VI_web", "refresh_period": 0}
                )["problems"] == ["dir1: keepalived_ha_lvs_sync_daemon.refresh_period=0: must be from 1 to 600"]


def test_with_connection_sync_a_returning_node_waits_for_the_connections():
    """Connections sent by time (2 s, then the kernel's 2 s batch): a node that starts again waits 5 s before it
    takes the VIPs back, unless the instance says otherwise."""
    sync = {"interface": "eth0", "instance": "VI_web"}
    synced = node("dir1", [WEB, dict(WEB, name="VI_2", virtual_router_id=52, preempt_delay=30),
                           dict(WEB, name="VI_3", virtual_router_id=53, nopreempt=True)], lvs_sync_daemon=sync)
    assert synced["problems"] == []
    assert [args.get("preempt_delay") for args in synced["instances"]] == [5, 30, None]
    assert synced["sync_sysctls"] == {"net.ipv4.vs.sync_threshold": "3 0", "net.ipv4.vs.sync_refresh_period": 2}
    slower = node("dir1", [WEB], lvs_sync_daemon=dict(sync, refresh_period=10))
    assert slower["instances"][0]["preempt_delay"] == 13
    assert slower["sync_sysctls"]["net.ipv4.vs.sync_refresh_period"] == 10
    unsynced = node("dir1", [WEB])
    assert "preempt_delay" not in unsynced["instances"][0] and unsynced["sync_sysctls"] == {}


def test_the_virtual_servers_are_checked_with_the_node():
    bad = [{"fwmark": 10, "realservers": [{"address": "192.0.2.21"}]}]
    assert node("dir1", [WEB], virtual_servers=bad)["problems"] == [
        "dir1: keepalived_ha_virtual_servers[0].health_check.port=None: the real server has no port (a firewall-mark "
        "or all-ports service): name the port the check connects to"]


def test_the_drain_timeout_is_checked_as_ipvs_realserver_takes_it():
    assert node("dir1", [WEB], drain_timeout=60)["problems"] == []
    assert node("dir1", [WEB], drain_timeout=-1)["problems"] == [
        "dir1: keepalived_ha_drain_timeout=-1: must be from 0 to 2147483647"]


def test_held_vips_are_the_instances_addresses_the_node_has():
    links = [{"ifname": "lo", "addr_info": [{"local": "127.0.0.1"}]},
             {"ifname": "eth1", "addr_info": [{"local": "203.0.113.11"}, {"local": "203.0.113.51"}]},
             {"ifname": "eth2", "addr_info": [{"local": "198.51.100.10"}]}]
    instances = [{"name": "VI_lvs",
                  "virtual_ipaddresses": [{"address": "203.0.113.50/24"}, {"address": "203.0.113.51/24"}]},
                 {"name": "VI_dip", "virtual_ipaddresses": [{"address": "198.51.100.10/24"}, {"address": "bad"}]}]
    assert held_vips(instances, links) == ["203.0.113.51", "198.51.100.10"]
    assert held_vips(instances, links[:1]) == []


def test_a_dead_keepalived_releases_every_address_its_instances_put_on_the_node():
    """The keepalived unit's drop-in: each VIP and excluded VIP with the device it is on (its own dev, else the
    instance's interface), and a restart later than the peers' master-down interval."""
    second = dict(WEB, name="VI_db", virtual_router_id=52, advert_int=2, interface="eth1",
                  virtual_ipaddresses=[{"address": "198.51.100.7/24"}, {"address": "192.0.2.51", "dev": "eth0"}],
                  virtual_ipaddresses_excluded=[{"address": "2001:db8::7/64"}])
    links = [*LINKS, dict(LINKS[1], ifname="eth1", addr_info=[{"local": "198.51.100.11", "prefixlen": 24}])]
    result = node("dir1", [WEB, second], links=links, paths={"ip": "/usr/sbin/ip"})
    assert result["problems"] == []
    assert result["release"] == [
        ["/usr/sbin/ip", "addr", "del", "192.0.2.50/24", "dev", "eth0"],
        ["/usr/sbin/ip", "addr", "del", "198.51.100.7/24", "dev", "eth1"],
        ["/usr/sbin/ip", "addr", "del", "192.0.2.51/32", "dev", "eth0"],
        ["/usr/sbin/ip", "addr", "del", "2001:db8::7/64", "dev", "eth1"]]
    # advert_int 2: the peers give a silent master up within 4 adverts, 8 s.
    assert result["restart_delay"] == 9
    assert node("dir1", [WEB])["restart_delay"] == 5
    tuned = node("dir1", [dict(WEB, version=3, advert_int=0.25, auth_pass=None)])
    assert tuned["problems"] == [] and tuned["restart_delay"] == 2


def test_nothing_to_release_is_derived_from_bad_input():
    result = node("dir1", [dict(WEB, virtual_router_id=300)])
    assert result["problems"] and result["release"] == []
