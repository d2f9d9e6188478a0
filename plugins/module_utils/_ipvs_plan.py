# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the ipvsadm commands that turn one IPVS table into another. Pure functions.

Every module builds the whole desired table (the current one with its change
applied) and hands both tables to `plan`, so there is one comparison for all,
over every setting declared in _ipvs_options.
"""

from __future__ import annotations

import copy

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import ordered, rs_key, service_key
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER_ATTRS,
    SERVICE_ATTRS,
    join_hostport,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import (
    realserver_args,
    service_args,
    service_settings_args,
)


def differs(have: dict, want: dict, attrs: tuple[str, ...]) -> bool:
    return any(have[attr] != want[attr] for attr in attrs)


def plan(current: dict, desired: dict) -> list[list[str]]:
    """ipvsadm argument lists (without the program) turning `current` into `desired`.

    Services to remove go first (freeing their real servers' connections),
    then each desired service is added or edited with its real servers.
    """
    commands: list[list[str]] = []
    for key in ordered(current.keys() - desired.keys()):
        commands.append(["-D", *service_args(current[key])])
    for key in ordered(desired):
        want = desired[key]
        have = current.get(key)
        ident = service_args(want)
        if have is None:
            commands.append(["-A", *ident, *service_settings_args(want)])
            have_rs: dict = {}
        else:
            if differs(have, want, SERVICE_ATTRS):
                commands.append(["-E", *ident, *service_settings_args(want)])
            have_rs = have["realservers"]
        want_rs = want["realservers"]
        for rkey in ordered(have_rs.keys() - want_rs.keys()):
            commands.append(["-d", *ident, "-r", join_hostport(*rkey)])
        for rkey in ordered(want_rs):
            if rkey not in have_rs:
                commands.append(["-a", *ident, *realserver_args(want_rs[rkey])])
            elif differs(have_rs[rkey], want_rs[rkey], REALSERVER_ATTRS):
                commands.append(["-e", *ident, *realserver_args(want_rs[rkey])])
    return commands


def with_service(table: dict, svc: dict | None, key: tuple) -> dict:
    """A copy of `table` where service `key` is replaced by `svc` (or removed when None)."""
    result = dict(table)
    if svc is None:
        result.pop(key, None)
    else:
        result[key] = svc
    return result


def with_realserver(table: dict, key: tuple, rs: dict | None, rkey: tuple) -> dict:
    """A copy of `table` whose service `key` has real server `rkey` set to `rs` (or removed)."""
    svc = copy.copy(table[key])
    svc["realservers"] = dict(svc["realservers"])
    if rs is None:
        svc["realservers"].pop(rkey, None)
    else:
        svc["realservers"][rs_key(rs)] = rs
    return with_service(table, svc, key)


def merge_declared(current: dict, declared: list[dict], purge: bool) -> dict:
    """The desired table of a whole-table declaration: declared services exactly,
    plus (unless `purge`) the undeclared services as they are now."""
    desired = {} if purge else dict(current)
    for svc in declared:
        desired[service_key(svc)] = svc
    return desired
