"""Make the collection importable as ansible_collections.linux_cluster.lvs when pytest runs from the
repository (nothing is written: the package is registered in memory), and fakes for tests through main()."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _register_collection() -> None:
    """ansible_collections.linux_cluster.lvs -> this repository, unless it is already importable
    (as when the tests run from an installed collection tree)."""
    try:
        import ansible_collections.linux_cluster.lvs
        return
    except ImportError:
        pass
    try:
        import ansible_collections
    except ImportError:
        ansible_collections = types.ModuleType("ansible_collections")
        ansible_collections.__path__ = []
        sys.modules["ansible_collections"] = ansible_collections
    parent = ansible_collections
    for name, path in (("ansible_collections.linux_cluster", []),
                       ("ansible_collections.linux_cluster.lvs", [str(ROOT)])):
        package = types.ModuleType(name)
        package.__path__ = path
        sys.modules[name] = package
        setattr(parent, name.rsplit(".", 1)[1], package)
        parent = package


_register_collection()

import pytest  # noqa: E402
from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_runner  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (  # noqa: E402
    empty_service,
    service_key,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import join_hostport  # noqa: E402
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (  # noqa: E402
    _read_service_id,
    parse_realserver_command,
    parse_save,
    parse_save_line,
    save_text,
)

MUTATING = {"-A", "-E", "-D", "-a", "-e", "-d", "-R", "-C", "--set", "--restore", "--clear"}


LIST_FORWARD = {"route": "Route", "masquerade": "Masq", "tunnel": "Tunnel"}


def render_list(table: dict, thresholds: bool = True) -> str:
    """`ipvsadm -Ln --thresholds` (or plain `-Ln`) as ipvsadm prints it, for the fake below."""
    lines = ["IP Virtual Server version 1.2.1 (size=4096)",
             "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn",
             "  -> RemoteAddress:Port"]
    for key, svc in table.items():
        if key[0] == "fwmark":
            lines.append(f"FWM  {key[2]}" + (" IPv6" if key[1] == "ipv6" else "") + f" {svc['scheduler']}")
        else:
            lines.append(f"{key[0].upper():4} {join_hostport(key[1], key[2])} {svc['scheduler']}")
        for rs in svc["realservers"].values():
            first = (f"{rs['upper_threshold']:<10} {rs['lower_threshold']:<10}" if thresholds
                     else f"{LIST_FORWARD[rs['forwarding']]:7} {rs['weight']:<6}")
            counts = f"{rs.get('active', 0):<10} {rs.get('inactive', 0)}"
            lines.append(f"  -> {join_hostport(rs['address'], rs['port']):28} {first} {counts}")
    return "\n".join(lines) + "\n"


class FakeIPVS:
    """A stand-in for ipvsadm and the kernel table, for tests through main().

    It keeps a table, answers -Sn / -Ln --thresholds / -Ln --timeout, and applies
    -A/-E/-D/-a/-e/-d (alone or through -R) the way the kernel does, including
    its errors, so a module's verify step sees what really happened.
    """

    def __init__(self, text: str = "", loaded: bool = True):
        self.table = parse_save(text)
        self.loaded = loaded
        self.timeouts = [900, 120, 300]
        self.calls: list = []

    @property
    def mutations(self) -> list:
        return [args for args, _data in self.calls
                if (args[1:2] and args[1] in MUTATING) or args[0].endswith("modprobe")]

    def run_command(self, args, data=None, **_kwargs):
        args = list(args)
        self.calls.append((args, data))
        if args[0].endswith("modprobe"):
            self.loaded = True
            return 0, "", ""
        rest = args[1:]
        if rest == ["-Sn"]:
            return 0, save_text(self.table), ""
        if rest == ["-Ln", "--thresholds"]:
            return 0, render_list(self.table), ""
        if rest[:1] == ["-Ln"] and len(rest) >= 3:
            ident, _next = _read_service_id(rest, 1)
            key = service_key(empty_service(**ident))
            if key not in self.table:
                return 255, "", "No such service"
            return 0, render_list({key: self.table[key]}, thresholds=False), ""
        if rest == ["-Ln", "--timeout"]:
            tcp, tcpfin, udp = self.timeouts
            return 0, f"Timeout (tcp tcpfin udp): {tcp} {tcpfin} {udp}\n", ""
        if rest[:1] == ["--set"]:
            self.timeouts = [int(new) or old for new, old in zip(rest[1:], self.timeouts)]
            return 0, "", ""
        if rest == ["-R"]:
            for line in data.splitlines():
                error = self.apply(line.split())
                if error:
                    return 255, "", error
            return 0, "", ""
        error = self.apply(rest)
        return (255, "", error) if error else (0, "", "")

    def apply(self, argv: list) -> str:
        command = argv[0]
        ident, _next = _read_service_id(argv, 1)
        key = service_key(empty_service(**ident))
        if command in ("-A", "-E"):
            probe: dict = {}
            parse_save_line(probe, ["-A", *argv[1:]])
            if (command == "-A") == (key in self.table):
                return "Service already exists" if command == "-A" else "No such service"
            probe[key]["realservers"] = self.table[key]["realservers"] if command == "-E" else {}
            self.table[key] = probe[key]
            return ""
        if command == "-D":
            return "" if self.table.pop(key, None) is not None else "No such service"
        if key not in self.table:
            return "Service not defined"
        rs_table = self.table[key]["realservers"]
        _command, _ident, rs = parse_realserver_command(argv)
        if command == "-d":
            return "" if rs_table.pop((rs["address"], rs["port"]), None) is not None else "No such destination"
        exists = (rs["address"], rs["port"]) in rs_table
        if exists == (command == "-a"):
            return "Destination already exists" if exists else "No such destination"
        if exists:  # an edit keeps the live connections
            rs["active"] = rs_table[(rs["address"], rs["port"])].get("active", 0)
        rs_table[(rs["address"], rs["port"])] = rs
        return ""


@pytest.fixture
def fake_ipvs(monkeypatch, tmp_path):
    """Factory: fake_ipvs(save_text, loaded=True) -> FakeIPVS wired into AnsibleModule."""
    proc = tmp_path / "ip_vs"

    def make(text: str = "", loaded: bool = True) -> FakeIPVS:
        fake = FakeIPVS(text, loaded)
        if loaded:
            proc.write_text("")

        def run_command(_self, args, **kwargs):
            result = fake.run_command(args, **kwargs)
            if fake.loaded and not proc.exists():
                proc.write_text("")
            return result

        monkeypatch.setattr(_ipvs_runner, "PROC_IPVS", str(proc))
        # The fake answers ipvsadm's reads and changes; the kernel (netlink) is never asked in a unit test.
        monkeypatch.setattr(_ipvs_runner, "OVER_NETLINK", False)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda _self, name, *a, **k: "/usr/sbin/" + name)
        return fake

    return make


@pytest.fixture
def run_module(capsys):
    """run_module(main, args) -> (failed, result) with the module's JSON result."""

    def run(main, args: dict):
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            main()
        result = json.loads(capsys.readouterr().out)
        return exc.value.code != 0 or result.get("failed", False), result

    return run


__all__ = ["FakeIPVS", "render_list", "service_key"]
