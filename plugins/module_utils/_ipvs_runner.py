# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that runs ipvsadm: argv lists, LC_ALL=C, kernel module check."""

from __future__ import annotations

import os
import time

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ipvs_netlink as netlink
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import ordered, public_service, service_key
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import plan
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (
    command_line,
    command_service_key,
    parse_list,
    parse_realserver_command,
    parse_save,
    parse_timeouts,
    restore_script,
    save_text,
    service_args,
)

PROC_IPVS = "/proc/net/ip_vs"
# Generic netlink where the kernel offers it: the table read (one socket, every attribute; else ipvsadm's two
# processes and two parses) and changes of real servers alone made (no process started; else ipvsadm).
OVER_NETLINK = True
LIST_COLUMNS = ("forwarding", "weight", "active_connections", "inactive_connections")
THRESHOLD_COLUMNS = ("upper_threshold", "lower_threshold", "active_connections", "inactive_connections")


class IPVSCommandError(RuntimeError):
    """ipvsadm exited non-zero."""


class IPVSAdm:
    def __init__(self, module, proc_path: str | None = None):
        self.module = module
        self.proc_path = proc_path or PROC_IPVS
        self.binary = module.get_bin_path("ipvsadm", required=True)
        self.invocations = 0

    def run(self, args: list[str], data: str | None = None) -> str:
        self.invocations += 1
        rc, out, err = self.module.run_command([self.binary, *args], data=data, binary_data=data is not None,
                                               environ_update={"LC_ALL": "C"})
        if rc != 0:
            shown = command_line(args) + (" (batch on stdin)" if data else "")
            raise IPVSCommandError(f"'{shown}' failed with rc={rc}: {(err or out).strip()}")
        return out

    def kernel_ready(self, load: bool) -> bool:
        """True when IPVS is available; with `load`, try to load ip_vs first."""
        if os.path.exists(self.proc_path):
            return True
        if not load:
            return False
        modprobe = self.module.get_bin_path("modprobe")
        if modprobe is None:
            raise IPVSCommandError("the ip_vs kernel module is not loaded and modprobe was not found")
        rc, out, err = self.module.run_command([modprobe, "ip_vs"], environ_update={"LC_ALL": "C"})
        if rc != 0 or not os.path.exists(self.proc_path):
            raise IPVSCommandError(
                "the ip_vs kernel module is not loaded and 'modprobe ip_vs' failed "
                f"(rc={rc}): {(err or out).strip() or 'no /proc/net/ip_vs afterwards'}; "
                "IPVS needs a kernel with CONFIG_IP_VS (in a container, load ip_vs on the host)")
        return True

    def read_table_and_connections(self) -> tuple[dict, dict]:
        """The live table, every attribute included, and {(service key, rs key): connection counts}.

        Over netlink where the kernel offers it. Otherwise with ipvsadm: `ipvsadm -S` leaves thresholds out,
        they come from `-Ln --thresholds`, which also counts each real server's active and inactive connections.
        """
        if OVER_NETLINK:
            try:
                return netlink.read_table_and_connections()
            except netlink.NetlinkUnavailable:
                pass
        table = parse_save(self.run(["-Sn"]))
        connections: dict = {}
        if any(svc["realservers"] for svc in table.values()):
            listed = parse_list(self.run(["-Ln", "--thresholds"]), THRESHOLD_COLUMNS)
            for key, svc in table.items():
                rows = listed.get(key, {}).get("realservers", {})
                for rkey, rs in svc["realservers"].items():
                    row = rows.get(rkey, {})
                    rs["upper_threshold"] = row.get("upper_threshold", rs["upper_threshold"])
                    rs["lower_threshold"] = row.get("lower_threshold", rs["lower_threshold"])
                    connections[(key, rkey)] = {name: row.get(name, 0)
                                                for name in ("active_connections", "inactive_connections")}
        return table, connections

    def read_table(self) -> dict:
        return self.read_table_and_connections()[0]

    def read_services(self, named: dict) -> dict:
        """Only the services `named` ({key: a service of that identity}), as the kernel holds them now: over
        netlink one by one, else the whole table read and cut down."""
        if OVER_NETLINK:
            try:
                return netlink.read_services([named[key] for key in ordered(named)])
            except netlink.NetlinkUnavailable:
                pass
        return {key: svc for key, svc in self.read_table().items() if key in named}

    def read_connections(self, svc: dict) -> dict:
        """{rs_key: {'active_connections': n, 'inactive_connections': n, ...}} of one service."""
        listed = parse_list(self.run(["-Ln", *service_args(svc)]), LIST_COLUMNS)
        return listed.get(service_key(svc), {}).get("realservers", {})

    def read_timeouts(self) -> dict:
        return parse_timeouts(self.run(["-Ln", "--timeout"]))

    def apply(self, commands: list[list[str]]) -> None:
        """Changes of real servers alone go to the kernel over netlink, in order. Otherwise one command runs as
        is, and several go through one `ipvsadm -R` batch."""
        if OVER_NETLINK and commands and all(command[0] in netlink.DEST_COMMANDS for command in commands):
            try:
                netlink.change_realservers([parse_realserver_command(command) for command in commands])
                return
            except netlink.NetlinkUnavailable:
                pass
            except netlink.ChangeRefused as exc:
                raise IPVSCommandError(f"'{command_line(commands[exc.index])}' (over netlink) refused by the "
                                       f"kernel: {exc.strerror}") from None
        if len(commands) == 1:
            self.run(commands[0])
        elif commands:
            self.run(["-R"], data=restore_script(commands))


class Change:
    """The live table taken through one or more desired tables (a drain, then a removal),
    applied unless in check mode and verified after each step, reported as one result."""

    def __init__(self, module, ipvs: IPVSAdm, current: dict, shown_keys=None):
        self.module = module
        self.ipvs = ipvs
        self.before = current
        self.table = current
        self.shown_keys = shown_keys
        self.commands: list[list[str]] = []

    def to(self, desired: dict) -> bool:
        """Converge to `desired`; True when that took commands."""
        commands = plan(self.table, desired)
        if commands and not self.module.check_mode:
            self.ipvs.apply(commands)
            # What the commands touched, read back from the kernel and compared with the declaration.
            touched = {command_service_key(command) for command in commands}
            wanted = {key: desired[key] for key in touched & desired.keys()}
            left = plan(self.ipvs.read_services({key: desired.get(key) or self.table[key] for key in touched}), wanted)
            if left:
                raise IPVSCommandError("ipvsadm accepted the changes but the table still differs; "
                                       "remaining: " + "; ".join(command_line(c) for c in left))
        self.commands += commands
        self.table = desired
        return bool(commands)

    def result(self) -> dict:
        """changed, the commands (run, or that would run in check mode) and, with --diff, the
        shown services before the first step and after the last, in `ipvsadm -S` form."""
        result: dict = {"changed": bool(self.commands), "commands": [command_line(c) for c in self.commands]}
        if self.module._diff:
            def shown(table):
                return table if self.shown_keys is None else {k: v for k, v in table.items() if k in self.shown_keys}
            result["diff"] = {"before": save_text(shown(self.before)), "after": save_text(shown(self.table)),
                              "before_header": "ipvsadm -Sn (before)", "after_header": "ipvsadm -Sn (after)"}
        return result


def wait_drained(ipvs: IPVSAdm, svc: dict, rkey: tuple, timeout: float, interval: float = 1.0) -> int:
    """Wait until real server `rkey` of `svc` has no active connections; return what is left."""
    deadline = time.monotonic() + timeout
    while True:
        row = ipvs.read_connections(svc).get(rkey)
        active = row["active_connections"] if row else 0
        if active == 0 or time.monotonic() >= deadline:
            return active
        time.sleep(interval)


def services_result(table: dict) -> list[dict]:
    return [public_service(table[key]) for key in ordered(table)]
