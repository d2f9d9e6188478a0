# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived as data: every field of a VRRP instance and of a vrrp_script declared once, the checks
and the configuration text derived from the declarations, the config test's verdict, includes, and the
live state from keepalived's JSON dump. Pure functions, no I/O.

One `Field` holds what the rest of the collection derives from it: vrrp_instance's argument spec and
its documentation (the `linux_cluster.lvs.vrrp` doc fragment), the check of a value, its place and
spelling in keepalived.conf (declaration order is render order), and how the keepalived_ha role treats
it: passed from the cluster's declaration, agreed by every node (`shared`), or set per node
(`per_node`, a {host: value} map such as `priorities`).

Adding an instance field: one `Field` in INSTANCE_FIELDS (its bounds or check, and its render); a rule
in `_instance_rules` only if it depends on other fields. keepalived_ha passes it on by itself.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import json
import math
import os
import re
import shlex
from collections.abc import Callable
from typing import Any

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import (
    Field,
    argument_spec,
    checked,
    number_text,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    InputError,
    ModuleInput,
    collect,
    errors_of,
    identifier,
    integer,
    interface_name,
    ip_address,
    raise_error,
)

MASK = "********"
STATES = {0: "INIT", 1: "BACKUP", 2: "MASTER", 3: "FAULT"}
# Printable ASCII without space, quote and backslash: what keepalived keeps inside a quoted word.
PASSWORD = re.compile(r'^[!#-\[\]-~]{1,8}$')
SCOPES = ("global", "site", "link", "host", "nowhere")
HEADER = "# Managed by linux_cluster.lvs.vrrp_instance: changes made here are replaced."
INDENT = "    "


# --- how values are written ------------------------------------------------------------------

def word(field: Field, value) -> list[str]:
    text = number_text(value) if isinstance(value, float) else str(value)
    return [f"{field.word} {text}"]


def flag(field: Field, value) -> list[str]:
    return [field.word] if value else []


def quoted(field: Field, value) -> list[str]:
    return [f'{field.word} "{value}"'] if value else []


def block(field: Field, lines: list[str]) -> list[str]:
    return [f"{field.word} {{", *(INDENT + line for line in lines), "}"] if lines else []


def _vip_lines(field: Field, vips: list[dict]) -> list[str]:
    def line(vip: dict) -> str:
        return " ".join([vip["address"], *(f"{key} {vip[key]}" for key in ("brd", "dev", "scope", "label")
                                           if vip.get(key))])
    return block(field, [line(vip) for vip in vips])


def _weighted_lines(field: Field, entries: list[dict]) -> list[str]:
    return block(field, [entry["name"] + (f" weight {entry['weight']}" if entry["weight"] is not None else "")
                         for entry in entries])


def _plain_lines(field: Field, values: list[str]) -> list[str]:
    return block(field, list(values))


def _auth_lines(field: Field, password: str | None, masked: bool = False) -> list[str]:
    if not password:
        return []
    secret = MASK if masked else password
    return block(field, ["auth_type PASS", f'auth_pass "{secret}"'])


# --- field checks --------------------------------------------------------------------------

def _interface(field: str, value, _params) -> str:
    return interface_name(field, value)


def _password(field: str, value, _params) -> str:
    if len(value) > 8:
        raise InputError(field, value, f"{len(value)} characters: keepalived keeps 8", secret=True)
    if not PASSWORD.match(value):
        raise InputError(field, value, "use printable ASCII without spaces, quotes or backslashes", secret=True)
    return value


def _command(field: str, value, _params) -> str:
    """A command keepalived runs: its script's absolute path first, no double quote or newline (the
    configuration quotes it)."""
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise InputError(field, value, f"cannot be split into words ({exc})") from None
    if not words or not words[0].startswith("/"):
        raise InputError(field, value, "must start with the script's absolute path")
    if '"' in value or "\n" in value:
        raise InputError(field, value, "may not contain double quotes or newlines")
    return value


def _address(field: str, value, _params) -> str:
    return ip_address(field, value)


def _addresses(field: str, values, _params) -> list[str]:
    checked_values = collect([lambda index=index, value=value: ip_address(f"{field}[{index}]", value)
                              for index, value in enumerate(values or [])])
    for index, address in enumerate(checked_values):
        if address in checked_values[:index]:
            raise InputError(f"{field}[{index}]", values[index], "listed twice")
    return checked_values


def _vip(field: str, entry: dict, interface: str) -> dict:
    address = ip_address(f"{field}.address", entry.get("address"), prefix=None)
    version = ipaddress.ip_interface(address).version
    dev = entry.get("dev") or None
    if dev is not None:
        interface_name(f"{field}.dev", dev)
    label = entry.get("label") or None
    if label is not None:
        if version == 6:
            raise InputError(f"{field}.label", label, "labels exist for IPv4 addresses only")
        if not label.startswith(f"{dev or interface}:") or len(label) > 15:
            why = f"must be '{dev or interface}:NAME', at most 15 characters (the kernel refuses others)"
            raise InputError(f"{field}.label", label, why)
    brd = entry.get("brd") or None
    if brd is not None:
        if version == 6:
            raise InputError(f"{field}.brd", brd, "broadcast addresses exist for IPv4 only")
        if ipaddress.ip_address(ip_address(f"{field}.brd", brd)) not in ipaddress.ip_interface(address).network:
            raise InputError(f"{field}.brd", brd, f"not in {ipaddress.ip_interface(address).network}")
    # keepalived lists a VIP with its prefix (a host address as /32 or /128): so does the declaration.
    return {"address": str(ipaddress.ip_interface(address)), "dev": dev, "label": label,
            "scope": entry.get("scope") or None, "brd": brd}


def _vips(field: str, entries, params) -> list[dict]:
    interface = params.get("interface") or ""
    vips = collect([lambda index=index, entry=entry: _vip(f"{field}[{index}]", entry, interface)
                    for index, entry in enumerate(entries or [])])
    seen = []
    for index, vip in enumerate(vips):
        host = ipaddress.ip_interface(vip["address"]).ip
        if host in seen:
            raise InputError(f"{field}[{index}].address", entries[index]["address"], "listed twice")
        seen.append(host)
    return vips


def _tracked(pattern: Callable[[str, Any, dict], Any]) -> Callable[[str, Any, dict], list[dict]]:
    def check(field: str, entries, params) -> list[dict]:
        def one(index: int, entry: dict) -> dict:
            where = f"{field}[{index}]"
            weight = entry.get("weight")
            return {"name": pattern(f"{where}.name", entry.get("name"), params),
                    "weight": None if weight is None else integer(f"{where}.weight", weight, -253, 253)}
        tracked = collect([lambda index=index, entry=entry: one(index, entry) for index, entry in enumerate(entries)])
        names = [entry["name"] for entry in tracked]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise InputError(f"{field}[{index}].name", name, "listed twice")
        return tracked
    return check


# --- the fields ------------------------------------------------------------------------------

VIP_FIELDS = (
    Field("address", "str", ("Address with prefix length (C(192.0.2.50/24)); without a prefix, a host address.",),
          required=True),
    Field("dev", "str", ("Interface that carries it; default O(interface).",)),
    Field("label", "str", ("IPv4 label, C(DEV:NAME), at most 15 characters.",)),
    Field("scope", "str", ("Address scope.",), choices=SCOPES),
    Field("brd", "str", ("IPv4 broadcast address.",)),
)
TRACKED_FIELDS = (
    Field("name", "str", ("Name (an interface, or a C(vrrp_script) / C(vrrp_track_file) defined in the main "
                          "configuration).",), required=True),
    Field("weight", "int", ("Priority change, -253 to 253; without it a failure puts the instance in FAULT.",)),
)


def _tracked_field(name: str, keyword: str, doc: str, pattern) -> Field:
    return Field(name, "list", (doc,), elements="dict", options=TRACKED_FIELDS, keyword=keyword,
                 check=_tracked(pattern), render=_weighted_lines)


def _notify_field(name: str, when: str) -> Field:
    return Field(name, "str", (f"Command (absolute path first) run {when}.",), check=_command, render=quoted)


def _garp_field(name: str, doc: str) -> Field:
    return Field(name, "int", (doc,), bounds=(0, 2 ** 31 - 1), render=word)


INSTANCE_FIELDS = (
    Field("name", "str", ("The instance's name (C(vrrp_instance NAME)), also the file's name.",),
          required=True, check=identifier),
    Field("initial_state", "str", ("The state keepalived starts the instance in. The highest priority becomes "
                                   "master whatever this says, unless O(nopreempt) is set (which needs V(BACKUP) "
                                   "on every node).",),
          default="BACKUP", choices=("MASTER", "BACKUP"), keyword="state", render=word, per_node="initial_states"),
    Field("interface", "str", ("The interface VRRP adverts are sent on. Required with O(state=present).",),
          check=_interface, render=word,
          role_doc=("The interface VRRP adverts are sent on; default C(keepalived_ha_interface), else the node's "
                    "interface with an address in the network of the first VIP.",)),
    Field("virtual_router_id", "int", ("The VRID; the same on every node of the instance and unique on the "
                                       "network.",),
          bounds=(1, 255), render=word, shared=True),
    Field("priority", "int", ("This node's priority; the highest live node is master (255 is reserved for the "
                              "address owner).",),
          default=100, bounds=(1, 254), render=word, per_node="priorities"),
    Field("advert_int", "float", ("Seconds between adverts; whole seconds with O(version=2), hundredths with "
                                  "O(version=3).",),
          default=1, bounds=(0.01, 255), render=word, shared=True),
    Field("version", "int", ("VRRP version.",), default=2, choices=(2, 3), render=word, shared=True),
    Field("nopreempt", "bool", ("A returning higher-priority node does not take the VIPs back. Needs "
                                "O(initial_state=BACKUP).",),
          default=False, render=flag, shared=True),
    Field("preempt_delay", "int", ("Seconds a returning higher-priority node waits before it takes the VIPs "
                                   "back.",),
          bounds=(0, 1000), render=word),
    Field("auth_pass", "str", ("PASS authentication (VRRP version 2 only), at most 8 printable ASCII characters "
                               "without spaces, quotes or backslashes. Written quoted, so C(!) and C(#) are kept. "
                               "Never shown.",),
          no_log=True, keyword="authentication", check=_password, render=_auth_lines, shared=True),
    Field("unicast_src_ip", "str", ("Source address of unicast adverts (with O(unicast_peers)); multicast when "
                                    "unset.",),
          check=_address, render=word, role=False),
    Field("unicast_peers", "list", ("The other nodes' addresses for unicast adverts; never this node's own "
                                    "O(unicast_src_ip).",),
          elements="str", keyword="unicast_peer", check=_addresses, render=_plain_lines, role=False),
    Field("virtual_ipaddresses", "list", ("The addresses the master holds. Required with O(state=present).",),
          role_doc=("The addresses the master holds.",),
          elements="dict", options=VIP_FIELDS, keyword="virtual_ipaddress", check=_vips, render=_vip_lines,
          shared=True),
    Field("virtual_ipaddresses_excluded", "list", ("Addresses the master holds that are not carried in the "
                                                   "adverts (for example another family's).",),
          elements="dict", options=VIP_FIELDS, keyword="virtual_ipaddress_excluded", check=_vips,
          render=_vip_lines),
    _tracked_field("track_interfaces", "track_interface", "Interfaces whose failure lowers the priority by "
                   "O(track_interfaces[].weight), or puts the instance in FAULT without one.", _interface),
    _tracked_field("track_scripts", "track_script", "C(vrrp_script) definitions (from the main configuration) the "
                   "instance follows.", identifier),
    _tracked_field("track_files", "track_file", "C(vrrp_track_file) definitions (from the main configuration) "
                   "the instance follows.", identifier),
    _notify_field("notify_master", "on becoming master"),
    _notify_field("notify_backup", "on becoming backup"),
    _notify_field("notify_fault", "on entering FAULT"),
    _notify_field("notify_stop", "when the instance stops"),
    Field("notify", "str", ("Command run on every transition with the arguments TYPE NAME STATE PRIORITY.",),
          check=_command, render=quoted, role=False),
    Field("smtp_alert", "bool", ("Mail the main configuration's C(notification_email) on each transition of the "
                                 "instance.",), render=flag),
    _garp_field("garp_master_delay", "Seconds after becoming master before the second set of gratuitous ARPs."),
    _garp_field("garp_master_repeat", "Gratuitous ARPs sent at once on becoming master."),
    _garp_field("garp_master_refresh", "Seconds between gratuitous ARP refreshes while master (0 none)."),
    _garp_field("garp_master_refresh_repeat", "Gratuitous ARPs sent at each refresh."),
    _garp_field("garp_lower_prio_delay", "Seconds before the second set of gratuitous ARPs after a lower-priority "
                "advert."),
    _garp_field("garp_lower_prio_repeat", "Gratuitous ARPs sent after a lower-priority advert."),
)
INSTANCE = {field.name: field for field in INSTANCE_FIELDS}

# vrrp_instance's own options: where the instance lives and how it is applied.
MODULE_FIELDS = (
    Field("state", "str", ("V(present) writes the instance; V(absent) removes its file and reloads keepalived.",),
          default="present", choices=("present", "absent")),
    Field("config_dir", "path", ("Directory of the instance files.",), default="/etc/keepalived/conf.d"),
    Field("main_config", "path", ("keepalived's main configuration, which must exist and include "
                                  "O(config_dir)C(/NAME.conf).",), default="/etc/keepalived/keepalived.conf"),
    Field("service", "str", ("The systemd unit that runs keepalived.",), default="keepalived"),
    Field("apply_timeout", "int", ("Seconds to wait, after a reload or start, for keepalived to run the instance as "
                                   "declared.",), default=30, bounds=(1, 3600)),
    Field("wait_for", "str", ("Wait until the instance is in this state, for example a backup before its master is "
                              "changed in a rolling change. Not in check mode.",),
          choices=("MASTER", "BACKUP", "FAULT")),
    Field("wait_timeout", "int", ("Seconds O(wait_for) waits; the module fails, naming the state reached, after "
                                  "them.",), default=60, bounds=(1, 3600)),
)
MODULE = {field.name: field for field in MODULE_FIELDS}
SHARED = tuple(field.name for field in INSTANCE_FIELDS if field.shared)


def _instance_rules(inst: dict) -> list[tuple[tuple[str, ...], Callable[[], None]]]:
    """The checks between fields, each with the fields it reads, so that every broken one is reported
    (a rule whose fields are bad themselves is left out)."""
    def advert_int():
        advert = inst["advert_int"]
        if inst["version"] == 2 and (advert != int(advert) or advert > 255):
            raise InputError("advert_int", advert, "VRRP version 2 takes whole seconds from 1 to 255 "
                                                   "(fractions need version: 3)")
        if inst["version"] == 3 and (round(advert * 100) != advert * 100 or advert > 40.95):
            raise InputError("advert_int", advert, "VRRP version 3 takes 0.01 to 40.95 s in hundredths")

    def auth():
        if inst["auth_pass"] is not None and inst["version"] == 3:
            raise InputError("auth_pass", inst["auth_pass"], "VRRP version 3 has no authentication", secret=True)

    def preempt():
        if inst["nopreempt"] and inst["initial_state"] == "MASTER":
            raise InputError("nopreempt", True, "keepalived ignores it with initial_state MASTER: use initial_state "
                                                "BACKUP on every node")
        if inst["nopreempt"] and inst["preempt_delay"] is not None:
            raise InputError("preempt_delay", inst["preempt_delay"], "has no effect with nopreempt")

    def vips():
        addresses = [vip["address"] for vip in inst["virtual_ipaddresses"] or []]
        if not addresses:
            raise InputError("virtual_ipaddresses", [], "at least one address is needed")
        families = {ipaddress.ip_interface(address).version for address in addresses}
        if len(families) > 1:
            raise InputError("virtual_ipaddresses", addresses, "one address family per instance (put the other in "
                                                               "virtual_ipaddresses_excluded)")
        if families == {6} and inst["version"] == 2:
            raise InputError("virtual_ipaddresses", addresses[0], "IPv6 needs version: 3")

    def unicast():
        src, peers = inst["unicast_src_ip"], inst["unicast_peers"] or []
        if src is not None and not peers:
            raise InputError("unicast_src_ip", src, "needs unicast_peers")
        if src is not None and src in peers:
            raise InputError(f"unicast_peers[{peers.index(src)}]", src, "is this node's own unicast_src_ip")

    return [(("advert_int", "version"), advert_int), (("auth_pass", "version"), auth),
            (("nopreempt", "initial_state", "preempt_delay"), preempt), (("virtual_ipaddresses", "version"), vips),
            (("unicast_src_ip", "unicast_peers"), unicast)]


def instance(params: dict) -> dict:
    """The instance `params` (vrrp_instance's options) declare, every field checked: {field: value}.
    Raises InputError, or InputErrors naming every bad field and value (a password never shown)."""
    inst: dict = {}
    try:
        checked(INSTANCE_FIELDS, params, partial=inst)
        errors = []
    except BAD_INPUT as exc:
        errors = errors_of(exc)
    collect([lambda error=error: raise_error(error) for error in errors]
            + [check for names, check in _instance_rules(inst) if all(name in inst for name in names)])
    for name in ("unicast_peers", "virtual_ipaddresses", "virtual_ipaddresses_excluded", "track_interfaces",
                 "track_scripts", "track_files"):
        inst[name] = inst[name] or []
    return inst


def _module_check(params: dict) -> dict | None:
    """vrrp_instance's parameters -> the instance (None with state=absent, after its name is checked)."""
    module = checked([MODULE[name] for name in ("apply_timeout", "wait_timeout")], params)
    for name in ("config_dir", "main_config"):
        if not os.path.isabs(params[name]):
            raise InputError(name, params[name], "must be an absolute path")
    if params["state"] == "absent":
        identifier("name", params["name"], params)
        return None
    return dict(instance(params), **module)


VRRP_INPUT = ModuleInput(
    argument_spec=argument_spec(INSTANCE_FIELDS + MODULE_FIELDS),
    check=_module_check,
    rules={"required_if": [["state", "present", ["interface", "virtual_router_id", "virtual_ipaddresses"]]]},
)


def release_commands(instances: list[dict], ip: str = "ip") -> list[list[str]]:
    """`ip addr del` argument lists for every address the instances (instance()'s form) put on a node, their VIPs and
    excluded VIPs each on its own device or the instance's interface: what a master whose keepalived was killed
    would go on holding, released by the keepalived unit's ExecStopPost."""
    return [[ip, "addr", "del", vip["address"], "dev", vip["dev"] or inst["interface"]]
            for inst in instances for field in ("virtual_ipaddresses", "virtual_ipaddresses_excluded")
            for vip in inst[field]]


def restart_delay(instances: list[dict]) -> int:
    """Seconds before a keepalived that died starts again: longer than its peers' master-down interval (three
    adverts and the skew, under four adverts of the slowest instance), so a backup holds the VIPs first and the
    returning node finds a master instead of a silent network."""
    return math.ceil(4 * max((inst["advert_int"] for inst in instances), default=1)) + 1


def public(inst: dict) -> dict:
    """The instance as returned to the user: the password masked."""
    return dict(inst, auth_pass=MASK if inst.get("auth_pass") else None)


def render(inst: dict, masked: bool = False) -> str:
    """keepalived.conf text of the instance, its fields in declaration order; `masked` replaces the
    password (for diffs and logs)."""
    lines = [HEADER, f"vrrp_instance {inst['name']} {{"]
    for field in INSTANCE_FIELDS:
        value = inst.get(field.name)
        if field.render is None or value is None:
            continue
        rendered = _auth_lines(field, value, masked) if field.render is _auth_lines else field.render(field, value)
        lines += [INDENT + line for line in rendered]
    return "\n".join([*lines, "}"]) + "\n"


# --- vrrp_script -----------------------------------------------------------------------------

USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}( [a-z_][a-z0-9_-]{0,31})?$")


def _user(field: str, value: str, _params=None) -> str:
    if not USER.match(value):
        raise InputError(field, value, "a user name, or 'USER GROUP'")
    return value


SCRIPT_FIELDS = (
    Field("name", "str", ("The script's name, which instances track (C(vrrp_script NAME)).",), required=True,
          check=identifier),
    Field("script", "str", ("The command keepalived runs, its absolute path first; exit 0 is success.",),
          required=True, check=_command, render=quoted),
    Field("interval", "int", ("Seconds between runs.",), default=1, bounds=(1, 3600), render=word),
    Field("timeout", "int", ("Seconds after which a run counts as failed.",), bounds=(1, 3600), render=word),
    Field("weight", "int", ("Priority change while the script fails; without it a failure puts the instances "
                            "that track it in FAULT.",), bounds=(-253, 253), render=word),
    Field("fall", "int", ("Failures in a row before the script counts as failed.",), bounds=(1, 1000), render=word),
    Field("rise", "int", ("Successes in a row before it counts as succeeding again.",), bounds=(1, 1000),
          render=word),
    Field("user", "str", ("User (and optionally C(USER GROUP)) the script runs as; root when not set. keepalived "
                          "2.2.7's config test is killed by a non-root script user (fixed in 2.2.8).",),
          check=_user, render=word),
)
SCRIPT = {field.name: field for field in SCRIPT_FIELDS}


def script(params: dict, parent: str = "") -> dict:
    """One vrrp_script, every field checked."""
    return checked(SCRIPT_FIELDS, params, parent)


def render_script(entry: dict) -> str:
    lines = [f"vrrp_script {entry['name']} {{"]
    for field in SCRIPT_FIELDS:
        if field.render is not None and entry.get(field.name) is not None:
            lines += [INDENT + line for line in field.render(field, entry[field.name])]
    return "\n".join([*lines, "}"]) + "\n"


AUTH_LINE = re.compile(r'^(\s*auth_pass\s+)(?:"[^"]*"|\S+)', re.MULTILINE)


def mask(text: str | None) -> str | None:
    """`text` (any keepalived configuration) with every auth_pass value replaced."""
    return None if text is None else AUTH_LINE.sub(lambda m: f'{m.group(1)}"{MASK}"', text)


def config_test_problem(rc: int, out: str, err: str) -> str | None:
    """None when `keepalived -t` accepted the configuration, else why not. keepalived 2.2.7 exits 0
    when a file or an include is missing and is killed (143) with a non-root script_user.
    The role's keepalived-config-test script gives the same verdict (a unit test runs both)."""
    text = "\n".join(part.strip() for part in (out, err) if part.strip())
    if rc in (143, -15) or "Terminated" in text:
        return ("keepalived's config test was killed (exit 143): keepalived 2.2.7 does this when global_defs "
                "names a non-root script_user (fixed in 2.2.8); use script_user root" + (f"\n{text}" if text else ""))
    missing = [line for line in text.splitlines() if "Config files missing" in line]
    if missing:
        return "\n".join(missing)
    if rc != 0:
        return text or f"keepalived -t exited {rc}"
    return None


INCLUDE = re.compile(r"^\s*include\s+(\S+)", re.MULTILINE)


def includes(main_text: str, main_dir: str) -> list[str]:
    """The include patterns of a main configuration, absolute (relative ones are relative to its directory)."""
    return [os.path.normpath(os.path.join(main_dir, pattern)) for pattern in INCLUDE.findall(main_text)]


def included(path: str, main_text: str, main_dir: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in includes(main_text, main_dir))


def restage_includes(text: str, moves: dict[str, str]) -> str:
    """`text` with absolute include paths under a key of `moves` pointing under its value instead."""
    def move(match: re.Match) -> str:
        path = match.group(1)
        for old, new in moves.items():
            if path == old or path.startswith(old.rstrip("/") + "/"):
                return match.group(0).replace(path, new.rstrip("/") + path[len(old.rstrip("/")):])
        return match.group(0)
    return INCLUDE.sub(move, text)


# keepalived's authentication types in its dump, and the counters of its dump that explain a split brain.
AUTH_TYPES = {0: "none", 1: "PASS", 2: "AH"}
DUMP_COUNTERS = ("advert_rcvd", "advert_sent", "become_master", "release_master", "auth_failure",
                 "authtype_mismatch", "invalid_authtype", "advert_interval_err", "addr_list_err", "ip_ttl_err")


def auth_digest(key: str, auth_type: str, password: str) -> str:
    """The authentication keyed with `key` (a secret of one run): equal on two nodes when their type and password
    are, and telling nothing of the password without the key."""
    return hmac.new(key.encode(), f"{auth_type}:{password}".encode(), hashlib.sha256).hexdigest()[:16]


def live_instances(dump: str, digest_key: str | None = None) -> dict[str, dict]:
    """Instances in keepalived's JSON dump (`--signum=JSON`), by name, without anything secret: with `digest_key`,
    the authentication as auth_digest, to be compared between nodes."""
    instances = {}
    for entry in json.loads(dump):
        data = entry.get("data", entry) if isinstance(entry, dict) else {}
        if "iname" not in data:
            continue
        stats = entry.get("stats", {}) if isinstance(entry, dict) else {}
        auth_type = AUTH_TYPES.get(data.get("auth_type"), str(data.get("auth_type")))
        instances[data["iname"]] = {
            "state": STATES.get(data.get("state"), str(data.get("state"))),
            "base_priority": data.get("base_priority"),
            "effective_priority": data.get("effective_priority"),
            "virtual_router_id": data.get("vrid"),
            "interface": data.get("ifp_ifname"),
            "vips": list(data.get("vips") or []),
            "master_priority": data.get("master_priority"),
            "last_transition": data.get("last_transition"),
            "advert_int": data.get("adver_int"),
            "version": data.get("version"),
            "nopreempt": data.get("nopreempt"),
            "auth_type": auth_type,
            **({"auth": auth_digest(digest_key, auth_type, str(data.get("auth_data") or ""))} if digest_key else {}),
            "stats": {name: stats[name] for name in DUMP_COUNTERS if name in stats},
        }
    return instances


def applied(live: dict | None, inst: dict | None) -> bool:
    """Whether keepalived runs `inst` as declared (None: the instance must be gone)."""
    if inst is None:
        return live is None
    if live is None:
        return False
    held = {vip.split()[0] for vip in live["vips"]}
    wanted = {vip["address"] for vip in inst["virtual_ipaddresses"]}
    return (live["base_priority"] == inst["priority"] and live["virtual_router_id"] == inst["virtual_router_id"]
            and held == wanted)
