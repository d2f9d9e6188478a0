"""keepalived instances as data: every bad field named with its value, the snippet, the masked secret,
the config test's verdict (with keepalived 2.2.7's traps) and the live state without the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    MASK,
    KeepalivedInputError,
    applied,
    config_test_problem,
    included,
    instance,
    live_instances,
    mask,
    public,
    render,
    restage_includes,
)
from ansible_collections.linux_cluster.lvs.plugins.modules.vrrp_instance import argument_spec

FIXTURES = Path(__file__).parent / "fixtures"


def params(**fields):
    base = {key: spec.get("default") for key, spec in argument_spec().items()}
    base.update(name="VI_1", interface="eth0", virtual_router_id=51,
                virtual_ipaddresses=[{"address": "192.0.2.50/24", "dev": None, "label": None, "scope": None,
                                      "brd": None}])
    base.update(fields)
    return base


def vip(address, **fields):
    return dict({"address": address, "dev": None, "label": None, "scope": None, "brd": None}, **fields)


def test_minimal_instance_renders_what_keepalived_reads():
    text = render(instance(params()))
    assert text.splitlines()[1:] == [
        "vrrp_instance VI_1 {", "    state BACKUP", "    interface eth0", "    virtual_router_id 51",
        "    priority 100", "    advert_int 1", "    version 2", "    virtual_ipaddress {",
        "        192.0.2.50/24", "    }", "}"]


def test_full_instance():
    inst = instance(params(
        initial_state="BACKUP", nopreempt=True, auth_pass="a!b#c", version=2,
        virtual_ipaddresses=[vip("192.0.2.50/24", label="eth0:vip", brd="192.0.2.255", scope="global")],
        virtual_ipaddresses_excluded=[vip("2001:db8::50/64")],
        track_interfaces=[{"name": "eth1", "weight": -20}], track_scripts=[{"name": "chk_nginx", "weight": None}],
        track_files=[{"name": "down", "weight": -50}], unicast_src_ip="192.0.2.11", unicast_peers=["192.0.2.12"],
        notify="/etc/keepalived/notify.sh --log", garp_master_delay=1))
    text = render(inst)
    for line in ("    nopreempt", '        auth_pass "a!b#c"', "        192.0.2.50/24 brd 192.0.2.255 scope global "
                 "label eth0:vip", "        2001:db8::50/64", "        eth1 weight -20", "        chk_nginx",
                 "        down weight -50", "    unicast_src_ip 192.0.2.11", "        192.0.2.12",
                 '    notify "/etc/keepalived/notify.sh --log"', "    garp_master_delay 1"):
        assert line in text.splitlines()
    masked = render(inst, masked=True)
    assert "a!b#c" not in masked and f'auth_pass "{MASK}"' in masked
    assert mask(text) == masked
    assert public(inst)["auth_pass"] == MASK and inst["auth_pass"] == "a!b#c"


def test_version_3_takes_hundredths():
    assert "    advert_int 0.25" in render(instance(params(version=3, advert_int=0.25))).splitlines()


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"virtual_router_id": 0}, "virtual_router_id", "between 1 and 255"),
    ({"virtual_router_id": 256}, "virtual_router_id", "between 1 and 255"),
    ({"priority": 255}, "priority", "between 1 and 254"),
    ({"priority": 0}, "priority", "between 1 and 254"),
    ({"advert_int": 0.5}, "advert_int", "whole seconds"),
    ({"version": 3, "advert_int": 0.005}, "advert_int", "0.01 to 40.95"),
    ({"auth_pass": "123456789"}, "auth_pass", "keepalived keeps 8"),
    ({"auth_pass": 'a"b'}, "auth_pass", "without spaces, quotes"),
    ({"auth_pass": "a b"}, "auth_pass", "without spaces, quotes"),
    ({"version": 3, "auth_pass": "abc"}, "auth_pass", "no authentication"),
    ({"initial_state": "MASTER", "nopreempt": True}, "nopreempt", "ignores it"),
    ({"nopreempt": True, "preempt_delay": 5}, "preempt_delay", "no effect"),
    ({"virtual_ipaddresses": [vip("192.0.2.500/24")]}, "virtual_ipaddresses[0].address", "not an IP address"),
    ({"virtual_ipaddresses": [vip("192.0.2.50/24"), vip("192.0.2.50/32")]}, "virtual_ipaddresses[1].address",
     "twice"),
    ({"virtual_ipaddresses": [vip("192.0.2.50/24", label="vip1")]}, "virtual_ipaddresses[0].label", "eth0:NAME"),
    ({"virtual_ipaddresses": [vip("192.0.2.50/24", brd="198.51.100.255")]}, "virtual_ipaddresses[0].brd", "not in"),
    ({"virtual_ipaddresses": [vip("192.0.2.50/24"), vip("2001:db8::50/64")]}, "virtual_ipaddresses",
     "one address family"),
    ({"virtual_ipaddresses": [vip("2001:db8::50/64")]}, "virtual_ipaddresses", "version: 3"),
    ({"virtual_ipaddresses": []}, "virtual_ipaddresses", "at least one"),
    ({"unicast_src_ip": "192.0.2.11", "unicast_peers": ["192.0.2.11"]}, "unicast_peers[0]", "own unicast_src_ip"),
    ({"unicast_src_ip": "192.0.2.11", "unicast_peers": ["192.0.2.12", "192.0.2.12"]}, "unicast_peers[1]", "twice"),
    ({"unicast_peers": ["192.0.2.x"]}, "unicast_peers[0]", "not an IP address"),
    ({"track_scripts": [{"name": "chk", "weight": 254}]}, "track_scripts[0].weight", "-253 and 253"),
    ({"track_scripts": [{"name": "c k", "weight": None}]}, "track_scripts[0].name", "not a valid name"),
    ({"notify_master": "notify.sh"}, "notify_master", "absolute path"),
    ({"name": "VI 1"}, "name", "letters, digits"),
    ({"interface": "eth0 x"}, "interface", "not an interface name"),
    ({"garp_master_delay": -1}, "garp_master_delay", "0 or more"),
])
def test_bad_field_named_with_value(fields, field, words):
    with pytest.raises(KeepalivedInputError) as caught:
        instance(params(**fields))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}=") and words in str(caught.value)


def test_password_never_in_an_error():
    with pytest.raises(KeepalivedInputError) as caught:
        instance(params(auth_pass="toolongsecret"))
    assert "toolongsecret" not in str(caught.value)


@pytest.mark.parametrize(("rc", "out", "err", "verdict"), [
    (0, "", "", None),
    (5, "", "(conf.d/VI_1.conf: Line 9) Truncating auth_pass to 8 characters", "Truncating auth_pass"),
    (0, "", "Config files missing 't/nonexist.conf'.", "Config files missing"),
    (0, "", "(Line 4) Config files missing '/etc/keepalived/nothing/*.conf'.", "Config files missing"),
    (143, "", "", "non-root script_user"),
    (6, "", "SECURITY VIOLATION - scripts are being executed but script_security not enabled.", "SECURITY"),
    (5, "", "", "exited 5"),
])
def test_config_test_verdict(rc, out, err, verdict):
    problem = config_test_problem(rc, out, err)
    assert (problem is None) if verdict is None else (verdict in problem)


def test_includes_relative_and_absolute():
    main = "global_defs {\n}\ninclude conf.d/*.conf\n  include /etc/keepalived/scripts/*.conf\n"
    assert included("/etc/keepalived/conf.d/VI_1.conf", main, "/etc/keepalived")
    assert included("/etc/keepalived/scripts/x.conf", main, "/etc/keepalived")
    assert not included("/srv/vrrp/VI_1.conf", main, "/etc/keepalived")


def test_restage_moves_only_includes_under_the_staged_directories():
    text = "include /etc/keepalived/conf.d/*.conf\ninclude /srv/other/*.conf\nscript /etc/keepalived/chk.sh\n"
    moved = restage_includes(text, {"/etc/keepalived": "/run/stage/main"})
    assert moved.splitlines() == ["include /run/stage/main/conf.d/*.conf", "include /srv/other/*.conf",
                                  "script /etc/keepalived/chk.sh"]
    assert restage_includes("include /etc/keepalivedX/a.conf\n", {"/etc/keepalived": "/s"}) == \
        "include /etc/keepalivedX/a.conf\n"


def test_live_state_from_the_dump_without_the_password():
    dump = (FIXTURES / "keepalived_dump.json").read_text()
    assert "s3cr!t" in dump
    live = live_instances(dump)
    assert live["VI_1"]["state"] == "FAULT" and live["VI_1"]["base_priority"] == 100
    assert live["VI_1"]["vips"] == ["192.0.2.50/24 dev eth0 scope global label eth0:1"]
    assert "s3cr!t" not in repr(live)
    inst = instance(params())
    assert applied(live["VI_1"], inst)
    assert not applied(live["VI_1"], instance(params(priority=101)))
    assert not applied(live["VI_1"], instance(params(virtual_ipaddresses=[vip("192.0.2.51/24")])))
    assert applied(None, None) and not applied(live["VI_1"], None) and not applied(None, inst)
