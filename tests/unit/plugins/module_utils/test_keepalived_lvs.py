"""The IPVS table as keepalived owns it: one declaration (ipvs_rules' services with keepalived's options)
validated by the IPVS model and the keepalived fields, rendered as multi-line virtual_server blocks, and what
keepalived 2.2.7's config test refuses named first."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.filter.lvs_keepalived import (
    ipvs_services,
    keepalived_virtual_servers,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import problem_lines
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import REALSERVER_INPUT, RULES_INPUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER_SETTINGS,
    SERVICE_SETTINGS,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import (
    STATIC_SERVICES_INPUT,
    VIRTUAL_SERVERS_INPUT,
    dropped,
    pair_problems,
    render,
    virtual_servers,
)

# The seeds' keepalived + LVS-DR web cluster (file 002): HTTP_GET / 200, 3 s timeout, 3 retries 3 s apart.
SEED = [{"address": "172.16.3.100", "port": 80, "scheduler": "rr", "delay_loop": 3,
         "health_check": {"type": "http", "path": "/", "status_code": 200, "connect_timeout": 3, "retry": 3,
                          "delay_before_retry": 3},
         "realservers": [{"address": "172.16.3.20", "weight": 1}, {"address": "172.16.3.30", "weight": 2}]}]

SEED_TEXT = """\
virtual_server 172.16.3.100 80 {
    delay_loop 3
    protocol TCP
    lvs_method DR
    lvs_sched rr
    real_server 172.16.3.20 80 {
        lvs_method DR
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 3
            retry 3
            delay_before_retry 3
        }
    }
    real_server 172.16.3.30 80 {
        lvs_method DR
        weight 2
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 3
            retry 3
            delay_before_retry 3
        }
    }
}
"""


def rendered(services: list[dict]) -> str:
    params, messages = VIRTUAL_SERVERS_INPUT.validate({"services": services})
    assert not messages
    return render(virtual_servers(params["services"]))


def problems(services: list[dict], kind=VIRTUAL_SERVERS_INPUT) -> list[str]:
    return problem_lines(kind.problems({"services": services}), names={"services": "lvs_director_services"})


def test_the_seeds_web_cluster_as_keepalived_writes_it():
    text = rendered(SEED)
    assert text.splitlines()[0].startswith("# The IPVS table, owned by keepalived")
    assert text.split("\n", 1)[1] == SEED_TEXT
    # Through the filter the roles use, the same text.
    assert keepalived_virtual_servers(SEED) == text
    # Never a one-line block (keepalived 2.2.7 skips the keywords inside one): every '{' ends its line.
    assert all(line.rstrip().endswith("{") for line in text.splitlines() if "{" in line)


def test_every_ipvs_setting_has_a_keepalived_spelling_or_is_refused():
    """The IPVS settings are written from their own declarations: each either renders or is refused."""
    for option in SERVICE_SETTINGS + REALSERVER_SETTINGS:
        assert option.keepalived is not None, option.name
    text = rendered([{"address": "2001:db8::50", "port": 0, "protocol": "udp", "scheduler": "sh",
                      "scheduler_flags": ["sh-port", "sh-fallback"], "persistence_timeout": 600,
                      "persistence_netmask": 64, "persistence_engine": "sip", "one_packet": True,
                      "health_check": {"type": "tcp", "port": 5060},
                      "realservers": [{"address": "2001:db8::21", "forwarding": "masquerade", "weight": 3,
                                       "upper_threshold": 100, "lower_threshold": 10}]}])
    for line in ("virtual_server 2001:db8::50 0 {", "protocol UDP", "lvs_method NAT", "lvs_sched sh", "sh-fallback",
                 "sh-port", "persistence_timeout 600", "persistence_granularity 64", "persistence_engine sip", "ops",
                 "real_server 2001:db8::21 0 {", "weight 3", "uthreshold 100", "lthreshold 10", "connect_port 5060"):
        assert f" {line}\n" in text or f"\n{line}\n" in text, line


def test_firewall_mark_service_with_sorry_server_and_the_check_types():
    text = rendered([{"fwmark": 10, "family": "ipv6", "scheduler": "rr", "persistence_timeout": 600,
                      "sorry_server": {"address": "2001:db8::9"}, "sorry_server_inhibit": True,
                      "inhibit_on_failure": True, "quorum": 2, "hysteresis": 1, "alpha": True,
                      "quorum_down": "/usr/local/bin/page oncall",
                      "health_check": {"type": "ssl", "port": 443, "path": "/health",
                                       "digest": "9B3A0C85A887A256D6939DA88AABD8CD"},
                      "realservers": [{"address": "2001:db8::21", "notify_down": "/usr/local/bin/page rs1"},
                                      {"address": "2001:db8::22", "health_check": {
                                          "type": "misc", "script": "/usr/local/bin/check rs2", "timeout": 5,
                                          "dynamic": True}}]}])
    for line in ("virtual_server fwmark 10 {", "    ip_family inet6", "    sorry_server 2001:db8::9 0",
                 "    sorry_server_inhibit", "    inhibit_on_failure", "    quorum 2", "    hysteresis 1", "    alpha",
                 '    quorum_down "/usr/local/bin/page oncall"', "    real_server 2001:db8::21 {",
                 '        notify_down "/usr/local/bin/page rs1"', "        SSL_GET {", "                path /health",
                 "                digest 9b3a0c85a887a256d6939da88aabd8cd", "            connect_port 443",
                 "        MISC_CHECK {", '            misc_path "/usr/local/bin/check rs2"',
                 "            misc_timeout 5", "            misc_dynamic"):
        assert line + "\n" in text, line
    assert "protocol" not in text


# keepalived 2.2.7's config test exits 5 on each of these (docs: HA-FACTS, measured): refused with the field.
BAD = [
    ({"fwmark": 10, "health_check": {"port": 80}, "realservers": [{"address": "192.0.2.21", "forwarding": "masquerade",
                                                                   "port": 81}]},
     "lvs_director_services[0].realservers[0].port=81: keepalived takes no real-server port on a firewall-mark "
     "service"),
    ({"address": "192.0.2.50", "port": 80, "quorum": 4, "realservers": [{"address": "192.0.2.21", "weight": 3}]},
     "lvs_director_services[0].quorum=4: above the real servers' total weight (3)"),
    ({"address": "192.0.2.50", "port": 80, "quorum": 2, "hysteresis": 2,
      "realservers": [{"address": "192.0.2.21", "weight": 3}]},
     "lvs_director_services[0].hysteresis=2: must be below the quorum (2)"),
    ({"address": "192.0.2.50", "port": 80, "hysteresis": 1, "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].hysteresis=1: must be below the quorum (1)"),
    ({"address": "192.0.2.50", "port": 80, "realservers": [{"address": "192.0.2.21", "port": 8080}]},
     "lvs_director_services[0].realservers[0].port=8080: only masquerade (NAT) can map ports"),
    ({"fwmark": 10, "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].health_check.port=None: the real server has no port"),
    ({"address": "192.0.2.50", "port": 0, "persistence_timeout": 60,
      "realservers": [{"address": "192.0.2.21", "health_check": {"type": "http"}}]},
     "lvs_director_services[0].realservers[0].health_check.port=None: the real server has no port"),
    ({"address": "192.0.2.50", "port": 80, "realservers": [
        {"address": "198.51.100.21", "forwarding": "tunnel", "tunnel_type": "gre"}]},
     "lvs_director_services[0].realservers[0].tunnel_type='gre': keepalived 2.2.7 cannot write this"),
    ({"address": "192.0.2.50", "port": 80, "health_check": {"type": "tcp", "status_code": 204},
      "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].health_check.status_code=204: does not apply to a tcp check"),
    ({"address": "192.0.2.50", "port": 80, "health_check": {"type": "http", "digest": "abc"},
      "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].health_check.digest='abc': an MD5 digest of the page"),
    ({"address": "192.0.2.50", "port": 80, "health_check": {"type": "misc", "script": "check.sh"},
      "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].health_check.script='check.sh': must start with the script's absolute path"),
    ({"address": "192.0.2.50", "port": 80, "sorry_server": {"address": "sorry.example"},
      "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].sorry_server.address='sorry.example': not an IP address"),
    ({"fwmark": 10, "sorry_server": {"address": "192.0.2.9", "port": 80}, "health_check": {"port": 80},
      "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].sorry_server.port=80: a firewall-mark service's sorry server takes no port"),
    ({"address": "192.0.2.50", "port": 80, "delay_loop": 0, "realservers": [{"address": "192.0.2.21"}]},
     "lvs_director_services[0].delay_loop=0: must be from 1 to 3600"),
    ({"address": "192.0.2.50", "port": 80, "health_check": {"type": "ping"},
      "realservers": [{"address": "192.0.2.21"}]},
     "value of type must be one of: tcp, http, ssl, misc, none, got: ping found in lvs_director_services -> "
     "health_check"),
]


@pytest.mark.parametrize(("service", "problem"), BAD)
def test_what_keepalived_refuses_is_refused_first(service, problem):
    found = problems([service])
    assert any(line.startswith(problem) for line in found), found


def test_every_problem_of_every_service_at_once():
    found = problems([bad for bad, _problem in BAD[:6]])
    assert len(found) == 6, found
    assert found == sorted(found)


def test_a_static_table_keeps_keepalived_options_checked_but_writes_what_keepalived_cannot():
    gue = [{"address": "192.0.2.50", "port": 80, "health_check": {"type": "http"},
            "realservers": [{"address": "198.51.100.21", "forwarding": "tunnel", "tunnel_type": "gue",
                             "tunnel_port": 6080}]}]
    assert problems(gue, STATIC_SERVICES_INPUT) == []
    # A static firewall-mark service needs no check (keepalived's default one would need a port), but
    # one it declares is checked as keepalived would take it.
    fwmark = {"fwmark": 10, "scheduler": "rr", "persistence_timeout": 600, "realservers": [{"address": "192.0.2.21"}]}
    assert problems([fwmark], STATIC_SERVICES_INPUT) == []
    assert problems([dict(fwmark, health_check={"type": "tcp"})], STATIC_SERVICES_INPUT) == [
        "lvs_director_services[0].health_check.port=None: the real server has no port (a firewall-mark or "
        "all-ports service): name the port the check connects to"]
    assert problems([fwmark]) != []
    assert problems(gue) != []
    assert problems([dict(gue[0], delay_loop="often")], STATIC_SERVICES_INPUT)
    # What ipvs_rules gets: the same services without keepalived's options, which it accepts as they are.
    plain = ipvs_services(gue + SEED)
    assert "health_check" not in plain[0] and "delay_loop" not in plain[1]
    assert RULES_INPUT.problems({"services": plain, "purge": True, "timeouts": None}) == []


def test_a_real_server_that_leaves_a_kept_service_is_drained_first():
    """Live (ipvs_info's form) against the new declaration: rs1 leaves the port-80 service, which stays; the
    service on port 8080 is not declared any more (keepalived deletes it whole, nothing to drain in it)."""
    live = [{"protocol": "tcp", "address": "192.0.2.50", "port": 80, "fwmark": None, "family": "ipv4",
             "realservers": [{"address": "192.0.2.21", "port": 80, "forwarding": "route", "weight": 1,
                              "upper_threshold": 10, "lower_threshold": 0},
                             {"address": "192.0.2.22", "port": 80, "forwarding": "route", "weight": 3}]},
            {"protocol": None, "address": None, "port": None, "fwmark": 10, "family": "ipv4",
             "realservers": [{"address": "192.0.2.21", "port": 0, "forwarding": "route", "weight": 1}]},
            {"protocol": "tcp", "address": "192.0.2.50", "port": 8080, "fwmark": None, "family": "ipv4",
             "realservers": [{"address": "192.0.2.21", "port": 8080, "forwarding": "route", "weight": 1}]}]
    declared = [{"address": "192.0.2.50", "port": 80, "realservers": [{"address": "192.0.2.22", "weight": 3}]},
                {"fwmark": 10, "health_check": {"port": 80}, "realservers": [{"address": "192.0.2.22"}]}]
    params, _messages = VIRTUAL_SERVERS_INPUT.validate({"services": declared})
    assert dropped(live, virtual_servers(params["services"])) == [
        {"protocol": "tcp", "service_address": "192.0.2.50", "service_port": 80, "address": "192.0.2.21",
         "port": 80, "forwarding": "route", "upper_threshold": 10, "lower_threshold": 0, "state": "drained"},
        {"fwmark": 10, "family": "ipv4", "address": "192.0.2.21", "port": 0, "forwarding": "route",
         "upper_threshold": 0, "lower_threshold": 0, "state": "drained"}]
    # Each is what ipvs_realserver accepts.
    for args in dropped(live, virtual_servers(params["services"])):
        assert REALSERVER_INPUT.problems(dict(args, drain_timeout=60)) == []
    # Nothing declared: keepalived is handed nothing, the role drains nothing.
    assert dropped(live, []) == []


def test_a_refused_real_server_is_named_by_its_place_in_the_list():
    service = {"address": "192.0.2.50", "port": 80, "realservers": [
        {"address": "198.51.100.22", "forwarding": "tunnel", "tunnel_type": "gre"},
        {"address": "198.51.100.21", "forwarding": "tunnel"}]}
    assert [line.split("=")[0] for line in problems([service])] == [
        "lvs_director_services[0].realservers[0].tunnel_type"]


PAIR = [{"name": "VI_lvs", "virtual_ipaddresses": [{"address": "203.0.113.50/24"}, {"address": "203.0.113.51/24"}]},
        {"name": "VI_dip", "virtual_ipaddresses": [{"address": "198.51.100.10/24"}]}]
VIPS = ["203.0.113.50", "203.0.113.51", "203.0.113.50"]


def test_a_nat_pair_floats_the_gateway_with_the_vips_in_one_sync_group():
    group = [{"name": "G_lvs", "instances": ["VI_lvs", "VI_dip"]}]
    gateways = {"rs1": "198.51.100.10", "rs2": "198.51.100.10"}
    assert pair_problems(PAIR, "nat", VIPS, gateways, group) == []
    assert pair_problems(PAIR, "nat", VIPS, gateways, []) == [
        f"{host}: the gateway 198.51.100.10 (instance VI_dip) and the VIPs of VI_lvs are in no sync group together: "
        "one could move without the other; put the instances in one entry of lvs_directors_sync_groups"
        for host in ("rs1", "rs2")]
    # The DIP in the instance of the VIPs needs no group.
    one = [{"name": "VI_lvs", "virtual_ipaddresses": PAIR[0]["virtual_ipaddresses"] + PAIR[1]["virtual_ipaddresses"]}]
    assert pair_problems(one, "nat", VIPS, gateways, []) == []


def test_a_pair_refuses_what_it_would_not_move():
    problems = pair_problems(PAIR[:1], "nat", [*VIPS, "203.0.113.52"], {"rs1": "198.51.100.11"}, [])
    assert problems == [
        "203.0.113.52 (a VIP of lvs_director_services or lvs_director_fwmark_rules) is carried by no instance of "
        "lvs_directors_vrrp: the pair would not move it",
        "rs1: lvs_realserver_nat_gateway='198.51.100.11' is carried by no instance of lvs_directors_vrrp: in LVS-NAT "
        "the real servers' gateway is an address the pair floats (the DIP) on their network, or their replies stay "
        "with a director that lost the VIPs"]
    assert pair_problems([], "dr", VIPS, {}, []) == [
        "lvs_directors_vrrp is empty: a director pair needs at least one VRRP instance carrying the VIPs"]
    # DR and TUN real servers answer the client themselves: their gateways are not the pair's business.
    assert pair_problems(PAIR[:1], "dr", VIPS, {"rs1": "192.0.2.1"}, []) == []


def test_a_loopback_sorry_server_is_reached_by_route_in_every_mode():
    nat = {"address": "203.0.113.50", "port": 80, "scheduler": "wrr", "sorry_server": {"address": "127.0.0.1"},
           "realservers": [{"address": "198.51.100.21", "forwarding": "masquerade"}]}
    text = keepalived_virtual_servers([nat])
    assert "    sorry_server 127.0.0.1 80\n    sorry_server_lvs_method DR\n" in text
    # Another address keeps the service's method unless told.
    other = keepalived_virtual_servers([dict(nat, sorry_server={"address": "198.51.100.9"})])
    assert "sorry_server 198.51.100.9 80\n" in other and "sorry_server_lvs_method" not in other
    assert "sorry_server_lvs_method TUN" in keepalived_virtual_servers(
        [dict(nat, sorry_server={"address": "198.51.100.9", "forwarding": "tunnel"})])
    problems = VIRTUAL_SERVERS_INPUT.problems(
        {"services": [dict(nat, sorry_server={"address": "127.0.0.1", "forwarding": "masquerade"})]})
    assert [str(problem) for problem in problems] == [
        "services[0].sorry_server.forwarding='masquerade': the kernel does not masquerade to a loopback address "
        "(127.0.0.1); use route, which hands the connections to the director itself"]
