"""The collection's one error type for input and the checks every module and filter shares: an address
is checked as an address (ipaddress), never by a regex; every problem is reported at once; a secret is
never shown; a module's input is validated by the same code on the controller and in the module."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.filter.inputs import MODULES, input_problems
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    InputError,
    InputErrors,
    addresses,
    collect,
    integer,
    interface_name,
    ip_address,
    ip_network,
    number,
    problem_lines,
)


@pytest.mark.parametrize("text", ["1.2", ":::", "999.1.1.1", "192.0.2", "www", "", None, 3, "192.0.2.1 ",
                                  "192.0.2.1/24"])
def test_what_is_not_an_address(text):
    if text == "192.0.2.1 ":
        assert ip_address("vip", text) == "192.0.2.1"
        return
    with pytest.raises(InputError) as exc:
        ip_address("vip", text)
    assert exc.value.field == "vip" and exc.value.value == text


@pytest.mark.parametrize(("text", "options", "result"), [
    ("192.0.2.50", {}, "192.0.2.50"),
    ("2001:DB8:0:0::1", {}, "2001:db8::1"),
    ("192.0.2.50/24", {"prefix": True}, "192.0.2.50/24"),
    ("192.0.2.50", {"prefix": None}, "192.0.2.50"),
    ("224.0.0.18", {"version": 4, "multicast": True}, "224.0.0.18"),
])
def test_addresses_as_given_compressed(text, options, result):
    assert ip_address("vip", text, **options) == result


@pytest.mark.parametrize(("text", "options", "why"), [
    ("192.0.2.50", {"prefix": True}, "an IP address/prefix is required (for example 192.0.2.50/24)"),
    ("192.0.2.50/24", {}, "an IP address without a prefix is required"),
    ("192.0.2.50/33", {"prefix": None}, "not an IP address with or without /prefix (host names are not accepted)"),
    ("192.0.2.50/255.255.255.0", {"prefix": True}, "not an IP address/prefix (host names are not accepted)"),
    ("2001:db8::1", {"version": 4}, "an IPv4 address is required, not IPv6"),
    ("192.0.2.18", {"multicast": True}, "not a multicast address (those are in 224.0.0.0/4)"),
])
def test_address_problems_say_why(text, options, why):
    with pytest.raises(InputError) as exc:
        ip_address("vip", text, **options)
    assert exc.value.why == why


def test_a_list_of_addresses_names_every_bad_one_and_duplicates():
    with pytest.raises(InputErrors) as exc:
        addresses("vips", ["192.0.2.1", "1.2", "x"])
    assert [str(error) for error in exc.value.errors] == [
        "vips[1]='1.2': not an IP address (host names are not accepted)",
        "vips[2]='x': not an IP address (host names are not accepted)"]
    with pytest.raises(InputError, match=r"^vips\[1\]='192.0.2.1': listed twice"):
        addresses("vips", ["192.0.2.1", "192.0.2.1"])
    with pytest.raises(InputError, match=r"at least 1 address required"):
        addresses("vips", [], at_least=1)


def test_numbers_and_names():
    assert integer("port", "80", 1, 65535) == 80
    for value in (True, 1.5, "http", None, 0):
        with pytest.raises(InputError):
            integer("port", value, 1, 65535)
    assert number("advert_int", "0.25", 0.01, 255, places=2) == 0.25
    with pytest.raises(InputError, match="at most 2 decimal places"):
        number("advert_int", 0.255, 0.01, 255, places=2)
    assert ip_network("net", "198.51.100.7/24") == "198.51.100.0/24"
    for name in ("eth0; reboot", "a-very-long-interface-name", "..", "", None, "eth0/1"):
        with pytest.raises(InputError):
            interface_name("interface", name)


def test_a_secret_is_never_shown():
    assert str(InputError("auth_pass", "hunter2", "too long", secret=True)) == "auth_pass='********': too long"
    assert str(InputError("services[1]", why="declared twice")) == "services[1]: declared twice"


def test_collect_reports_every_problem_and_one_alone():
    def bad(name):
        raise InputError(name, 1, "bad")
    with pytest.raises(InputErrors) as exc:
        collect([lambda: bad("a"), lambda: 2, lambda: bad("b")])
    assert [error.field for error in exc.value.errors] == ["a", "b"]
    with pytest.raises(InputError):
        collect([lambda: bad("a"), lambda: 2])
    assert collect([lambda: 1, lambda: 2]) == [1, 2]


def test_problem_lines_name_the_users_variables():
    lines = problem_lines([InputError("services[0].port", "x", "bad"), "argument 'purge' is of type str"],
                          where="dir1: ", names={"services": "lvs_director_services"})
    assert lines == ["dir1: lvs_director_services[0].port='x': bad", "dir1: argument 'purge' is of type str"]
    assert problem_lines([InputError("priority", 255, "bad")], names={"priority": "priorities.dir1"},
                         parent="keepalived_ha_instances[0]") == ["keepalived_ha_instances[0].priorities.dir1=255: bad"]


def test_the_preflight_runs_each_modules_own_validation():
    """The filter's registry holds the very objects the modules build AnsibleModule from."""
    from ansible_collections.linux_cluster.lvs.plugins.module_utils import (
        _chrony,
        _ipvs_model,
        _keepalived,
        _keepalived_lvs,
        _nginx,
        _sysctl,
    )
    assert MODULES == {"ipvs_rules": _ipvs_model.RULES_INPUT, "ipvs_service": _ipvs_model.SERVICE_INPUT,
                       "ipvs_realserver": _ipvs_model.REALSERVER_INPUT, "vrrp_instance": _keepalived.VRRP_INPUT,
                       "sysctl_file": _sysctl.FILE_INPUT, "sysctl_arp": _sysctl.ARP_INPUT,
                       "keepalived_virtual_servers": _keepalived_lvs.VIRTUAL_SERVERS_INPUT,
                       "static_services": _keepalived_lvs.STATIC_SERVICES_INPUT, "nginx_proxy": _nginx.PROXY_INPUT,
                       "ntp_prereqs": _chrony.TIME_INPUT}
    assert input_problems({"services": [{"address": "192.0.2.50", "port": 80, "scheduler": "wrrr"}]},
                          "ipvs_rules") == [
        "value of scheduler must be one of: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, got: wrrr "
        "found in services"]
    for password in ({"a": "s3cr3t!"}, ["s3cr3t!"], "s3cr3t! too long"):
        problems = input_problems({"name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
                                   "virtual_ipaddresses": [{"address": "192.0.2.50/24"}], "auth_pass": password},
                                  "vrrp_instance")
        assert problems and "s3cr3t!" not in " ".join(problems), problems
    assert input_problems(["192.0.2.1", "1.2"], "addresses", "lvs_director_vips", where="dir1: ") == [
        "dir1: lvs_director_vips[1]='1.2': not an IP address (host names are not accepted)"]
