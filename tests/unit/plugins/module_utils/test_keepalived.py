"""keepalived instances as data: every bad field named with its value, the snippet, the masked secret,
the config test's verdict (with keepalived 2.2.7's traps) and the live state without the password."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.linux_cluster.lvs.plugins.doc_fragments.vrrp import ModuleDocFragment
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import InputError, InputErrors
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    INSTANCE_FIELDS,
    MASK,
    VRRP_INPUT,
    applied,
    config_test_problem,
    included,
    instance,
    live_instances,
    mask,
    public,
    render,
    render_script,
    restage_includes,
    script,
)

FIXTURES = Path(__file__).parent / "fixtures"
ROLE = Path(__file__).resolve().parents[4] / "roles/keepalived_ha"


def params(**fields):
    base = {key: spec.get("default") for key, spec in VRRP_INPUT.argument_spec.items()}
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
    ({"virtual_router_id": 0}, "virtual_router_id", "from 1 to 255"),
    ({"virtual_router_id": 256}, "virtual_router_id", "from 1 to 255"),
    ({"priority": 255}, "priority", "from 1 to 254"),
    ({"priority": 0}, "priority", "from 1 to 254"),
    ({"advert_int": 0.5}, "advert_int", "whole seconds"),
    ({"version": 3, "advert_int": 0.005}, "advert_int", "from 0.01 to 255"),
    ({"version": 3, "advert_int": 41}, "advert_int", "0.01 to 40.95"),
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
    ({"track_scripts": [{"name": "chk", "weight": 254}]}, "track_scripts[0].weight", "from -253 to 253"),
    ({"track_scripts": [{"name": "c k", "weight": None}]}, "track_scripts[0].name", "letters, digits"),
    ({"notify_master": "notify.sh"}, "notify_master", "absolute path"),
    ({"name": "VI 1"}, "name", "letters, digits"),
    ({"interface": "eth0 x"}, "interface", "not an interface name"),
    ({"garp_master_delay": -1}, "garp_master_delay", "from 0 to"),
])
def test_bad_field_named_with_value(fields, field, words):
    with pytest.raises(InputError) as caught:
        instance(params(**fields))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}=") and words in str(caught.value)


def test_password_never_in_an_error():
    with pytest.raises(InputError) as caught:
        instance(params(auth_pass="toolongsecret"))
    assert "toolongsecret" not in str(caught.value)


# keepalived -t's answers, as keepalived 2.2.7 gives them: the Python verdict and the role's shell script
# (roles/keepalived_ha/templates/usr/local/sbin/keepalived-config-test.j2) are run over the same cases.
CONFIG_TESTS = [
    (0, "", "", None),
    (5, "", "(conf.d/VI_1.conf: Line 9) Truncating auth_pass to 8 characters", "Truncating auth_pass"),
    (0, "", "Config files missing 't/nonexist.conf'.", "Config files missing"),
    (0, "", "(Line 4) Config files missing '/etc/keepalived/nothing/*.conf'.", "Config files missing"),
    (143, "", "", "non-root script_user"),
    (0, "", "Terminated", "non-root script_user"),
    (6, "", "SECURITY VIOLATION - scripts are being executed but script_security not enabled.", "SECURITY"),
    (5, "", "", "exited 5"),
]


@pytest.mark.parametrize(("rc", "out", "err", "verdict"), CONFIG_TESTS)
def test_config_test_verdict(rc, out, err, verdict):
    problem = config_test_problem(rc, out, err)
    assert (problem is None) if verdict is None else (verdict in problem)


@pytest.mark.parametrize(("rc", "out", "err", "verdict"), CONFIG_TESTS)
def test_the_roles_config_test_script_gives_the_same_verdict(tmp_path, rc, out, err, verdict):
    fake = tmp_path / "keepalived"
    fake.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(out)}\nprintf '%s' {shlex.quote(err)} >&2\nexit {rc}\n")
    fake.chmod(0o755)
    template = ROLE / "templates/usr/local/sbin/keepalived-config-test.j2"
    script = tmp_path / "keepalived-config-test"
    environment = jinja2.Environment()
    environment.filters["comment"] = lambda text: f"# {text}"
    script.write_text(environment.from_string(template.read_text()).render(
        ansible_managed="# managed", __platform_info={"paths": {"keepalived": str(fake)}}))
    run = subprocess.run(["sh", str(script), str(tmp_path / "keepalived.conf")], capture_output=True, text=True,
                         check=False)
    assert (run.returncode == 0) == (config_test_problem(rc, out, err) is None), (run.returncode, run.stdout)


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


def test_the_fragment_documents_exactly_the_argument_spec():
    fragment = yaml.safe_load(ModuleDocFragment.INSTANCE)["options"]

    def same(spec: dict, doc: dict) -> None:
        assert set(spec) == set(doc)
        for name, entry in spec.items():
            for key in ("type", "default", "choices", "elements", "required"):
                assert entry.get(key) == doc[name].get(key), (name, key)
            if "options" in entry:
                same(entry["options"], doc[name]["suboptions"])
    same(VRRP_INPUT.argument_spec, fragment)
    assert fragment["priority"]["default"] == 100 and "From V(1) to V(254)." in fragment["priority"]["description"]


def test_every_field_renders_in_declaration_order():
    inst = instance(params(
        initial_state="BACKUP", preempt_delay=3, auth_pass="pw", unicast_src_ip="192.0.2.11",
        unicast_peers=["192.0.2.12"], virtual_ipaddresses_excluded=[vip("2001:db8::50/64")],
        track_interfaces=[{"name": "eth1", "weight": -20}], track_scripts=[{"name": "chk", "weight": None}],
        track_files=[{"name": "down", "weight": None}], notify_master="/bin/m", notify_backup="/bin/b",
        notify_fault="/bin/f", notify_stop="/bin/s", notify="/bin/n", smtp_alert=True, garp_master_delay=1,
        garp_master_repeat=2, garp_master_refresh=3, garp_master_refresh_repeat=4, garp_lower_prio_delay=5,
        garp_lower_prio_repeat=6))
    words = [line.split()[0] for line in render(inst).splitlines()[2:-1] if line.startswith("    ") and
             not line.startswith("        ") and line.strip() != "}"]
    expected = [field.word for field in INSTANCE_FIELDS if field.render is not None and field.name != "nopreempt"]
    assert words == expected


def test_vrrp_scripts_render_every_field():
    entry = script({"name": "chk_nginx", "script": "/usr/bin/killall -0 nginx", "timeout": 2, "weight": -5,
                    "fall": 2, "rise": 1, "user": "root"})
    assert render_script(entry).splitlines() == [
        "vrrp_script chk_nginx {", '    script "/usr/bin/killall -0 nginx"', "    interval 1", "    timeout 2",
        "    weight -5", "    fall 2", "    rise 1", "    user root", "}"]
    with pytest.raises(InputErrors) as exc:
        script({"name": "c k", "script": "killall -0 nginx"})
    assert [error.field for error in exc.value.errors] == ["name", "script"]


def test_every_bad_field_of_an_instance_at_once():
    with pytest.raises(InputErrors) as exc:
        instance(params(virtual_router_id=0, priority=255, auth_pass="123456789", version=2,
                        virtual_ipaddresses=[vip("2001:db8::50/64")], nopreempt=True, initial_state="MASTER"))
    assert [error.field for error in exc.value.errors] == [
        "virtual_router_id", "priority", "auth_pass", "nopreempt", "virtual_ipaddresses"]
