"""Bad role input stops a play before any task changes anything: at the role's argument validation or at
its preflight, which runs the modules' own validation on the controller. Run against this machine in check
mode; the play must end at the preflight, with every problem named and no later task of the role run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def play(tmp_path: Path, role: str, variables: dict) -> subprocess.CompletedProcess:
    collections = tmp_path / "collections/ansible_collections/linux_cluster"
    collections.mkdir(parents=True)
    (collections / "lvs").symlink_to(ROOT)
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                                     "roles": [{"role": f"linux_cluster.lvs.{role}", "vars": variables}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    # An inventory of its own: the repository's ansible.cfg names the lab's, whose group_vars/all.yml would apply.
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "--check",
                           str(playbook)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def tasks_run(output: str, role: str) -> list[str]:
    return re.findall(rf"^TASK \[linux_cluster\.lvs\.{role} : (.*?)\]", output, re.M)


@pytest.mark.parametrize("variables, names", [
    ({"lvs_director_fwmark_rules": [{"mark": 10, "ports": [80]}]}, ["vip"]),
    ({"lvs_director_fwmark_rules": [{"mark": 10, "vip": "192.0.2.51", "ports": ["http"]}]}, ["ports"]),
    ({"lvs_director_timeouts": {"tcp": "soon"}}, ["tcp"]),
    ({"lvs_director_mode": "fast"}, ["lvs_director_mode"]),
    ({"lvs_director_services": [{"address": "192.0.2.50", "port": 80, "scheduler": "wrrr"}]}, ["wrrr"]),
    ({"lvs_director_services": [{"address": "192.0.2.50", "port": "http"}]}, ["port"]),
    ({"lvs_director_services": [{"address": "192.0.2.50", "port": 80, "realservers": [{"weight": 1}]}]},
     ["address"]),
])
def test_lvs_director_refuses_mistyped_input_at_argument_validation(tmp_path, variables, names):
    result = play(tmp_path, "lvs_director", variables)
    assert result.returncode != 0
    assert "Validating arguments against arg spec" in result.stdout
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    # The failure is the argument check: no task of the role ran.
    assert "TASK [linux_cluster.lvs.lvs_director : " not in result.stdout.split("Validating arguments")[1]


PREFLIGHT = {
    "lvs_director": ("Every director's inputs hold", {
        "lvs_director_services": [
            {"address": "192.0.2.50", "port": 80, "scheduler": "wrr",
             # A templated item, as inventories write them: the preflight reads it rendered.
             "realservers": ["{{ {'address': 'rs1.example'} | combine({'weight': 1}) }}",
                             {"address": "192.0.2.22", "weight": 70000}]},
            {"fwmark": 10, "port": 80},
            {"address": "192.0.2.51", "port": 80},
            {"address": "192.0.2.51", "port": 80, "scheduler": "rr"}],
        "lvs_director_vips": ["1.2", ":::", "999.1.1.1"],
        "lvs_director_fwmark_rules": [{"mark": 10, "vip": "www", "ports": [80]}],
        "lvs_director_masquerade": ["10.0.0.0/33"],
        "lvs_director_timeouts": {"tcp": 0},
    }, [
        "localhost: lvs_director_services[0].realservers[0].address='rs1.example': not an IP address (host names "
        "are not accepted)",
        "localhost: lvs_director_services[0].realservers[1].weight=70000: must be from 0 to 65535",
        "localhost: lvs_director_services[1].fwmark=10: a firewall-mark service takes no protocol, address or port",
        "localhost: lvs_director_services[3]: service tcp 192.0.2.51:80 is already declared at index 2",
        "localhost: lvs_director_timeouts.tcp=0: must be from 1 to 2147483647",
        "localhost: lvs_director_vips[0]='1.2': not an IP address (host names are not accepted)",
        "localhost: lvs_director_vips[1]=':::': not an IP address (host names are not accepted)",
        "localhost: lvs_director_vips[2]='999.1.1.1': not an IP address (host names are not accepted)",
        "localhost: lvs_director_fwmark_rules[0].vip='www': not an IP address (host names are not accepted)",
        "localhost: lvs_director_masquerade[0]='10.0.0.0/33': not a network (for example 198.51.100.0/24)",
    ]),
    "keepalived_ha": ("Every node's inputs hold, and the nodes agree on each instance", {
        "keepalived_ha_interface": "lo",
        "keepalived_ha_check_process": "nginx",
        "keepalived_ha_check_interval": 0,
        "keepalived_ha_check_fall": 0,
        "keepalived_ha_mcast_group4": "192.0.2.18",
        "keepalived_ha_scripts": [{"name": "chk_nginx", "script": "killall -0 nginx", "interval": 0}],
        "keepalived_ha_instances": [{"name": "VI_1", "virtual_router_id": 300, "priority": 255,
                                     "auth_pass": "123456789", "unicast": True,
                                     "track_scripts": [{"name": "chk_login"}],
                                     "virtual_ipaddresses": [{"address": "2001:db8::50/64"}]}],
        "keepalived_ha_virtual_servers": [{"address": "192.0.2.50", "port": 80, "quorum": 3,
                                           "realservers": [{"address": "192.0.2.21"}]}],
    }, [
        "localhost: keepalived_ha_scripts[0].script='killall -0 nginx': must start with the script's absolute path",
        "localhost: keepalived_ha_scripts[0].interval=0: must be from 1 to 3600",
        "localhost: keepalived_ha_instances[0].track_scripts[0].name='chk_login': no such vrrp_script",
        "localhost: keepalived_ha_check_interval=0: must be from 1 to 3600",
        "localhost: keepalived_ha_check_fall=0: must be from 1 to 1000",
        "localhost: keepalived_ha_instances[0].virtual_router_id=300: must be from 1 to 255",
        "localhost: keepalived_ha_instances[0].priority=255: must be from 1 to 254",
        "localhost: keepalived_ha_instances[0].auth_pass='********': 9 characters: keepalived keeps 8",
        "localhost: keepalived_ha_instances[0].virtual_ipaddresses='2001:db8::50/64': IPv6 needs version: 3",
        "localhost: keepalived_ha_mcast_group4='192.0.2.18': not a multicast address (those are in 224.0.0.0/4)",
        "localhost: keepalived_ha_virtual_servers[0].quorum=3: above the real servers' total weight (1)",
    ]),
    # keepalived owns the table: what keepalived 2.2.7's config test refuses (exit 5), named first.
    "lvs_director keepalived": ("Every director's inputs hold", {
        "lvs_director_table_owner": "keepalived",
        "lvs_director_services": [
            {"fwmark": 10, "quorum": 5, "hysteresis": 5, "health_check": {"type": "tcp"},
             "realservers": [{"address": "192.0.2.21", "forwarding": "masquerade", "port": 81},
                             {"address": "192.0.2.22", "forwarding": "masquerade"}]},
            {"address": "192.0.2.50", "port": 80, "realservers": [
                {"address": "198.51.100.1", "forwarding": "tunnel", "tunnel_type": "gue", "tunnel_port": 6080}]},
            {"address": "192.0.2.50", "port": 81, "realservers": [{"address": "192.0.2.21", "port": 8081}]},
            {"address": "192.0.2.50", "port": 82, "health_check": {"type": "misc", "path": "/"},
             "sorry_server": {"address": "2001:db8::9"}, "realservers": [{"address": "192.0.2.21"}]}],
    }, [
        "localhost: lvs_director_services[0].quorum=5: above the real servers' total weight (2)",
        "localhost: lvs_director_services[0].hysteresis=5: must be below the quorum (5)",
        "localhost: lvs_director_services[0].realservers[0].port=81: keepalived takes no real-server port on a "
        "firewall-mark service",
        "localhost: lvs_director_services[0].health_check.port=None: the real server has no port",
        "localhost: lvs_director_services[1].realservers[0].tunnel_type='gue': keepalived 2.2.7 cannot write this",
        "localhost: lvs_director_services[2].realservers[0].port=8081: only masquerade (NAT) can map ports",
        "localhost: lvs_director_services[3].health_check.path='/': does not apply to a misc check",
        "localhost: lvs_director_services[3].health_check.script=None: a misc check needs the script it runs",
        "localhost: lvs_director_services[3].sorry_server.address='2001:db8::9': not an ipv4 address",
    ]),
    "heartbeat_ha": ("The cluster's settings hold on every node", {
        "heartbeat_ha_keepalive": 10, "heartbeat_ha_warntime": 5,
        "heartbeat_ha_authkeys": [{"index": 1, "method": "sha1", "key": "lab-hb-Key1"}],
        # Argument validation lets a comma-separated string pass for a list, and a list for a string.
        "heartbeat_ha_provided": {"names": "dir1", "services": [["nginx"]]},
    }, [
        "heartbeat_ha_keepalive=10: must be below heartbeat_ha_warntime (5)",
        "heartbeat_ha_provided.names='dir1': a list of names is required",
        "heartbeat_ha_provided.services=[['nginx']]: a list of names is required",
        "heartbeat_ha_nodes=['localhost']: must name at least two distinct nodes",
    ]),
    "lvs_realserver_dr": ("Every real server's inputs hold", {
        "lvs_realserver_dr_vips": ["192.0.2.50", "1.2", "192.0.2.50"],
        "lvs_realserver_dr_arp_interfaces": ["all", "eth0; reboot"],
    }, [
        "localhost: lvs_realserver_dr_vips[1]='1.2': not an IP address (host names are not accepted)",
        "localhost: lvs_realserver_dr_arp_interfaces='eth0; reboot': not an interface name",
    ]),
    "lvs_realserver_tun": ("Every real server's inputs hold", {"lvs_realserver_tun_vips": ["2001:db8::60"]}, [
        "localhost: lvs_realserver_tun_vips[0]='2001:db8::60': an IPv4 address is required, not IPv6",
    ]),
    "lvs_realserver_nat": ("Every real server's inputs hold", {
        "lvs_realserver_nat_gateway": ":::", "lvs_realserver_nat_device": "eth 0"}, [
        "localhost: lvs_realserver_nat_gateway=':::': not an IP address (host names are not accepted)",
        "localhost: lvs_realserver_nat_device='eth 0': not an interface name",
    ]),
    "nginx_proxy": ("Every node's inputs hold", {
        "nginx_proxy_upstreams": [{"name": "web", "method": "ip_hash",
                                   "servers": [{"address": "192.0.2.21", "weight": 0},
                                               {"address": "rs2..example", "backup": True}]}],
        "nginx_proxy_servers": [{"address": "192.0.2.800", "locations": [{"upstream": "web", "path": "api"}]}],
        "nginx_proxy_error_log": "error.log",
    }, [
        "localhost: nginx_proxy_upstreams[0].servers[0].weight=0: must be from 1 to 1000",
        "localhost: nginx_proxy_upstreams[0].servers[1].address='rs2..example': an IP address or a host name is "
        "required",
        "localhost: nginx_proxy_servers[0].address='192.0.2.800': not an IP address",
        "localhost: nginx_proxy_servers[0].locations[0].path='api': a location is a path",
        "localhost: nginx_proxy_error_log='error.log': an absolute path is required",
    ]),
    "nginx_proxy rules": ("Every node's inputs hold", {
        "nginx_proxy_upstreams": [{"name": "web", "method": "ip_hash", "servers": [{"address": "192.0.2.21"},
                                                                                   {"address": "192.0.2.22",
                                                                                    "backup": True}]}],
        "nginx_proxy_servers": [{"locations": [{"upstream": "api"}]}],
        "nginx_proxy_stream_upstreams": [{"name": "tcp", "servers": [{"address": "192.0.2.21", "port": 80}]}],
        "nginx_proxy_stream_servers": [{"port": 80, "upstream": "tcp"}],
    }, [
        "localhost: nginx_proxy_upstreams[0].servers[1].backup=True: nginx has no backup server with method ip_hash",
        "localhost: nginx_proxy_servers[0].locations[0].upstream='api': no such upstream in nginx_proxy_upstreams",
        "localhost: nginx_proxy_stream_servers[0].port=80: an HTTP server listens there",
    ]),
    "ntp_prereqs": ("Every node's inputs, names and time sources hold", {
        "ntp_prereqs_time_sources": [{"address": "ntp..example"}, {"address": "192.0.2.1", "minpoll": 30}],
        "ntp_prereqs_allow": ["10.0.0.0/33"],
        "ntp_prereqs_max_offset": 0,
        "ntp_prereqs_interfaces": ["nosuch0", "eth0; reboot"],
    }, [
        "localhost: ntp_prereqs_time_sources[0].address='ntp..example': an IP address or a host name is required",
        "localhost: ntp_prereqs_time_sources[1].minpoll=30: must be from -6 to 24",
        "localhost: ntp_prereqs_allow[0]='10.0.0.0/33': not a network",
        "localhost: ntp_prereqs_max_offset=0.0: must be from 0.001 to 10",
        "localhost: ntp_prereqs_interfaces[1]='eth0; reboot': not an interface name",
        "localhost: ntp_prereqs_node_name='localhost' is not the node's own name",
        "localhost: ntp_prereqs_interfaces[0]='nosuch0': no such interface on localhost",
    ]),
    # Inputs that hold, the node named as it calls itself, a time source that does not answer (nothing
    # listens on loopback's NTP port here).
    "ntp_prereqs source": ("Every node's inputs, names and time sources hold", {
        "ntp_prereqs_node_name": "{{ lookup('ansible.builtin.pipe', 'uname -n') }}",
        "ntp_prereqs_time_sources": [{"address": "127.0.0.2"}],
    }, [
        "localhost: ntp_prereqs_time_sources: no time source answers from localhost (127.0.0.2: ",
    ]),
    "boot_unit": ("Inputs", {"boot_unit_name": "lab-test", "boot_unit_addresses": ["192.0.2.1/33"],
                             "boot_unit_device": "lo"}, [
        "boot_unit_addresses[0]='192.0.2.1/33': not an IP address with or without /prefix (host names are not "
        "accepted)",
    ]),
}


@pytest.mark.parametrize("case", sorted(PREFLIGHT))
def test_bad_input_stops_at_the_preflight_with_every_problem_named(tmp_path, case):
    task, variables, problems = PREFLIGHT[case]
    role = case.split()[0]
    result = play(tmp_path, role, variables)
    assert result.returncode != 0
    ran = tasks_run(result.stdout, role)
    assert ran and ran[-1] == task, ran
    failed = result.stdout.split(f"TASK [linux_cluster.lvs.{role} : {task}]")[1]
    for problem in problems:
        assert problem in failed, (problem, failed[-3000:])
    assert re.search(r"^localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", result.stdout, re.M)
    for secret in ("123456789", "lab-hb-Key1"):
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("variables, names", [
    ({"heartbeat_ha_media": "serial", "heartbeat_ha_authkeys": [{"index": 1, "key": "k"}]}, ["heartbeat_ha_media"]),
    ({"heartbeat_ha_authkeys": [{"index": 1, "method": "crc", "key": "k"}]}, ["method"]),
    ({"heartbeat_ha_vips": [{"interface": "eth0"}], "heartbeat_ha_authkeys": [{"index": 1, "key": "k"}]}, ["address"]),
])
def test_heartbeat_ha_refuses_bad_input_before_any_task(tmp_path, variables, names):
    result = play(tmp_path, "heartbeat_ha", variables)
    assert result.returncode != 0
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    assert "TASK [linux_cluster.lvs.heartbeat_ha : " not in result.stdout.split("Validating arguments")[1]


@pytest.mark.parametrize("variables, names", [
    ({"nginx_proxy_upstreams": [{"name": "web", "servers": [{"address": "192.0.2.21", "weight": "heavy"}]}]},
     ["weight", "nginx_proxy_upstreams"]),
    ({"nginx_proxy_servers": [{"port": 80}]}, ["locations"]),
    ({"nginx_proxy_stream_servers": [{"port": 53, "protocol": "sctp", "upstream": "dns"}]}, ["protocol", "sctp"]),
    ({"nginx_proxy_reload_timeout": "soon"}, ["nginx_proxy_reload_timeout"]),
])
def test_nginx_proxy_refuses_mistyped_input_at_argument_validation(tmp_path, variables, names):
    result = play(tmp_path, "nginx_proxy", variables)
    assert result.returncode != 0
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    assert "TASK [linux_cluster.lvs.nginx_proxy : " not in result.stdout.split("Validating arguments")[1]


@pytest.mark.parametrize("variables, names", [
    ({"ntp_prereqs_local_stratum": "high"}, ["ntp_prereqs_local_stratum"]),
    ({"ntp_prereqs_time_sources": [{"address": "192.0.2.1", "iburst": "often"}]}, ["iburst"]),
    ({"ntp_prereqs_firewall_accept": ["ssh"]}, ["ntp_prereqs_firewall_accept", "ssh"]),
])
def test_ntp_prereqs_refuses_mistyped_input_at_argument_validation(tmp_path, variables, names):
    result = play(tmp_path, "ntp_prereqs", variables)
    assert result.returncode != 0
    assert all(name in result.stdout for name in names), result.stdout[-2000:]
    assert "TASK [linux_cluster.lvs.ntp_prereqs : " not in result.stdout.split("Validating arguments")[1]


def test_demo_web_refuses_a_port_that_is_no_number(tmp_path):
    result = play(tmp_path, "demo_web", {"demo_web_ports": ["http"]})
    assert result.returncode != 0 and "demo_web_ports" in result.stdout
    assert "TASK [linux_cluster.lvs.demo_web : " not in result.stdout.split("Validating arguments")[1]
