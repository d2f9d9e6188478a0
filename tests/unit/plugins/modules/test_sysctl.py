"""sysctl_file and sysctl_arp: the pure model (names, values, the file, the boot value, the plan) and
main() against a fake /proc/sys and a fake boot configuration."""

from __future__ import annotations

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _sysctl_runner
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import InputError, InputErrors
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl import (
    arp_settings,
    boot_order,
    boot_value,
    dotted,
    parse_file,
    plan,
    proc_path,
    render,
    settings,
)
from ansible_collections.linux_cluster.lvs.plugins.modules import sysctl_arp, sysctl_file


def test_arp_settings_render_and_parse_round_trip():
    wanted = arp_settings(["lo", "eth0.100", "all"], {"arp_ignore": 1, "arp_announce": 2, "rp_filter": None})
    text = render(wanted, "sysctl_arp")
    assert text.splitlines()[1:] == [
        "net.ipv4.conf.all.arp_ignore = 1", "net.ipv4.conf.all.arp_announce = 2",
        "net.ipv4.conf.eth0/100.arp_ignore = 1", "net.ipv4.conf.eth0/100.arp_announce = 2",
        "net.ipv4.conf.lo.arp_ignore = 1", "net.ipv4.conf.lo.arp_announce = 2",
    ]
    assert parse_file(text) == wanted
    assert proc_path("net.ipv4.conf.eth0/100.rp_filter") == "net/ipv4/conf/eth0.100/rp_filter"


def test_names_in_either_spelling():
    assert dotted("net/ipv4/conf/eth0.100/arp_ignore") == "net.ipv4.conf.eth0/100.arp_ignore"
    assert dotted("net.ipv4.ip_forward") == "net.ipv4.ip_forward"
    assert parse_file("-net/ipv4/ip_forward = 1\n; a comment\n# another\n") == {"net.ipv4.ip_forward": "1"}


@pytest.mark.parametrize("interfaces, values, message", [
    ([], {"arp_ignore": 1}, "interfaces=[]"),
    (["eth0; reboot"], {"arp_ignore": 1}, "interfaces='eth0; reboot'"),
    (["../../x"], {"arp_ignore": 1}, "interfaces='../../x'"),
    (["all"], {"arp_ignore": 9}, "arp_ignore=9"),
    (["all"], {"arp_announce": 3}, "arp_announce=3"),
    (["all"], {}, "nothing to set"),
])
def test_bad_arp_input(interfaces, values, message):
    with pytest.raises(InputError) as exc:
        arp_settings(interfaces, values)
    assert str(exc.value).startswith(message)


def test_bad_settings_are_all_named():
    with pytest.raises(InputErrors) as exc:
        settings({"net.ipv4.ip_forward": "1\nkernel.x=1", "net..x": 1, "net.ipv4.ip_nonlocal_bind": True})
    assert [error.field for error in exc.value.errors] == ["settings.net.ipv4.ip_forward", "settings.net..x"]
    assert settings({"net.ipv4.tcp_rmem": "4096  87380 6291456", "net.ipv4.ip_forward": 1}) == {
        "net.ipv4.tcp_rmem": "4096\t87380\t6291456", "net.ipv4.ip_forward": "1"}


def test_boot_order_is_systemd_sysctls():
    listing = {"/etc/sysctl.d": ["99-sysctl.conf", "50-x.conf", "README"],
               "/usr/lib/sysctl.d": ["50-x.conf", "10-a.conf"]}
    assert boot_order(listing) == ["/usr/lib/sysctl.d/10-a.conf", "/etc/sysctl.d/50-x.conf",
                                   "/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf"]
    assert boot_order(listing, conf=None)[-1] == "/etc/sysctl.d/99-sysctl.conf"


def test_boot_value_the_last_assignment_a_glob_or_the_kernel_default():
    files = [("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 2\n"),
             ("/etc/sysctl.d/60-x.conf", "net.ipv4.conf.all.rp_filter = 1\n#net.ipv4.ip_forward=1\n")]
    assert boot_value("net.ipv4.conf.all.rp_filter", files) == "1"
    assert boot_value("net.ipv4.conf.lo.rp_filter", files) == "2"
    assert boot_value("net.ipv4.ip_forward", files) == "0"
    assert boot_value("net.ipv4.conf.default.send_redirects", []) == "1"
    assert boot_value("vm.swappiness", []) is None


def test_plan_changes_only_what_differs():
    live = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.lo.arp_ignore": "1"}
    assert plan(live, {"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.lo.arp_ignore": "1"},
                {"net.ipv4.ip_forward": "0"}) == {"net.ipv4.conf.all.arp_ignore": ("0", "1"),
                                                  "net.ipv4.ip_forward": ("1", "0")}
    assert plan(live, {}, {"net.ipv4.ip_forward": None}) == {}


@pytest.fixture
def proc(tmp_path, monkeypatch):
    root = tmp_path / "proc"
    for iface in ("all", "default", "lo", "eth0"):
        for key in ("arp_ignore", "arp_announce", "rp_filter", "send_redirects"):
            path = root / "net/ipv4/conf" / iface / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("1\n" if key == "send_redirects" else "0\n")
    for key in ("ip_forward", "ip_nonlocal_bind"):
        (root / "net/ipv4" / key).write_text("0\n")
    boot = tmp_path / "usr/lib/sysctl.d"
    boot.mkdir(parents=True)
    monkeypatch.setattr(_sysctl_runner, "PROC_SYS", str(root))
    monkeypatch.setattr(_sysctl_runner, "BOOT_DIRS", (str(tmp_path / "etc/sysctl.d"), str(boot)))
    monkeypatch.setattr(_sysctl_runner, "BOOT_CONF", str(tmp_path / "etc/sysctl.conf"))
    return root


def live(proc, name):
    return (proc / proc_path(name)).read_text().strip()


def test_arp_check_mode_then_apply_then_idempotent_then_absent(proc, tmp_path, run_module):
    conf = tmp_path / "90-arp.conf"
    args = {"interfaces": ["all", "lo"], "arp_ignore": 1, "arp_announce": 2, "path": str(conf)}
    failed, result = run_module(sysctl_arp.main, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result["changed"] and not conf.exists() and live(proc, "net.ipv4.conf.all.arp_ignore") == "0"
    assert "# live net.ipv4.conf.lo.arp_announce = 2" in result["diff"]["after"]
    failed, result = run_module(sysctl_arp.main, args)
    assert not failed and result["changed"]
    assert live(proc, "net.ipv4.conf.lo.arp_announce") == "2" and live(proc, "net.ipv4.conf.all.arp_ignore") == "1"
    assert "net.ipv4.conf.lo.arp_ignore = 1" in conf.read_text()
    assert result["settings"] == {"all.arp_announce": 2, "all.arp_ignore": 1, "lo.arp_announce": 2,
                                  "lo.arp_ignore": 1}
    assert "loaded" not in result  # sysctl_arp needs and manages no kernel modules
    failed, result = run_module(sysctl_arp.main, args)
    assert not failed and not result["changed"]
    (proc / "net/ipv4/conf/lo/arp_ignore").write_text("0\n")  # someone reset it by hand
    failed, result = run_module(sysctl_arp.main, args)
    assert result["changed"] and result["changed_settings"] == ["net.ipv4.conf.lo.arp_ignore"]
    failed, result = run_module(sysctl_arp.main, {"state": "absent", "path": str(conf)})
    assert not failed and result["changed"] and not conf.exists()
    assert live(proc, "net.ipv4.conf.lo.arp_announce") == "0"
    failed, result = run_module(sysctl_arp.main, {"state": "absent", "path": str(conf)})
    assert not failed and not result["changed"]


def test_absent_restores_the_boot_value_not_zero(proc, tmp_path, run_module):
    """rp_filter set to 2 by the distribution's configuration comes back as 2 when the real server goes."""
    (tmp_path / "usr/lib/sysctl.d/50-default.conf").write_text("net.ipv4.conf.*.rp_filter = 2\n")
    conf = tmp_path / "90-tun.conf"
    failed, _result = run_module(sysctl_arp.main, {"interfaces": ["all"], "rp_filter": 0, "path": str(conf)})
    (proc / "net/ipv4/conf/all/rp_filter").write_text("0\n")
    failed, result = run_module(sysctl_arp.main, {"state": "absent", "path": str(conf)})
    assert not failed and result["released"] == {"net.ipv4.conf.all.rp_filter": "2"}
    assert live(proc, "net.ipv4.conf.all.rp_filter") == "2"


def test_a_setting_dropped_from_the_file_goes_back(proc, tmp_path, run_module):
    """A NAT director turned DR: ip_forward leaves the file and returns to its boot value, send_redirects is set."""
    conf = tmp_path / "90-lvs-director.conf"
    failed, _result = run_module(sysctl_file.main, {"path": str(conf), "settings": {"net.ipv4.ip_forward": 1}})
    assert not failed and live(proc, "net.ipv4.ip_forward") == "1"
    dr = {"net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.default.send_redirects": 0}
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "settings": dr, "_ansible_diff": True})
    assert not failed and result["changed"], result
    assert live(proc, "net.ipv4.ip_forward") == "0" and live(proc, "net.ipv4.conf.all.send_redirects") == "0"
    assert result["released"] == {"net.ipv4.ip_forward": "0"}
    assert "# live net.ipv4.ip_forward = 0" in result["diff"]["after"]
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "state": "absent"})
    assert not failed and live(proc, "net.ipv4.conf.all.send_redirects") == "1" and not conf.exists()


def test_read_only_proc_sys_is_reported_not_fatal(proc, tmp_path, run_module, monkeypatch):
    monkeypatch.setattr(_sysctl_runner, "writable", lambda _name: False)
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda _self, text: warned.append(text))
    conf = tmp_path / "90-keepalived-ha.conf"
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "settings": {"net.ipv4.ip_nonlocal_bind": 1}})
    assert not failed and result["fixed"] == ["net.ipv4.ip_nonlocal_bind"] and result["changed_settings"] == []
    assert len(warned) == 1 and "read-only" in warned[0]
    assert conf.exists() and live(proc, "net.ipv4.ip_nonlocal_bind") == "0"


def test_missing_setting_or_interface_changes_nothing(proc, tmp_path, run_module):
    conf = tmp_path / "90-arp.conf"
    failed, result = run_module(sysctl_arp.main, {"interfaces": ["all", "eth9"], "arp_ignore": 1, "path": str(conf)})
    assert failed and result["msg"].startswith("interfaces='eth9': no such interface")
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "settings": {"net.ipv4.no_such": 1}})
    assert failed and result["msg"].startswith("settings.net.ipv4.no_such: the kernel has no such setting")
    assert not conf.exists() and live(proc, "net.ipv4.conf.all.arp_ignore") == "0"


def test_bad_value_is_rejected_by_choices(proc, tmp_path, run_module):
    failed, result = run_module(sysctl_arp.main, {"arp_announce": 5, "path": str(tmp_path / "x.conf")})
    assert failed and "arp_announce" in result["msg"] and live(proc, "net.ipv4.conf.all.arp_announce") == "0"


@pytest.mark.parametrize("path, message", [
    ("90-arp.conf", "must be an absolute path"),
    ("{tmp}", "is a directory"),
    ("{tmp}/missing/90-arp.conf", "directory {tmp}/missing does not exist"),
])
def test_bad_path_changes_nothing(proc, tmp_path, run_module, path, message):
    path = path.format(tmp=tmp_path)
    failed, result = run_module(sysctl_arp.main, {"interfaces": ["all", "lo"], "arp_ignore": 1, "path": path})
    assert failed and result["msg"] == f"path={path!r}: {message.format(tmp=tmp_path)}; nothing was changed"
    assert live(proc, "net.ipv4.conf.all.arp_ignore") == "0" and live(proc, "net.ipv4.conf.lo.arp_ignore") == "0"


@pytest.fixture
def kernel_modules(proc, tmp_path, monkeypatch):
    """A fake /sys/module and modules-load.d; modprobe (run_command) makes the module's directory and its settings
    appear, as the kernel does. The calls are recorded."""
    sys_module, load_dir = tmp_path / "sys/module", tmp_path / "etc/modules-load.d"
    sys_module.mkdir(parents=True)
    load_dir.mkdir(parents=True)
    monkeypatch.setattr(_sysctl_runner, "SYS_MODULE", str(sys_module))
    monkeypatch.setattr(_sysctl_runner, "MODULES_DIR", str(load_dir))
    calls = []

    def run_command(_self, argv, **_kwargs):
        calls.append(argv)
        (sys_module / argv[-1]).mkdir()
        (proc / "net/ipv4/vs").mkdir(parents=True)
        (proc / "net/ipv4/vs/sync_threshold").write_text("3\t50\n")
        (proc / "net/ipv4/vs/sync_refresh_period").write_text("0\n")
        return 0, "", ""
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda _self, name, **_kwargs: f"/usr/sbin/{name}")
    return load_dir, calls


SYNC = {"net.ipv4.vs.sync_threshold": "3 0", "net.ipv4.vs.sync_refresh_period": 2}


def test_modules_loaded_before_their_settings_and_listed_for_the_boot(proc, tmp_path, kernel_modules, run_module):
    load_dir, calls = kernel_modules
    conf = tmp_path / "90-sync.conf"
    args = {"path": str(conf), "settings": SYNC, "modules": ["ip_vs"]}
    # Check mode: nothing loaded or written, and the settings ip_vs would bring are not there to compare.
    failed, result = run_module(sysctl_file.main, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result["changed"] and result["loaded"] == ["ip_vs"], result
    assert calls == [] and not conf.exists() and not (load_dir / "90-sync.conf").exists()
    assert "# loaded ip_vs" in result["diff"]["after"]
    failed, result = run_module(sysctl_file.main, args)
    assert not failed and result["changed"] and result["loaded"] == ["ip_vs"], result
    assert calls == [["/usr/sbin/modprobe", "ip_vs"]]
    assert live(proc, "net.ipv4.vs.sync_threshold").split() == ["3", "0"]
    assert live(proc, "net.ipv4.vs.sync_refresh_period") == "2"
    assert (load_dir / "90-sync.conf").read_text().splitlines()[1:] == ["ip_vs"]
    failed, result = run_module(sysctl_file.main, args)
    assert not failed and not result["changed"] and result["loaded"] == [] and len(calls) == 1, result
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "state": "absent"})
    assert not failed and result["changed"] and not conf.exists() and not (load_dir / "90-sync.conf").exists()
    assert live(proc, "net.ipv4.vs.sync_refresh_period") == "0"


def test_a_modules_load_file_of_another_stays(proc, tmp_path, kernel_modules, run_module):
    load_dir, _calls = kernel_modules
    (load_dir / "90-fwd.conf").write_text("# the operator's\nbonding\n")
    conf = tmp_path / "90-fwd.conf"
    failed, _result = run_module(sysctl_file.main, {"path": str(conf), "settings": {"net.ipv4.ip_forward": 1}})
    assert not failed
    failed, _result = run_module(sysctl_file.main, {"path": str(conf), "state": "absent"})
    assert not failed and (load_dir / "90-fwd.conf").read_text() == "# the operator's\nbonding\n"


def test_bad_module_name_changes_nothing(proc, tmp_path, kernel_modules, run_module):
    _load_dir, calls = kernel_modules
    conf = tmp_path / "90-sync.conf"
    failed, result = run_module(sysctl_file.main, {"path": str(conf), "settings": SYNC, "modules": ["ip_vs; reboot"]})
    assert failed and result["msg"].startswith("modules[0]='ip_vs; reboot': not a kernel module name"), result
    assert calls == [] and not conf.exists()
