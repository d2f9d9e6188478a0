"""sysctl_arp: pure planning and rendering, and main() against a fake /proc/sys."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl_arp import (
    SysctlInputError,
    parse_file,
    render,
    runtime_changes,
    sysctl_name,
    validate,
)
from ansible_collections.linux_cluster.lvs.plugins.modules import sysctl_arp


def test_render_and_parse_round_trip():
    wanted = validate(["lo", "eth0.100", "all"], {"arp_ignore": 1, "arp_announce": 2, "rp_filter": None})
    text = render(wanted)
    assert text.splitlines()[1:] == [
        "net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.all.arp_announce = 2",
        "net.ipv4.conf.eth0/100.arp_ignore = 1", "net.ipv4.conf.eth0/100.arp_announce = 2",
        "net.ipv4.conf.lo.arp_ignore = 1", "net.ipv4.conf.lo.arp_announce = 2",
    ]
    assert parse_file(text) == wanted
    assert sysctl_name("eth0.100", "rp_filter") == "net.ipv4.conf.eth0/100.rp_filter"


def test_runtime_changes_only_differences():
    wanted = {("all", "arp_ignore"): 1, ("all", "arp_announce"): 2}
    assert runtime_changes({("all", "arp_ignore"): 1, ("all", "arp_announce"): 0}, wanted) == \
        {("all", "arp_announce"): (0, 2)}


@pytest.mark.parametrize("interfaces, values, message", [
    ([], {"arp_ignore": 1}, "interfaces=[]"),
    (["eth0; reboot"], {"arp_ignore": 1}, "interfaces='eth0; reboot'"),
    (["../../x"], {"arp_ignore": 1}, "interfaces='../../x'"),
    (["all"], {"arp_ignore": 9}, "arp_ignore=9"),
    (["all"], {"arp_announce": 3}, "arp_announce=3"),
    (["all"], {}, "nothing to set"),
])
def test_bad_input(interfaces, values, message):
    with pytest.raises(SysctlInputError) as exc:
        validate(interfaces, values)
    assert str(exc.value).startswith(message)


@pytest.fixture
def proc(tmp_path, monkeypatch):
    root = tmp_path / "proc"
    for iface in ("all", "default", "lo", "eth0"):
        for key in ("arp_ignore", "arp_announce", "rp_filter"):
            path = root / "net/ipv4/conf" / iface / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("0\n")
    monkeypatch.setattr(sysctl_arp, "PROC_SYS", str(root))
    return root


def live(proc, iface, key):
    return int((proc / "net/ipv4/conf" / iface / key).read_text())


def test_check_mode_then_apply_then_idempotent_then_absent(proc, tmp_path, run_module):
    conf = tmp_path / "90-arp.conf"
    args = {"interfaces": ["all", "lo"], "arp_ignore": 1, "arp_announce": 2, "path": str(conf)}
    failed, result = run_module(sysctl_arp.main, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result["changed"] and not conf.exists() and live(proc, "all", "arp_ignore") == 0
    assert "# live net.ipv4.conf.lo.arp_announce = 2" in result["diff"]["after"]
    failed, result = run_module(sysctl_arp.main, args)
    assert not failed and result["changed"]
    assert live(proc, "lo", "arp_announce") == 2 and live(proc, "all", "arp_ignore") == 1
    assert "net.ipv4.conf.lo.arp_ignore = 1" in conf.read_text()
    assert result["settings"] == {"all.arp_announce": 2, "all.arp_ignore": 1, "lo.arp_announce": 2,
                                  "lo.arp_ignore": 1}
    failed, result = run_module(sysctl_arp.main, args)
    assert not failed and not result["changed"]
    (proc / "net/ipv4/conf/lo/arp_ignore").write_text("0\n")  # someone reset it by hand
    failed, result = run_module(sysctl_arp.main, args)
    assert result["changed"] and result["changed_settings"] == ["net.ipv4.conf.lo.arp_ignore"]
    failed, result = run_module(sysctl_arp.main, {"state": "absent", "path": str(conf)})
    assert not failed and result["changed"] and not conf.exists() and live(proc, "lo", "arp_announce") == 0
    failed, result = run_module(sysctl_arp.main, {"state": "absent", "path": str(conf)})
    assert not failed and not result["changed"]


def test_missing_interface_changes_nothing(proc, tmp_path, run_module):
    conf = tmp_path / "90-arp.conf"
    failed, result = run_module(sysctl_arp.main, {"interfaces": ["all", "eth9"], "arp_ignore": 1, "path": str(conf)})
    assert failed and result["msg"].startswith("interfaces='eth9': no such interface")
    assert not conf.exists() and live(proc, "all", "arp_ignore") == 0


def test_bad_value_is_rejected_by_choices(proc, tmp_path, run_module):
    failed, result = run_module(sysctl_arp.main, {"arp_announce": 5, "path": str(tmp_path / "x.conf")})
    assert failed and "arp_announce" in result["msg"] and live(proc, "all", "arp_announce") == 0


@pytest.mark.parametrize("path, message", [
    ("90-arp.conf", "must be an absolute path"),
    ("{tmp}", "is a directory"),
    ("{tmp}/missing/90-arp.conf", "directory {tmp}/missing does not exist"),
])
def test_bad_path_changes_nothing(proc, tmp_path, run_module, path, message):
    path = path.format(tmp=tmp_path)
    failed, result = run_module(sysctl_arp.main, {"interfaces": ["all", "lo"], "arp_ignore": 1, "path": path})
    assert failed and result["msg"] == f"path={path!r}: {message.format(tmp=tmp_path)}; nothing was changed"
    assert live(proc, "all", "arp_ignore") == 0 and live(proc, "lo", "arp_ignore") == 0
