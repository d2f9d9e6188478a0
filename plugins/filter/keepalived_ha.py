# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the keepalived_ha role. keepalived_ha_node turns the cluster's declaration into one node's
vrrp_instance arguments and vrrp_scripts, and checks them with vrrp_instance's own validation before any
node changes; vrrp_problems then compares the nodes' instances across the play.

The instance fields the role passes on, and which of them every node must agree on, come from the field
declarations in module_utils/_keepalived.py; the role adds only its own few (ROLE_INSTANCE_FIELDS)."""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import Field, argument_spec
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    InputError,
    errors_of,
    integer,
    ip_address,
    plain,
    problem_lines,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import MAX_TIMEOUT
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    INSTANCE,
    INSTANCE_FIELDS,
    SCRIPT,
    SHARED,
    VRRP_INPUT,
    release_commands,
    render_script,
    restart_delay,
    script,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import instance as checked_instance
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import (
    VIRTUAL_SERVERS_INPUT,
    render_sync_daemon,
    sync_daemon,
    sync_preempt_delay,
    sync_sysctls,
)

VARIABLE = "keepalived_ha_instances"
SCRIPTS = "keepalived_ha_scripts"
# The fields of the cluster's instances: those of vrrp_instance the role passes on, each per-node field's
# {host: value} map, and the role's own.
PASSED = tuple(field for field in INSTANCE_FIELDS if field.role)
PER_NODE = tuple(field for field in INSTANCE_FIELDS if field.per_node)
ROLE_INSTANCE_FIELDS = (
    *(Field(field.per_node, "dict", (f"O({field.name}) by inventory host name ({{dir1: ..., dir2: ...}}); hosts "
                                     f"not named get O({field.name}).",)) for field in PER_NODE),
    Field("unicast", "bool", ("Unicast adverts between the cluster's nodes (to each one's C(ansible_host)) instead "
                              "of multicast.",), default=False),
    Field("track_role_checks", "bool", ("The instance tracks the role's checks (the maintenance file and, when set, "
                                        "the process and URL checks); V(false) tracks only O(track_scripts).",),
          default=True),
)
# What the role requires of each instance (vrrp_instance requires them with state=present).
REQUIRED = ("name", "virtual_router_id", "virtual_ipaddresses")
PROCESS = re.compile(r"^[A-Za-z0-9_.:+@-]{1,15}$")
URL = re.compile(r"^https?://[^\s\"'\\]+$")
FILE = re.compile(r"^/[^\s\"'\\]*$")
ROUTER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# The role's checks: (name, the variables that set interval, weight, fall, rise).
MAINTENANCE = "chk_maintenance"
PROCESS_CHECK = "chk_process"
URL_CHECK = "chk_http"


def role_instance_spec() -> dict:
    """The argument spec of one item of keepalived_ha_instances (meta/argument_specs.yml holds it; a unit
    test keeps the two equal)."""
    spec = argument_spec(PASSED + ROLE_INSTANCE_FIELDS)
    for name in REQUIRED:
        spec[name]["required"] = True
    return spec


def _setting(problems: list, name: str, value, check) -> object:
    try:
        return check(name, value)
    except BAD_INPUT as exc:
        problems += errors_of(exc)
        return None


def _script_setting(field: str):
    return lambda name, value: SCRIPT[field].value(name, value, {})


def _process(name: str, value) -> str:
    if not isinstance(value, str) or not PROCESS.match(value):
        raise InputError(name, value, "a process name for pgrep -x (1-15 characters, no blanks or quotes)")
    return value


def _url(name: str, value) -> str:
    if not isinstance(value, str) or not URL.match(value):
        raise InputError(name, value, "an http:// or https:// URL without blanks or quotes")
    return value


def _file(name: str, value) -> str:
    if not isinstance(value, str) or not FILE.match(value):
        raise InputError(name, value, "an absolute path without blanks or quotes")
    return value


def role_scripts(settings: dict, problems: list) -> list[dict]:
    """The role's own vrrp_scripts from its variables, each variable checked under its own name."""
    paths = settings.get("paths") or {}
    weight = _setting(problems, "keepalived_ha_maintenance_weight", settings.get("maintenance_weight"),
                      _script_setting("weight"))
    down = _setting(problems, "keepalived_ha_maintenance_file", settings.get("maintenance_file"), _file)
    scripts = [{"name": MAINTENANCE, "script": f"{paths.get('test', '/usr/bin/test')} ! -e {down}", "interval": 1,
                "weight": weight}]
    timing = {field: _setting(problems, f"keepalived_ha_check_{field}", settings.get(f"check_{field}"),
                              _script_setting(field)) for field in ("interval", "fall", "rise", "weight")}
    if settings.get("check_process"):
        process = _setting(problems, "keepalived_ha_check_process", settings["check_process"], _process)
        scripts.append({"name": PROCESS_CHECK, "script": f"{paths.get('pgrep', '/usr/bin/pgrep')} -x {process}",
                        **timing})
    if settings.get("check_url"):
        url = _setting(problems, "keepalived_ha_check_url", settings["check_url"], _url)
        seconds = max(timing["interval"] or 1, 1)
        scripts.append({"name": URL_CHECK, "script": f"{paths.get('curl', '/usr/bin/curl')} -fsS -o /dev/null "
                        f"-m {seconds} {url}", **timing})
    return scripts


def user_scripts(declared: list, taken: list[str], problems: list) -> list[dict]:
    """keepalived_ha_scripts, every field checked with vrrp_script's declarations; names unique."""
    scripts = []
    for index, entry in enumerate(declared or []):
        where = f"{SCRIPTS}[{index}]"
        if not isinstance(entry, dict):
            problems.append(InputError(where, entry, "a vrrp_script {name, script, interval, ...} is required"))
            continue
        try:
            checked = script(entry, where)
        except BAD_INPUT as exc:
            problems += errors_of(exc)
            continue
        if checked["name"] in taken:
            why = "is already a script's name (the role's checks are chk_maintenance, chk_process and chk_http)"
            problems.append(InputError(f"{where}.name", checked["name"], why))
            continue
        taken.append(checked["name"])
        scripts.append(checked)
    return scripts


def node_instance(instance: dict, host: str, node: dict, role_checks: list[str]) -> dict:
    """The vrrp_instance arguments of one declared instance on `host`: the fields passed on as given, per-node
    fields from their {host: value} map, the interface (the instance's, the node's, else the one with an address in
    the network of the instance's first VIP), the role's checks and notify, and with
    `unicast` this node's address as source and the other nodes' as peers."""
    args = {field.name: instance[field.name] for field in PASSED if instance.get(field.name) is not None}
    for field in PER_NODE:
        value = (instance.get(field.per_node) or {}).get(host, instance.get(field.name))
        if value is not None:
            args[field.name] = value
    first_vip = next(iter(instance.get("virtual_ipaddresses") or [{}]), {})
    args["interface"] = (instance.get("interface") or node.get("interface")
                         or network_interface(node.get("links"), first_vip.get("address") if isinstance(first_vip, dict)
                                              else first_vip) or None)
    tracked = [{"name": name, "weight": None} for name in role_checks] if instance.get("track_role_checks", True) \
        else []
    if tracked or instance.get("track_scripts"):
        args["track_scripts"] = tracked + list(instance.get("track_scripts") or [])
    if node.get("notify"):
        args["notify"] = node["notify"]
    if instance.get("unicast"):
        addresses = node.get("addresses") or {}
        args["unicast_src_ip"] = addresses.get(host)
        args["unicast_peers"] = [address for other, address in sorted(addresses.items()) if other != host]
    return {name: value for name, value in args.items() if value is not None}


def _instance_problems(instances: list, node_args: list, host: str, defined: list[str]) -> list:
    problems: list = []
    names: dict[str, int] = {}
    for index, (instance, args) in enumerate(zip(instances, node_args)):
        parent = f"{VARIABLE}[{index}]"
        missing = [name for name in REQUIRED if instance.get(name) in (None, "", [])]
        if missing:
            problems += [f"{parent}.{name}: required" for name in missing]
            continue
        renamed = {field.name: f"{field.per_node}.{host}" for field in PER_NODE
                   if host in (instance.get(field.per_node) or {})}
        if "interface" not in args:
            problems.append(f"keepalived_ha_interface='': no interface of {host} has an address in the network of "
                            f"{parent}'s first VIP; set keepalived_ha_interface or {parent}.interface")
            args = dict(args, interface="lo")
        problems += problem_lines(VRRP_INPUT.problems(args), names=renamed, parent=parent)
        if instance["name"] in names:
            problems.append(f"{parent}.name={instance['name']!r}: also the name of "
                            f"{VARIABLE}[{names[instance['name']]}]")
        names.setdefault(instance["name"], index)
        for position, tracked in enumerate(instance.get("track_scripts") or []):
            name = tracked.get("name") if isinstance(tracked, dict) else None
            if name not in defined:
                problems.append(f"{parent}.track_scripts[{position}].name={name!r}: no such vrrp_script (defined: "
                                f"{', '.join(defined)}); keepalived refuses an instance that tracks a missing script")
    return problems


def _global_problems(settings: dict, instance_names: list[str]) -> list:
    problems: list = []
    _setting(problems, "keepalived_ha_mcast_group4", settings.get("mcast_group4"),
             lambda name, value: ip_address(name, value, version=4, multicast=True))
    router_id = settings.get("router_id")
    if not isinstance(router_id, str) or not ROUTER_ID.match(router_id):
        problems.append(InputError("keepalived_ha_router_id", router_id, "1-64 letters, digits, '_', '.', ':' or '-'"))
    refresh = settings.get("garp_master_refresh")
    _setting(problems, "keepalived_ha_garp_master_refresh", refresh,
             lambda name, value: INSTANCE["garp_master_refresh"].value(name, value, {}))
    for index, group in enumerate(settings.get("sync_groups") or []):
        where = f"keepalived_ha_sync_groups[{index}]"
        members = group.get("instances") if isinstance(group, dict) else None
        if not isinstance(group, dict) or not group.get("name") or not members:
            problems.append(InputError(where, group, "a sync group {name, instances: [instance names]} is required"))
            continue
        problems += [InputError(f"{where}.instances[{position}]", member, f"is not an instance of {VARIABLE}")
                     for position, member in enumerate(members) if member not in instance_names]
    return problems


def network_interface(links: list, vip) -> str:
    """The interface (in `ip -j addr show` output) with an address in the network of `vip`
    (ADDRESS/PREFIX), or ''. (A route lookup would name lo on the node that holds the VIP.)"""
    try:
        network = ipaddress.ip_interface(str(vip)).network
    except ValueError:
        return ""
    for link in links or []:
        for info in link.get("addr_info") or []:
            try:
                if ipaddress.ip_address(info.get("local", "")) in network:
                    return link.get("ifname") or ""
            except ValueError:
                continue
    return ""


def _link_problems(links: list, node_args: list, instances: list, host: str) -> list:
    """Each advert interface exists; one that carries multicast adverts has the MULTICAST flag (without it
    keepalived runs, hears nobody and every node takes the VIPs; the role does not switch it on behind the
    network configuration's back)."""
    flags = {link.get("ifname"): link.get("flags") or [] for link in links or []}
    problems, seen = [], set()
    for instance, args in zip(instances, node_args):
        interface = args.get("interface")
        if not interface or interface in seen or not flags:
            continue
        seen.add(interface)
        if interface not in flags:
            problems.append(f"interface {interface} of {host} does not exist (advert interface of "
                            f"{instance.get('name')})")
        elif "MULTICAST" not in flags[interface] and not instance.get("unicast"):
            problems.append(f"interface {interface} of {host} has multicast off, so VRRP adverts cannot go out or "
                            f"in: switch it on in its network configuration (ip link set dev {interface} multicast "
                            "on), or set unicast: true on the instances")
    return problems


def keepalived_ha_node(settings: dict) -> dict:
    """One node of the cluster: {instances: its vrrp_instance arguments, scripts: the vrrp_scripts of the main
    configuration (the role's checks, then the user's), scripts_text: their configuration text, problems:
    every bad input of this node, one sentence each, prefixed with the host}."""
    settings = plain(settings)
    if not isinstance(settings, dict) or "host" not in settings:
        raise AnsibleFilterError("keepalived_ha_node expects the role's settings as a dict with 'host'")
    host = settings["host"]
    instances = settings.get("instances") or []
    problems: list = []
    if not isinstance(instances, list) or not all(isinstance(instance, dict) for instance in instances):
        return {"instances": [], "interfaces": [], "scripts": [], "scripts_text": "", "sync_daemon_text": "",
                "sync_sysctls": {}, "release": [], "restart_delay": restart_delay([]),
                "problems": [f"{host}: {VARIABLE}: a list of instances (dicts) is required"]}
    scripts = role_scripts(settings, problems)
    scripts += user_scripts(settings.get("scripts"), [entry["name"] for entry in scripts], problems)
    role_checks = [entry["name"] for entry in scripts if entry["name"] in (MAINTENANCE, PROCESS_CHECK, URL_CHECK)]
    addresses = {peer: address or peer for peer, address in (settings.get("addresses") or {}).items()}
    node = {"interface": settings.get("interface"), "links": settings.get("links"), "notify": settings.get("notify"),
            "addresses": addresses}
    node_args = [node_instance(instance, host, node, role_checks) for instance in instances]
    problems += _instance_problems(instances, node_args, host, [entry["name"] for entry in scripts])
    problems += _link_problems(settings.get("links"), node_args, instances, host)
    problems += _global_problems(settings, [instance.get("name") for instance in instances])
    problems += problem_lines(VIRTUAL_SERVERS_INPUT.problems({"services": settings.get("virtual_servers") or []}),
                              names={"services": "keepalived_ha_virtual_servers"})
    # As ipvs_realserver takes it, which drains the real servers the table drops.
    _setting(problems, "keepalived_ha_drain_timeout", settings.get("drain_timeout", 0),
             lambda name, value: integer(name, value, 0, MAX_TIMEOUT))
    sync = _setting(problems, "keepalived_ha_lvs_sync_daemon", settings.get("lvs_sync_daemon"),
                    lambda name, value: sync_daemon(value, [instance.get("name") for instance in instances], name))
    # With connection sync a node that starts again waits for the master's connections before it takes the VIPs.
    for args in node_args if sync else []:
        if not args.get("nopreempt") and args.get("preempt_delay") is None \
                and args.get("initial_state", "BACKUP") == "BACKUP":
            args["preempt_delay"] = sync_preempt_delay(sync)
    lines = problem_lines(problems, f"{host}: ")
    whole = [entry for entry in scripts if entry.get("name") is not None and entry.get("script") is not None]
    text = "\n".join(render_script(entry) for entry in whole)
    # What the keepalived unit releases when keepalived dies, from the instances as vrrp_instance checks them.
    checked = [] if lines else [checked_instance(VRRP_INPUT.validate(args)[0]) for args in node_args]
    return {"instances": node_args, "interfaces": sorted({args["interface"] for args in node_args
                                                          if args.get("interface")}),
            "scripts": scripts, "scripts_text": text, "sync_daemon_text": render_sync_daemon(sync),
            "sync_sysctls": sync_sysctls(sync), "problems": lines,
            "release": release_commands(checked, (settings.get("paths") or {}).get("ip", "ip")),
            "restart_delay": restart_delay(checked)}


def _comparable(field: str, value):
    if field == "virtual_ipaddresses":
        return sorted(vip["address"] for vip in value)
    return value


def _shown(field: str, value) -> str:
    return "(secret)" if field == "auth_pass" else repr(value)


def vrrp_problems(instances_by_host: dict) -> list[str]:
    """{host: [vrrp_instance arguments, ...]} for every node of the play -> what would make the cluster
    misbehave, one sentence each: nodes that disagree on a field every node of an instance must share (VRID,
    VIPs, password, version, advert interval, nopreempt), a VRID used twice on one interface of a node, and no
    single highest priority (without nopreempt). Instances that fail their own checks are left out (the node's
    preflight reports them)."""
    instances_by_host = plain(instances_by_host)
    problems = []
    seen: dict[str, tuple[str, dict]] = {}
    priorities: dict[str, dict[str, int]] = {}
    for host in sorted(instances_by_host):
        vrids: dict[tuple, str] = {}
        for args in instances_by_host[host] or []:
            try:
                inst = VRRP_INPUT.check(VRRP_INPUT.validate(args)[0])
            except (*BAD_INPUT, KeyError, TypeError):
                continue
            if inst is None:
                continue
            name = inst["name"]
            shared = {field: _comparable(field, inst[field]) for field in SHARED}
            if name in seen:
                other, theirs = seen[name]
                problems += [f"instance {name}: {field} differs between {other} ({_shown(field, theirs[field])}) and "
                             f"{host} ({_shown(field, shared[field])})" for field in SHARED
                             if shared[field] != theirs[field]]
            else:
                seen[name] = (host, shared)
            key = (inst["interface"], inst["virtual_router_id"])
            if key in vrids:
                problems.append(f"{host}: virtual_router_id {key[1]} on {key[0]} is used by instances {vrids[key]} "
                                f"and {name}")
            vrids.setdefault(key, name)
            priorities.setdefault(name, {})[host] = inst["priority"]
    for name, by_host in sorted(priorities.items()):
        if seen[name][1]["nopreempt"] or len(by_host) < 2:
            continue
        top = max(by_host.values())
        highest = sorted(host for host, priority in by_host.items() if priority == top)
        if len(highest) > 1:
            problems.append(f"instance {name}: {' and '.join(highest)} share the highest priority {top}; "
                            "give exactly one node the highest")
    return problems


def held_vips(instances, links) -> list:
    """The VIPs (addresses, no prefix) of `instances` that this node holds: among the addresses of `links`
    (`ip -j addr show` output). A node that holds one is a master of its instance."""
    local = {info.get("local") for link in plain(links) or [] for info in link.get("addr_info") or []}
    held = []
    for instance in plain(instances) or []:
        for vip in instance.get("virtual_ipaddresses") or []:
            try:
                address = str(ipaddress.ip_interface(str(vip.get("address") if isinstance(vip, dict) else vip)).ip)
            except ValueError:
                continue
            if address in local and address not in held:
                held.append(address)
    return held


class FilterModule:
    def filters(self):
        return {"keepalived_ha_node": keepalived_ha_node, "vrrp_problems": vrrp_problems, "held_vips": held_vips}
