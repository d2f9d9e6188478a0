"""The keepalived_ha role's play-wide checks and per-node instance arguments."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.filter.keepalived_ha import vrrp_node_instances, vrrp_problems

WEB = {"name": "VI_web", "virtual_router_id": 51, "auth_pass": "s3cret", "priorities": {"dir1": 150, "dir2": 100},
       "virtual_ipaddresses": [{"address": "192.0.2.50/24"}]}


def nodes(*per_host):
    return {f"dir{index + 1}": instances for index, instances in enumerate(per_host)}


INTERFACES = {"dir1": "eth0", "dir2": "eth0"}


def test_a_consistent_pair_has_no_problem():
    assert vrrp_problems(nodes([WEB], [WEB]), INTERFACES) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"virtual_router_id": 52}, "virtual_router_id differs between dir1 (51) and dir2 (52)"),
    ({"virtual_ipaddresses": [{"address": "192.0.2.51/24"}]}, "virtual_ipaddresses differs"),
    ({"auth_pass": "other"}, "auth_pass differs between dir1 ((secret)) and dir2 ((secret))"),
])
def test_peers_that_disagree(change, words):
    problems = vrrp_problems(nodes([WEB], [dict(WEB, **change)]), INTERFACES)
    assert any(words in problem for problem in problems), problems
    assert not any("s3cret" in problem or "other" in problem.split("(")[0] for problem in problems)


def test_one_vrid_twice_on_an_interface():
    other = dict(WEB, name="VI_other", virtual_ipaddresses=[{"address": "192.0.2.60/24"}])
    problems = vrrp_problems(nodes([WEB, other], [WEB, other]), INTERFACES)
    assert "dir1: virtual_router_id 51 on eth0 is used by instances VI_web and VI_other" in problems


def test_exactly_one_highest_priority():
    tie = dict(WEB, priorities={"dir1": 100, "dir2": 100})
    assert vrrp_problems(nodes([tie], [tie]), INTERFACES) == [
        "instance VI_web: dir1 and dir2 share the highest priority 100; give exactly one node the highest"]
    assert vrrp_problems(nodes([dict(tie, nopreempt=True)], [dict(tie, nopreempt=True)]), INTERFACES) == []


def test_nopreempt_with_master_start():
    bad = dict(WEB, nopreempt=True, initial_state="MASTER")
    problems = vrrp_problems(nodes([bad], [bad]), INTERFACES)
    assert any("nopreempt with initial_state MASTER" in problem for problem in problems)


def test_dual_master_is_two_instances_each_with_its_own_master():
    other = {"name": "VI_2", "virtual_router_id": 52, "priorities": {"dir1": 100, "dir2": 150},
             "virtual_ipaddresses": [{"address": "192.0.2.51/24"}]}
    assert vrrp_problems(nodes([WEB, other], [WEB, other]), INTERFACES) == []
    dir2 = vrrp_node_instances([WEB, other], "dir2", {}, "eth0")
    assert [(args["name"], args["priority"]) for args in dir2] == [("VI_web", 100), ("VI_2", 150)]


def test_node_arguments():
    addresses = {"dir1": "192.0.2.11", "dir2": "192.0.2.12"}
    (args,) = vrrp_node_instances([dict(WEB, unicast=True)], "dir1", addresses, "eth0", ["chk_maintenance"],
                                  "/etc/keepalived/notify.sh")
    assert args["priority"] == 150 and args["interface"] == "eth0" and args["initial_state"] == "BACKUP"
    assert args["unicast_src_ip"] == "192.0.2.11" and args["unicast_peers"] == ["192.0.2.12"]
    assert args["track_scripts"] == [{"name": "chk_maintenance", "weight": None}]
    assert args["notify"] == "/etc/keepalived/notify.sh" and args["auth_pass"] == "s3cret"
    assert "priorities" not in args and "unicast" not in args
    (plain,) = vrrp_node_instances([WEB], "dir3", addresses, "eth1")
    assert plain["priority"] == 100 and "unicast_src_ip" not in plain


def test_an_instance_without_name():
    with pytest.raises(AnsibleFilterError, match=r"keepalived_ha_instances\[0\]"):
        vrrp_node_instances([{"virtual_router_id": 1}], "dir1", {})
