"""The modules through main(), with ipvsadm replaced by a fake table (see conftest.py)."""

from __future__ import annotations

import pytest

from ansible_collections.linux_cluster.lvs.plugins.modules import ipvs_info, ipvs_realserver, ipvs_rules, ipvs_service

TABLE = """-A -t 192.0.2.50:80 -s wrr
-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1
-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 3
-A -f 10 -s rr -p 300
"""

WEB = {"address": "192.0.2.50", "port": 80, "scheduler": "wrr",
       "realservers": [{"address": "192.0.2.21", "weight": 1}, {"address": "192.0.2.22", "weight": 3}]}


def test_service_no_change(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, WEB)
    assert not failed and result["changed"] is False and result["commands"] == []
    assert fake.mutations == []
    assert result["service"]["name"] == "tcp 192.0.2.50:80"
    assert [rs["weight"] for rs in result["service"]["realservers"]] == [1, 3]


def test_service_check_mode_makes_no_mutating_call(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    args = dict(WEB, scheduler="wlc", realservers=[{"address": "192.0.2.23"}], _ansible_check_mode=True,
                _ansible_diff=True)
    failed, result = run_module(ipvs_service.main, args)
    assert not failed and result["changed"] is True
    assert fake.mutations == []
    assert result["commands"] == [
        "ipvsadm -E -t 192.0.2.50:80 -s wlc",
        "ipvsadm -d -t 192.0.2.50:80 -r 192.0.2.21:80",
        "ipvsadm -d -t 192.0.2.50:80 -r 192.0.2.22:80",
        "ipvsadm -a -t 192.0.2.50:80 -r 192.0.2.23:80 -g -w 1",
    ]
    assert "-A -t 192.0.2.50:80 -s wrr" in result["diff"]["before"]
    assert "-A -t 192.0.2.50:80 -s wlc" in result["diff"]["after"]
    assert "-f 10" not in result["diff"]["after"]


def test_service_batch_goes_through_one_restore(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    args = dict(WEB, scheduler="wlc", realservers=[{"address": "192.0.2.23"}])
    failed, result = run_module(ipvs_service.main, args)
    assert not failed and result["changed"]
    mutating = fake.mutations
    assert mutating == [["/usr/sbin/ipvsadm", "-R"]]
    restore = next(data for argv, data in fake.calls if argv[1:] == ["-R"])
    assert restore.splitlines()[0] == "-E -t 192.0.2.50:80 -s wlc"
    assert list(fake.table[("tcp", "192.0.2.50", 80)]["realservers"]) == [("192.0.2.23", 80)]
    failed, again = run_module(ipvs_service.main, args)
    assert not failed and again["changed"] is False


def test_single_change_runs_ipvsadm_directly(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.60", "port": 443, "scheduler": "sh",
                                                    "scheduler_flags": ["sh-port"]})
    assert not failed and result["changed"]
    assert fake.mutations == [["/usr/sbin/ipvsadm", "-A", "-t", "192.0.2.60:443", "-s", "sh", "-b", "sh-port"]]


def test_service_without_realservers_option_keeps_them(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.50", "port": 80, "scheduler": "rr"})
    assert not failed and result["commands"] == ["ipvsadm -E -t 192.0.2.50:80 -s rr"]
    assert len(fake.table[("tcp", "192.0.2.50", 80)]["realservers"]) == 2


def test_service_absent_twice(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, {"fwmark": 10, "state": "absent"})
    assert not failed and result["changed"] and result["service"] is None
    assert fake.mutations == [["/usr/sbin/ipvsadm", "-D", "-f", "10"]]
    failed, result = run_module(ipvs_service.main, {"fwmark": 10, "state": "absent"})
    assert not failed and not result["changed"]


@pytest.mark.parametrize("args, message", [
    ({"address": "192.0.2.300", "port": 80}, "address='192.0.2.300'"),
    ({"address": "192.0.2.50", "port": 80, "realservers": [{"address": "192.0.2.21", "weight": 99999}]},
     "realservers[0].weight=99999"),
    ({"address": "192.0.2.50", "port": 80, "realservers": [{"address": "192.0.2.21", "upper_threshold": -1}]},
     "realservers[0].upper_threshold=-1"),
    ({"fwmark": -3}, "fwmark=-3"),
    ({"address": "192.0.2.50", "port": 80, "scheduler": "rr", "scheduler_flags": ["mh-port"]},
     "scheduler_flags='mh-port'"),
])
def test_bad_input_changes_nothing(fake_ipvs, run_module, args, message):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, args)
    assert failed and message in result["msg"]
    assert fake.calls == []


def test_ansible_choices_reject_unknown_scheduler(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.50", "port": 80, "scheduler": "fastest"})
    assert failed and "scheduler" in result["msg"] and "fastest" in result["msg"]
    assert fake.calls == []


def test_kernel_module_is_loaded_when_missing(fake_ipvs, run_module):
    fake = fake_ipvs("", loaded=False)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.60", "port": 80})
    assert not failed and result["changed"]
    assert fake.calls[0][0] == ["/usr/sbin/modprobe", "ip_vs"]


def test_check_mode_does_not_load_the_kernel_module(fake_ipvs, run_module):
    fake = fake_ipvs("", loaded=False)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.60", "port": 80, "_ansible_check_mode": True})
    assert not failed and result["changed"] and fake.calls == []


def test_missing_kernel_support_is_reported(fake_ipvs, run_module, monkeypatch):
    fake = fake_ipvs("", loaded=False)
    original = fake.run_command

    def no_modules(args, **kwargs):
        if args[0].endswith("modprobe"):
            fake.calls.append((list(args), None))
            return 1, "", "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0"
        return original(args, **kwargs)

    monkeypatch.setattr(fake, "run_command", no_modules)
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.60", "port": 80})
    assert failed and "ip_vs kernel module is not loaded" in result["msg"] and "Module ip_vs not found" in result["msg"]


def test_realserver_add_edit_and_missing_service(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    base = {"service_address": "192.0.2.50", "service_port": 80, "address": "192.0.2.21"}
    failed, result = run_module(ipvs_realserver.main, dict(base, weight=1))
    assert not failed and not result["changed"]
    failed, result = run_module(ipvs_realserver.main, dict(base, weight=5, upper_threshold=100))
    assert not failed and result["commands"] == ["ipvsadm -e -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5 -x 100"]
    assert fake.table[("tcp", "192.0.2.50", 80)]["realservers"][("192.0.2.21", 80)]["upper_threshold"] == 100
    failed, result = run_module(ipvs_realserver.main, dict(base, weight=5, upper_threshold=100))
    assert not failed and not result["changed"]
    before = len(fake.calls)
    failed, result = run_module(ipvs_realserver.main, dict(base, service_port=81))
    assert failed and "service tcp 192.0.2.50:81 does not exist" in result["msg"]
    assert all(argv[1] in ("-Sn", "-Ln") for argv, _data in fake.calls[before:])


def test_realserver_drained_and_removed(fake_ipvs, run_module):
    fake_ipvs(TABLE)
    base = {"service_address": "192.0.2.50", "service_port": 80, "address": "192.0.2.22"}
    failed, result = run_module(ipvs_realserver.main, dict(base, state="drained", drain_timeout=1))
    assert not failed and result["commands"] == ["ipvsadm -e -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 0"]
    assert result["active_connections"] == 0
    failed, result = run_module(ipvs_realserver.main, dict(base, state="absent", drain_before_remove=True))
    assert not failed and result["commands"] == ["ipvsadm -d -t 192.0.2.50:80 -r 192.0.2.22:80"]
    failed, result = run_module(ipvs_realserver.main, dict(base, state="absent"))
    assert not failed and not result["changed"]


def test_realserver_drain_timeout_leaves_it_drained(fake_ipvs, run_module, monkeypatch):
    fake = fake_ipvs(TABLE)
    fake.table[("tcp", "192.0.2.50", 80)]["realservers"][("192.0.2.22", 80)]["active"] = 4
    monkeypatch.setattr("ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_runner.time.sleep",
                        lambda _s: None)
    failed, result = run_module(ipvs_realserver.main, {
        "service_address": "192.0.2.50", "service_port": 80, "address": "192.0.2.22", "state": "absent",
        "drain_before_remove": True, "drain_timeout": 1})
    assert failed and "still has 4 active connection(s)" in result["msg"] and "not removed" in result["msg"]
    rs = fake.table[("tcp", "192.0.2.50", 80)]["realservers"][("192.0.2.22", 80)]
    assert rs["weight"] == 0


def test_rules_purge_and_timeouts(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    args = {"purge": True, "services": [WEB], "timeouts": {"tcp": 600, "udp": 60}}
    failed, result = run_module(ipvs_rules.main, dict(args, _ansible_check_mode=True))
    assert not failed and result["changed"] and fake.mutations == []
    assert result["commands"] == ["ipvsadm -D -f 10", "ipvsadm --set 600 0 60"]
    planned = result["rules"]
    assert planned.splitlines() == TABLE.splitlines()[:3]
    failed, result = run_module(ipvs_rules.main, args)
    assert result["rules"] == planned
    assert not failed and result["timeouts"] == {"tcp": 600, "tcpfin": 120, "udp": 60}
    assert result["service_count"] == 1 and result["realserver_count"] == 2
    failed, result = run_module(ipvs_rules.main, args)
    assert not failed and result["changed"] is False


def test_rules_text_keeps_thresholds_that_ipvsadm_save_drops(fake_ipvs, run_module):
    fake_ipvs(TABLE)
    limited = {"address": "192.0.2.21", "weight": 1, "upper_threshold": 500, "lower_threshold": 100}
    web = dict(WEB, realservers=[limited])
    failed, result = run_module(ipvs_rules.main, {"services": [web], "_ansible_check_mode": True})
    assert not failed
    assert "-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1 -x 500 -y 100" in result["rules"].splitlines()
    assert "-A -f 10 -s rr -p 300" in result["rules"].splitlines()


def test_rules_duplicate_and_bad_items(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    failed, result = run_module(ipvs_rules.main, {"services": [WEB, WEB]})
    assert failed and "services[1]: service tcp 192.0.2.50:80 is already declared at index 0" in result["msg"]
    failed, result = run_module(ipvs_rules.main, {"services": [{"fwmark": 3, "address": "192.0.2.1"}]})
    assert failed and result["msg"].startswith("services[0].fwmark=3:")
    failed, result = run_module(ipvs_rules.main, {"timeouts": {"tcp": 0}})
    assert failed and result["msg"].startswith("timeouts.tcp=0:")
    assert fake.calls == []


def test_apply_that_does_not_stick_fails(fake_ipvs, run_module, monkeypatch):
    fake = fake_ipvs(TABLE)
    monkeypatch.setattr(fake, "apply", lambda argv: "")
    failed, result = run_module(ipvs_service.main, {"address": "192.0.2.60", "port": 80})
    assert failed and "still differs" in result["msg"]


def test_info(fake_ipvs, run_module):
    fake = fake_ipvs(TABLE)
    web_rs = fake.table[("tcp", "192.0.2.50", 80)]["realservers"]
    web_rs[("192.0.2.21", 80)].update(active=2, inactive=7)
    web_rs[("192.0.2.22", 80)].update(inactive=1)
    original = fake.run_command

    def with_listings(args, **kwargs):
        if list(args[1:]) == ["-Ln", "--stats", "--exact"]:
            fake.calls.append((list(args), None))
            return 0, ("TCP  192.0.2.50:80  40 400 0 4000 0\n  -> 192.0.2.21:80  10 100 0 1000 0\n"
                       "  -> 192.0.2.22:80  30 300 0 3000 0\nFWM  10  0 0 0 0 0\n"), ""
        return original(args, **kwargs)

    fake.run_command = with_listings
    failed, result = run_module(ipvs_info.main, {"stats": True, "timeouts": True})
    assert not failed and result["available"] and not result["changed"]
    web = next(s for s in result["services"] if s["name"] == "tcp 192.0.2.50:80")
    assert web["stats"]["conns"] == 40 and web["stats"]["outpkts"] == 0
    assert [(rs["active_connections"], rs["inactive_connections"], rs["stats"]["conns"])
            for rs in web["realservers"]] == [(2, 7, 10), (0, 1, 30)]
    assert result["timeouts"] == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert fake.mutations == []
    # Connection counts come from the listing that also gives thresholds: no listing of its own.
    assert [argv[1:] for argv, _data in fake.calls] == [
        ["-Sn"], ["-Ln", "--thresholds"], ["-Ln", "--stats", "--exact"], ["-Ln", "--timeout"]]


def test_info_without_ipvs(fake_ipvs, run_module):
    fake = fake_ipvs("", loaded=False)
    failed, result = run_module(ipvs_info.main, {})
    assert not failed and result["available"] is False and result["services"] == []
    assert fake.calls == []
