# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived VRRP instances as data: validation, the configuration snippet, the config test's
verdict, includes, and the live state from keepalived's JSON dump. Pure functions, no I/O."""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import re
import shlex

MASK = "********"
STATES = {0: "INIT", 1: "BACKUP", 2: "MASTER", 3: "FAULT"}
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
INTERFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
# Printable ASCII without space, quote and backslash: what keepalived keeps inside a quoted word.
PASSWORD = re.compile(r'^[!#-\[\]-~]{1,8}$')
SCOPES = ("global", "site", "link", "host", "nowhere")
NOTIFY = ("notify_master", "notify_backup", "notify_fault", "notify_stop", "notify")
GARP = ("garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat",
        "garp_lower_prio_delay", "garp_lower_prio_repeat")


class KeepalivedInputError(ValueError):
    """A field with a value keepalived would refuse, cut or silently ignore."""

    def __init__(self, field: str, value, why: str):
        super().__init__(f"{field}={value!r}: {why}")
        self.field = field


def _address(field: str, text: str, prefix: bool) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    try:
        value = ipaddress.ip_interface(text) if prefix else ipaddress.ip_address(text)
    except ValueError as exc:
        raise KeepalivedInputError(field, text, f"not an IP address{'/prefix' if prefix else ''} ({exc})") from None
    return value


def _weight(field: str, entry: dict) -> int | None:
    weight = entry.get("weight")
    if weight is not None and not -253 <= weight <= 253:
        raise KeepalivedInputError(f"{field}.weight", weight, "must be between -253 and 253")
    return weight


def _vips(field: str, entries: list, interface: str) -> list[dict]:
    vips, seen = [], set()
    for index, entry in enumerate(entries or []):
        where = f"{field}[{index}]"
        address = _address(f"{where}.address", entry["address"], prefix=True)
        if address.ip in seen:
            raise KeepalivedInputError(f"{where}.address", entry["address"], "listed twice")
        seen.add(address.ip)
        dev = entry.get("dev") or None
        if dev is not None and not INTERFACE.match(dev):
            raise KeepalivedInputError(f"{where}.dev", dev, "not an interface name")
        label = entry.get("label") or None
        if label is not None:
            if address.version == 6:
                raise KeepalivedInputError(f"{where}.label", label, "labels exist for IPv4 addresses only")
            if not label.startswith(f"{dev or interface}:") or len(label) > 15:
                raise KeepalivedInputError(f"{where}.label", label, f"must be '{dev or interface}:NAME', "
                                                                    "at most 15 characters (the kernel refuses others)")
        scope = entry.get("scope") or None
        if scope is not None and scope not in SCOPES:
            raise KeepalivedInputError(f"{where}.scope", scope, f"must be one of {', '.join(SCOPES)}")
        brd = entry.get("brd") or None
        if brd is not None:
            if address.version == 6:
                raise KeepalivedInputError(f"{where}.brd", brd, "broadcast addresses exist for IPv4 only")
            if _address(f"{where}.brd", brd, prefix=False) not in address.network:
                raise KeepalivedInputError(f"{where}.brd", brd, f"not in {address.network}")
        vips.append({"address": str(address), "dev": dev, "label": label, "scope": scope, "brd": brd})
    return vips


def _tracked(field: str, entries: list, pattern: re.Pattern) -> list[dict]:
    tracked, seen = [], set()
    for index, entry in enumerate(entries or []):
        name = entry["name"]
        if not pattern.match(name):
            raise KeepalivedInputError(f"{field}[{index}].name", name, "not a valid name")
        if name in seen:
            raise KeepalivedInputError(f"{field}[{index}].name", name, "listed twice")
        seen.add(name)
        tracked.append({"name": name, "weight": _weight(f"{field}[{index}]", entry)})
    return tracked


def _notify(field: str, command: str | None) -> str | None:
    if command is None:
        return None
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise KeepalivedInputError(field, command, f"cannot be split into words ({exc})") from None
    if not words or not words[0].startswith("/"):
        raise KeepalivedInputError(field, command, "must start with the script's absolute path")
    if '"' in command or "\n" in command:
        raise KeepalivedInputError(field, command, "may not contain double quotes or newlines")
    return command


def instance(params: dict) -> dict:
    """The instance `params` (module options) declare, checked field by field; raises
    KeepalivedInputError naming the first bad field and value."""
    name = params["name"]
    if not NAME.match(name):
        raise KeepalivedInputError("name", name, "use 1-64 letters, digits, '_', '.' or '-'")
    interface = params["interface"]
    if not INTERFACE.match(interface):
        raise KeepalivedInputError("interface", interface, "not an interface name")
    vrid, priority, version = params["virtual_router_id"], params["priority"], params["version"]
    if not 1 <= vrid <= 255:
        raise KeepalivedInputError("virtual_router_id", vrid, "must be between 1 and 255")
    if not 1 <= priority <= 254:
        raise KeepalivedInputError("priority", priority, "must be between 1 and 254 (255 is the address owner's)")
    advert = params["advert_int"]
    if version == 2 and (advert != int(advert) or not 1 <= advert <= 255):
        raise KeepalivedInputError("advert_int", advert, "VRRP version 2 takes whole seconds from 1 to 255 "
                                                         "(fractions need version: 3)")
    if version == 3 and (round(advert * 100) != advert * 100 or not 0.01 <= advert <= 40.95):
        raise KeepalivedInputError("advert_int", advert, "VRRP version 3 takes 0.01 to 40.95 s in hundredths")
    password = params.get("auth_pass")
    if password is not None:
        if version == 3:
            raise KeepalivedInputError("auth_pass", MASK, "VRRP version 3 has no authentication")
        if len(password) > 8:
            raise KeepalivedInputError("auth_pass", MASK, f"{len(password)} characters: keepalived keeps 8")
        if not PASSWORD.match(password):
            raise KeepalivedInputError("auth_pass", MASK, "use printable ASCII without spaces, quotes or backslashes")
    if params["nopreempt"] and params["initial_state"] == "MASTER":
        raise KeepalivedInputError("nopreempt", True, "keepalived ignores it with initial_state MASTER: "
                                                      "use initial_state BACKUP on every node")
    if params.get("preempt_delay") is not None:
        if params["nopreempt"]:
            raise KeepalivedInputError("preempt_delay", params["preempt_delay"], "has no effect with nopreempt")
        if not 0 <= params["preempt_delay"] <= 1000:
            raise KeepalivedInputError("preempt_delay", params["preempt_delay"], "must be between 0 and 1000 s")
    vips = _vips("virtual_ipaddresses", params["virtual_ipaddresses"], interface)
    if not vips:
        raise KeepalivedInputError("virtual_ipaddresses", [], "at least one address is needed")
    families = {ipaddress.ip_interface(vip["address"]).version for vip in vips}
    if len(families) > 1:
        raise KeepalivedInputError("virtual_ipaddresses", [vip["address"] for vip in vips],
                                   "one address family per instance (put the other in virtual_ipaddresses_excluded)")
    if families == {6} and version == 2:
        raise KeepalivedInputError("virtual_ipaddresses", vips[0]["address"], "IPv6 needs version: 3")
    excluded = _vips("virtual_ipaddresses_excluded", params.get("virtual_ipaddresses_excluded"), interface)
    src = params.get("unicast_src_ip")
    if src is not None:
        src = str(_address("unicast_src_ip", src, prefix=False))
    peers = []
    for index, peer in enumerate(params.get("unicast_peers") or []):
        address = str(_address(f"unicast_peers[{index}]", peer, prefix=False))
        if address == src:
            raise KeepalivedInputError(f"unicast_peers[{index}]", peer, "is this node's own unicast_src_ip")
        if address in peers:
            raise KeepalivedInputError(f"unicast_peers[{index}]", peer, "listed twice")
        peers.append(address)
    if src is not None and not peers:
        raise KeepalivedInputError("unicast_src_ip", src, "needs unicast_peers")
    result = {
        "name": name, "initial_state": params["initial_state"], "interface": interface,
        "virtual_router_id": vrid, "priority": priority, "advert_int": advert, "version": version,
        "auth_pass": password, "nopreempt": bool(params["nopreempt"]), "preempt_delay": params.get("preempt_delay"),
        "virtual_ipaddresses": vips, "virtual_ipaddresses_excluded": excluded,
        "track_interfaces": _tracked("track_interfaces", params.get("track_interfaces"), INTERFACE),
        "track_scripts": _tracked("track_scripts", params.get("track_scripts"), NAME),
        "track_files": _tracked("track_files", params.get("track_files"), NAME),
        "unicast_src_ip": src, "unicast_peers": peers,
    }
    for field in NOTIFY:
        result[field] = _notify(field, params.get(field))
    for field in GARP:
        value = params.get(field)
        if value is not None and value < 0:
            raise KeepalivedInputError(field, value, "must be 0 or more")
        result[field] = value
    return result


def public(inst: dict) -> dict:
    """The instance as returned to the user: the password masked."""
    return dict(inst, auth_pass=MASK if inst.get("auth_pass") else None)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _vip_line(vip: dict) -> str:
    words = [vip["address"]]
    for key in ("brd", "dev", "scope", "label"):
        if vip.get(key):
            words += [key, vip[key]]
    return " ".join(words)


def _block(name: str, lines: list[str]) -> list[str]:
    return [f"    {name} {{", *(f"        {line}" for line in lines), "    }"] if lines else []


def _weighted(entries: list[dict]) -> list[str]:
    return [entry["name"] + (f" weight {entry['weight']}" if entry["weight"] is not None else "") for entry in entries]


def render(inst: dict, masked: bool = False) -> str:
    """keepalived.conf text of the instance; `masked` replaces the password (for diffs and logs)."""
    lines = [
        "# Managed by linux_cluster.lvs.vrrp_instance: changes made here are replaced.",
        f"vrrp_instance {inst['name']} {{",
        f"    state {inst['initial_state']}",
        f"    interface {inst['interface']}",
        f"    virtual_router_id {inst['virtual_router_id']}",
        f"    priority {inst['priority']}",
        f"    advert_int {_number(inst['advert_int'])}",
        f"    version {inst['version']}",
    ]
    if inst["nopreempt"]:
        lines.append("    nopreempt")
    if inst["preempt_delay"] is not None:
        lines.append(f"    preempt_delay {inst['preempt_delay']}")
    if inst["auth_pass"]:
        secret = MASK if masked else inst["auth_pass"]
        lines += _block("authentication", ["auth_type PASS", f'auth_pass "{secret}"'])
    if inst["unicast_src_ip"]:
        lines.append(f"    unicast_src_ip {inst['unicast_src_ip']}")
    lines += _block("unicast_peer", inst["unicast_peers"])
    lines += _block("virtual_ipaddress", [_vip_line(vip) for vip in inst["virtual_ipaddresses"]])
    lines += _block("virtual_ipaddress_excluded", [_vip_line(vip) for vip in inst["virtual_ipaddresses_excluded"]])
    lines += _block("track_interface", _weighted(inst["track_interfaces"]))
    lines += _block("track_script", _weighted(inst["track_scripts"]))
    lines += _block("track_file", _weighted(inst["track_files"]))
    lines += [f'    {field} "{inst[field]}"' for field in NOTIFY if inst[field]]
    lines += [f"    {field} {inst[field]}" for field in GARP if inst[field] is not None]
    return "\n".join([*lines, "}"]) + "\n"


AUTH_LINE = re.compile(r'^(\s*auth_pass\s+)(?:"[^"]*"|\S+)', re.MULTILINE)


def mask(text: str | None) -> str | None:
    """`text` (any keepalived configuration) with every auth_pass value replaced."""
    return None if text is None else AUTH_LINE.sub(lambda m: f'{m.group(1)}"{MASK}"', text)


def config_test_problem(rc: int, out: str, err: str) -> str | None:
    """None when `keepalived -t` accepted the configuration, else why not. keepalived 2.2.7 exits 0
    when a file or an include is missing and is killed (143) with a non-root script_user."""
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


def live_instances(dump: str) -> dict[str, dict]:
    """Instances in keepalived's JSON dump (`--signum=JSON`), by name, without anything secret."""
    instances = {}
    for entry in json.loads(dump):
        data = entry.get("data", entry) if isinstance(entry, dict) else {}
        if "iname" not in data:
            continue
        instances[data["iname"]] = {
            "state": STATES.get(data.get("state"), str(data.get("state"))),
            "base_priority": data.get("base_priority"),
            "effective_priority": data.get("effective_priority"),
            "virtual_router_id": data.get("vrid"),
            "interface": data.get("ifp_ifname"),
            "vips": list(data.get("vips") or []),
            "master_priority": data.get("master_priority"),
            "last_transition": data.get("last_transition"),
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
