"""The heartbeat_ha role's checks of what it would write (heartbeat has no configuration check)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.filter.heartbeat_ha import (
    heartbeat_duration,
    heartbeat_interfaces,
    heartbeat_probe,
    heartbeat_problems,
    heartbeat_resources,
)

SECRET = "s3cret-Key"


def probe_text(name: str, resolves: tuple[str, ...] = ("dir1", "dir2"), services: str = "present") -> str:
    lines = [f"uname {name}"]
    lines += [f"resolves {node} 192.0.2.{11 + index}" for index, node in enumerate(resolves)]
    lines += ["interface lo", "interface eth0@if12", "vip_interface eth0", f"service nginx {services}", "active no"]
    return "\n".join(lines) + "\n"


def probes(**texts) -> dict:
    texts = {"dir1": probe_text("dir1"), "dir2": probe_text("dir2"), **texts}
    return {node: heartbeat_probe(text) for node, text in texts.items()}


CONFIG = {"nodes": ["dir1", "dir2"], "preferred_node": "dir1", "media": "ucast",
          "interfaces": {"dir1": "eth0", "dir2": "eth0"}, "udpport": 694, "mcast_group": "225.0.0.1",
          "keepalive": 2, "warntime": 10, "deadtime": 30, "initdead": 60,
          "authkeys": [{"index": 1, "method": "sha1", "key": SECRET}], "auth_index": 1,
          "vips": [{"address": "192.0.2.85/24"}], "services": ["nginx"], "ping_nodes": []}


def test_probe_parses_every_kind_of_line():
    parsed = heartbeat_probe(probe_text("dir1") + "resolves dir3\nnoise\n\nactive yes\n")
    assert parsed == {"uname": "dir1", "resolves": {"dir1": "192.0.2.11", "dir2": "192.0.2.12", "dir3": ""},
                      "interfaces": ["lo", "eth0"], "vip_interface": "eth0", "services": {"nginx": True},
                      "active": True}


def test_a_sound_cluster_has_no_problem():
    assert heartbeat_problems(CONFIG, probes()) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"keepalive": 10}, "heartbeat_ha_keepalive=10: must be below heartbeat_ha_warntime (10)"),
    ({"warntime": 30}, "heartbeat_ha_warntime=30: must be below heartbeat_ha_deadtime (30)"),
    ({"initdead": 45}, "heartbeat_ha_initdead=45: must be at least twice heartbeat_ha_deadtime (30)"),
    ({"keepalive": 0.5, "warntime": 2, "deadtime": 4, "initdead": 8}, "heartbeat_ha_initdead=8: must be at least"),
    ({"deadtime": "soon"}, "heartbeat_ha_deadtime='soon': a number from 0.001 to 86400 is required"),
    ({"keepalive": 0}, "heartbeat_ha_keepalive=0: must be from 0.001"),
    ({"auth_index": 2}, "heartbeat_ha_auth_index=2: is not an index of heartbeat_ha_authkeys (1)"),
    ({"authkeys": []}, "heartbeat_ha_authkeys=[]: empty"),
    ({"authkeys": [{"index": 1, "method": "crc", "key": SECRET}]},
     "heartbeat_ha_authkeys[0].method='crc': must be one of sha1, md5"),
    ({"authkeys": [{"index": 16, "method": "sha1", "key": SECRET}]},
     "heartbeat_ha_authkeys[0].index=16: must be from 1 to 15"),
    ({"authkeys": [{"index": 1, "method": "sha1", "key": SECRET}, {"index": 1, "method": "md5", "key": "x"}]},
     "heartbeat_ha_authkeys[1].index=1: is used twice"),
    ({"media": "serial"}, "heartbeat_ha_media='serial': must be one of ucast, bcast, mcast"),
    ({"media": "mcast", "mcast_group": "192.0.2.1"}, "heartbeat_ha_mcast_group='192.0.2.1': not a multicast address"),
    ({"udpport": 70000}, "heartbeat_ha_udpport=70000: must be from 1 to 65535"),
    ({"vips": [{"address": "192.0.2.300/24"}]},
     "heartbeat_ha_vips[0].address='192.0.2.300/24': not an IPv4 address/prefix"),
    ({"vips": [{"address": "192.0.2.85"}]},
     "heartbeat_ha_vips[0].address='192.0.2.85': an IPv4 address/prefix is required"),
    ({"vips": [{"address": "192.0.2.85/24", "interface": "eth9"}]},
     "heartbeat_ha_vips[0].interface='eth9': does not exist on dir1"),
    ({"ping_nodes": ["gateway"]}, "heartbeat_ha_ping_nodes[0]='gateway': not an IP address"),
    ({"preferred_node": "dir3"}, "heartbeat_ha_preferred_node='dir3': is not one of heartbeat_ha_nodes"),
    ({"nodes": ["dir1"], "preferred_node": "dir1"}, "heartbeat_ha_nodes=['dir1']: must name at least two"),
    ({"nodes": ["dir1", "dir2", "dir3"]}, "heartbeat_ha_nodes='dir3': is not a host of this play"),
    ({"interfaces": {"dir1": "eth1", "dir2": "eth0"}}, "heartbeat_ha_interface='eth1': does not exist on dir1"),
    ({"interfaces": {"dir1": "", "dir2": "eth0"}}, "heartbeat_ha_interface: none given and no interface of dir1"),
])
def test_problems_name_the_variable_and_its_value(change, words):
    problems = heartbeat_problems({**CONFIG, **change}, probes())
    assert any(words in problem for problem in problems), problems


def test_node_names_must_be_uname_and_resolve_everywhere():
    problems = heartbeat_problems(CONFIG, probes(dir1=probe_text("dir1.example"), dir2=probe_text("dir2", ("dir2",))))
    assert "heartbeat_ha_nodes='dir1': calls itself 'dir1.example' (uname -n); heartbeat knows a node by that " \
           "name only" in problems
    assert "heartbeat_ha_nodes='dir1': does not resolve on dir2 (add it to /etc/hosts)" in problems


def test_a_service_systemd_does_not_know():
    problems = heartbeat_problems(CONFIG, probes(dir2=probe_text("dir2", services="missing")))
    assert problems == ["heartbeat_ha_services='nginx': is not a systemd service on dir2 (nginx.service); "
                        "install it first"]


def test_what_the_playbook_sets_up_first_counts_as_present():
    """site.yml checks heartbeat's input before the prerequisites write the names and demo_web installs nginx."""
    fresh = probes(dir1=probe_text("dir1", ("dir1",), services="missing"), dir2=probe_text("dir2", (), "missing"))
    assert len(heartbeat_problems(CONFIG, fresh)) == 5
    assert heartbeat_problems({**CONFIG, "provided": {"names": ["dir1", "dir2"], "services": ["nginx"]}}, fresh) == []
    partly = heartbeat_problems({**CONFIG, "provided": {"names": ["dir2"], "services": []}}, fresh)
    assert sorted(partly) == ["heartbeat_ha_nodes='dir1': does not resolve on dir2 (add it to /etc/hosts)",
                              "heartbeat_ha_services='nginx': is not a systemd service on dir1 (nginx.service); "
                              "install it first",
                              "heartbeat_ha_services='nginx': is not a systemd service on dir2 (nginx.service); "
                              "install it first"]


@pytest.mark.parametrize(("provided", "words"), [
    ("dir1", "heartbeat_ha_provided='dir1': a dictionary {names, services} is required"),
    ({"names": "dir1"}, "heartbeat_ha_provided.names='dir1': a list of names is required"),
    ({"services": [["nginx"]]}, "heartbeat_ha_provided.services=[['nginx']]: a list of names is required"),
])
def test_what_the_playbook_provides_must_be_lists_of_names(provided, words):
    assert words in heartbeat_problems({**CONFIG, "provided": provided}, probes())


@pytest.mark.parametrize("key", ["two words", "has#hash", "tab\there"])
def test_a_key_heartbeat_would_cut_is_refused_without_showing_it(key):
    problems = heartbeat_problems({**CONFIG, "authkeys": [{"index": 1, "method": "sha1", "key": key}]}, probes())
    assert problems == ["heartbeat_ha_authkeys[0].key='********': contains a blank or '#', which would cut the key"]
    assert key not in " ".join(problems)


def test_no_problem_ever_shows_a_key():
    broken = {**CONFIG, "authkeys": [{"index": 0, "method": "crc", "key": SECRET}], "auth_index": 5}
    problems = heartbeat_problems(broken, probes())
    assert len(problems) == 3
    assert SECRET not in " ".join(problems)


def test_interfaces_set_win_over_the_vip_network():
    found = probes()
    assert heartbeat_interfaces({"dir1": "eth1", "dir2": ""}, found) == {"dir1": "eth1", "dir2": "eth0"}
    assert heartbeat_interfaces({}, {"dir1": heartbeat_probe("uname dir1\n")}) == {"dir1": ""}


@pytest.mark.parametrize(("seconds", "written"), [(2, "2"), (2.0, "2"), ("30", "30"), (0.5, "500ms"), (1.25, "1250ms")])
def test_durations(seconds, written):
    assert heartbeat_duration(seconds) == written


def test_settings_that_are_not_dictionaries():
    with pytest.raises(AnsibleFilterError):
        heartbeat_problems(["dir1"], {})


def test_resources_in_start_order_and_their_release_in_stop_order():
    vips = [{"address": "192.0.2.85/24"}, {"address": "198.51.100.85/24", "interface": "eth1"}]
    assert heartbeat_resources(vips, ["nginx", "php-fpm"], "eth0") == [
        ["vip", "192.0.2.85/24", "eth0"], ["vip", "198.51.100.85/24", "eth1"], ["service", "nginx"],
        ["service", "php-fpm"]]
    script = "/etc/ha.d/resource.d/linux-cluster"
    assert heartbeat_resources(vips, ["nginx", "php-fpm"], "eth0", stop=script) == [
        [script, "service", "php-fpm", "stop"], [script, "service", "nginx", "stop"],
        [script, "vip", "198.51.100.85/24", "eth1", "stop"], [script, "vip", "192.0.2.85/24", "eth0", "stop"]]
    assert heartbeat_resources([], [], "eth0", stop=script) == []
