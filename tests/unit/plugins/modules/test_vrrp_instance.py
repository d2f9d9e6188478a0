"""vrrp_instance through main(), with systemctl and keepalived replaced by a fake that records every
call: check mode and bad input call nothing that changes the host, a refused config test writes
nothing, an apply tests, writes (0600), reloads and confirms from the dump; the secret never returns."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _keepalived_runner
from ansible_collections.linux_cluster.lvs.plugins.modules import vrrp_instance

SECRET = "Zq7!x#9p"
MUTATING = ("reload", "start", "restart", "stop")


class FakeHost:
    """systemctl and keepalived as the module sees them."""

    def __init__(self, tmp_path, running=True, test_rc=0, test_err=""):
        self.calls, self.running, self.test_rc, self.test_err = [], running, test_rc, test_err
        self.dump_path = str(tmp_path / "keepalived.json")
        self.config_dir = tmp_path / "etc/keepalived/conf.d"
        self.main = tmp_path / "etc/keepalived/keepalived.conf"
        self.main.parent.mkdir(parents=True)
        self.main.write_text("global_defs {\n}\ninclude conf.d/*.conf\n")
        self.staged = None

    def run_command(self, argv, **_kwargs):
        self.calls.append(argv)
        if argv[0] == "systemctl":
            verb = argv[1]
            if verb == "is-active":
                return (0 if self.running else 3), "", ""
            if verb == "show":
                return 0, "4242\n" if self.running else "0\n", ""
            if verb in ("start", "reload"):
                self.running = True
            return 0, "", ""
        if "--signum=JSON" in argv:
            return 0, "36\n", ""
        if "--config-test" in argv:
            staged_main = argv[argv.index("-f") + 1]
            self.staged = sorted(os.listdir(os.path.join(os.path.dirname(staged_main), "conf.d")))
            return self.test_rc, "", self.test_err
        raise AssertionError(f"unexpected command {argv}")

    def kill(self, pid, signum):
        """keepalived's JSON dump of what the instance file now says (password included, as keepalived does)."""
        assert (pid, signum) == (4242, 36)
        text = (self.config_dir / "VI_1.conf").read_text() if (self.config_dir / "VI_1.conf").exists() else ""
        entries = []
        if text:
            priority = int(text.split("priority ")[1].split()[0])
            entries.append({"data": {"iname": "VI_1", "state": 2, "base_priority": priority,
                                     "effective_priority": priority, "vrid": 51, "ifp_ifname": "eth0",
                                     "vips": ["192.0.2.50/24 dev eth0 scope global"], "auth_data": SECRET}})
        with open(self.dump_path, "w") as handle:
            json.dump(entries, handle)

    @property
    def mutations(self):
        return [argv for argv in self.calls if argv[0] == "systemctl" and argv[1] in MUTATING]


@pytest.fixture
def host(tmp_path, monkeypatch):
    def make(**kwargs):
        fake = FakeHost(tmp_path, **kwargs)
        monkeypatch.setattr(AnsibleModule, "run_command", lambda _self, argv, **kw: fake.run_command(argv, **kw))
        monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda _self, name, **_kw: name)
        monkeypatch.setattr(_keepalived_runner, "JSON_DUMP", fake.dump_path)
        monkeypatch.setattr(_keepalived_runner.os, "kill", fake.kill)
        return fake
    return make


def args(fake, **fields):
    base = {"name": "VI_1", "interface": "eth0", "virtual_router_id": 51, "priority": 150, "auth_pass": SECRET,
            "virtual_ipaddresses": [{"address": "192.0.2.50/24"}], "config_dir": str(fake.config_dir),
            "main_config": str(fake.main)}
    base.update(fields)
    return base


def test_check_mode_changes_nothing(host, run_module):
    fake = host(running=False)
    failed, result = run_module(vrrp_instance.main, dict(args(fake), _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result["changed"] and result["actions"] == []
    assert fake.mutations == [] and not fake.config_dir.exists()
    assert 'auth_pass "********"' in result["diff"]["after"]
    assert SECRET not in json.dumps(result)


def test_bad_input_calls_nothing(host, run_module):
    fake = host()
    failed, result = run_module(vrrp_instance.main, args(fake, priority=255))
    assert failed and result["msg"].startswith("priority=255") and "nothing was changed" in result["msg"]
    assert fake.calls == [] and not fake.config_dir.exists()


def test_refused_by_keepalived_writes_nothing(host, run_module):
    fake = host(test_rc=5, test_err="(conf.d/VI_1.conf: Line 3) WARNING - interface eth0 for vrrp_instance "
                                    "VI_1 doesn't exist")
    failed, result = run_module(vrrp_instance.main, args(fake))
    assert failed and "doesn't exist" in result["msg"] and "live files are untouched" in result["msg"]
    assert fake.staged == ["VI_1.conf"]
    assert fake.mutations == [] and not (fake.config_dir / "VI_1.conf").exists()


def test_apply_tests_writes_reloads_and_confirms(host, run_module):
    fake = host(running=True)
    failed, result = run_module(vrrp_instance.main, args(fake))
    assert not failed, result
    assert result["actions"] == ["tested", "written", "reloaded"]
    assert fake.mutations == [["systemctl", "reload", "keepalived"]]
    assert oct((fake.config_dir / "VI_1.conf").stat().st_mode & 0o777) == "0o600"
    assert f'auth_pass "{SECRET}"' in (fake.config_dir / "VI_1.conf").read_text()
    assert result["live"]["state"] == "MASTER" and result["live"]["base_priority"] == 150
    assert SECRET not in json.dumps(result) and not os.path.exists(fake.dump_path)
    fake.calls.clear()
    failed, again = run_module(vrrp_instance.main, args(fake))
    assert not failed and not again["changed"] and fake.mutations == []


def test_started_when_not_running(host, run_module):
    fake = host(running=False)
    failed, result = run_module(vrrp_instance.main, args(fake))
    assert not failed and result["actions"] == ["tested", "written", "started"]
    assert fake.mutations == [["systemctl", "start", "keepalived"]]


def test_main_configuration_must_include_the_instance(host, run_module):
    fake = host()
    fake.main.write_text("global_defs {\n}\ninclude other/*.conf\n")
    failed, result = run_module(vrrp_instance.main, args(fake))
    assert failed and result["msg"].startswith("config_dir=") and "silently ignore" in result["msg"]
    assert fake.mutations == []
