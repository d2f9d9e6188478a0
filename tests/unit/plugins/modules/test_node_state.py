"""node_state: the parsers over captured output, the file comparison on real files in a temporary directory,
and main() with systemctl, dpkg-query and ip answered by a fake run_command that refuses anything else."""

from __future__ import annotations

import getpass
import grp
import os

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._node_state import (
    file_state,
    parse_dpkg,
    parse_rpm,
    parse_units,
    read_sysctl,
    sysctl_path,
)
from ansible_collections.linux_cluster.lvs.plugins.modules import node_state

SYSTEMCTL = """Id=chrony.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Id=nothere.service
LoadState=not-found
ActiveState=inactive
UnitFileState=
"""

DPKG = "chrony\tii \t4.3-2+deb12u1\nnginx-light\trc \t1.22.1-9\n"


def test_units_in_the_order_asked_by_the_names_asked():
    assert parse_units(SYSTEMCTL, ["chrony", "nothere.service"]) == {
        "chrony": {"load": "loaded", "enabled": "enabled", "active": "active", "enabled_and_active": True},
        "nothere.service": {"load": "not-found", "enabled": "", "active": "inactive", "enabled_and_active": False},
    }
    assert parse_units("", []) == {}


def test_only_installed_packages_count():
    assert parse_dpkg(DPKG) == {"chrony": "4.3-2+deb12u1"}
    assert parse_rpm("keepalived\t2.2.8-3.el9\npackage ipvsadm is not installed\n") == {"keepalived": "2.2.8-3.el9"}


@pytest.fixture
def some_file(tmp_path):
    path = tmp_path / "unit.service"
    path.write_text("[Unit]\nDescription=x\n")
    path.chmod(0o644)
    return str(path)


@pytest.mark.parametrize("declared, same", [
    ({}, True),
    ({"content": "[Unit]\nDescription=x\n"}, True),
    ({"content": "[Unit]\nDescription=x"}, False),
    ({"content": "[Unit]\nDescription=y\n"}, False),
    ({"mode": "0644"}, True),
    ({"mode": "644"}, True),
    ({"mode": "0600"}, False),
    ({"owner": getpass.getuser(), "group": grp.getgrgid(os.getgid()).gr_name}, True),
    ({"owner": "nobody-such"}, False),
    ({"state": "directory"}, False),
])
def test_a_file_is_same_only_when_every_declared_attribute_is(some_file, declared, same):
    seen = file_state({"path": some_file, **declared})
    assert seen["same"] is same and seen["exists"] and seen["state"] == "file" and seen["mode"] == "0644"
    assert "content" not in seen


def test_missing_paths_and_directories(tmp_path):
    assert file_state({"path": str(tmp_path / "none")}) == {"exists": False, "same": False}
    assert file_state({"path": str(tmp_path), "state": "directory"})["same"] is True
    assert file_state({"path": str(tmp_path), "content": "x"})["same"] is False


def fake_commands(monkeypatch, answers: dict):
    """run_command answering the argv lists given (by their first word's name), failing on anything else."""
    asked = []

    def run_command(self, argv, **_kwargs):
        asked.append(argv)
        name = os.path.basename(argv[0])
        if name not in answers:
            raise AssertionError(f"unexpected command {argv}")
        return answers[name]
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: f"/usr/bin/{name}"
                        if name in answers else None)
    return asked


def test_main_reads_all_at_once_and_never_returns_a_content(monkeypatch, run_module, some_file, tmp_path):
    secret = tmp_path / "keepalived.conf"
    secret.write_text("auth_pass secret\n")
    asked = fake_commands(monkeypatch, {"systemctl": (0, SYSTEMCTL, ""), "dpkg-query": (1, DPKG, "no nginx"),
                                        "ip": (0, '[{"ifname": "lo", "flags": ["LOOPBACK", "UP"]}]', "")})
    failed, result = run_module(node_state.main, {
        "files": [{"path": str(secret), "content": "auth_pass secret\n"}, {"path": some_file, "read": True}],
        "units": ["chrony", "nothere.service"], "packages": ["chrony", "nginx-light"], "node": True,
        "_ansible_check_mode": True})
    assert not failed and result["changed"] is False
    assert result["files"][some_file] == {"exists": True, "state": "file", "mode": "0644", "owner": getpass.getuser(),
                                          "group": grp.getgrgid(os.getgid()).gr_name, "same": True,
                                          "content": "[Unit]\nDescription=x\n"}
    assert result["files"][str(secret)]["same"] is True and "content" not in result["files"][str(secret)]
    assert result["units"]["chrony"]["active"] == "active"
    assert result["packages"] == {"chrony": "4.3-2+deb12u1", "nginx-light": None}
    assert result["node"] == {"name": os.uname().nodename, "links": [{"ifname": "lo", "flags": ["LOOPBACK", "UP"]}]}
    assert [argv[1] for argv in asked] == ["show", "-W", "-j"]
    assert "secret" not in str(result)


def test_main_without_dpkg_asks_rpm(monkeypatch, run_module):
    fake_commands(monkeypatch, {"rpm": (1, "keepalived\t2.2.8-3.el9\npackage ipvsadm is not installed\n", "")})
    failed, result = run_module(node_state.main, {"packages": ["keepalived", "ipvsadm"]})
    assert not failed and result["packages"] == {"keepalived": "2.2.8-3.el9", "ipvsadm": None}


@pytest.mark.parametrize("files, message", [
    ([{"path": "etc/hosts"}], "files[0].path='etc/hosts': an absolute path"),
    ([{"path": "/etc/hosts", "mode": "u+rw"}], "files[0].mode='u+rw': an octal mode such as '0644'"),
    ([{"path": "/etc/hosts", "mode": "06444"}], "files[0].mode='06444'"),
])
def test_bad_input_is_named(monkeypatch, run_module, files, message):
    fake_commands(monkeypatch, {})
    failed, result = run_module(node_state.main, {"files": files})
    assert failed and message in result["msg"]


def test_a_failing_command_is_reported(monkeypatch, run_module):
    fake_commands(monkeypatch, {"systemctl": (1, "", "Failed to connect to bus")})
    failed, result = run_module(node_state.main, {"units": ["chrony"]})
    assert failed and result["msg"] == (
        "/usr/bin/systemctl show --property=Id,LoadState,UnitFileState,ActiveState -- chrony: exit status 1: "
        "Failed to connect to bus")


def test_sysctls_are_read_from_proc_and_a_missing_one_is_none(monkeypatch, run_module):
    assert sysctl_path("net.ipv4.conf.eth0/100.arp_ignore") == "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore"
    fake_commands(monkeypatch, {})
    failed, result = run_module(node_state.main, {"sysctls": ["kernel.ostype", "no.such.setting", "kernel/../x"]})
    assert not failed and result["sysctls"] == {"kernel.ostype": "Linux", "no.such.setting": None, "kernel/../x": None}
    assert read_sysctl("") is None
