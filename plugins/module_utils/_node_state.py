# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a node holds of a declaration (files, systemd units, packages), read without changing anything. The
roles read everything a role manages on a node in one module run and skip the tasks whose object is already
as declared. Pure functions except `file_state`, which reads one path."""

from __future__ import annotations

import grp
import os
import pwd
import stat

# systemctl show's properties, by the name node_state returns them under.
UNIT_PROPERTIES = {"Id": "name", "LoadState": "load", "UnitFileState": "enabled", "ActiveState": "active"}


def _name(lookup, number: int) -> str:
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def file_state(declared: dict) -> dict:
    """The path as it is, and whether it is as `declared` ({path, state: file|directory, content, mode, owner,
    group, read}; an attribute not declared is not compared). `same` is what a task writing the declaration
    would find: nothing to change."""
    path = declared["path"]
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False, "same": False}
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"
    seen = {"exists": True, "state": kind, "mode": f"{stat.S_IMODE(info.st_mode):04o}",
            "owner": _name(pwd.getpwuid, info.st_uid), "group": _name(grp.getgrgid, info.st_gid)}
    text = None
    if kind == "file" and (declared.get("content") is not None or declared.get("read")):
        with open(path, "rb") as handle:
            text = handle.read()
    if declared.get("read"):
        seen["content"] = None if text is None else text.decode("utf-8", "replace")
    return {**seen, "same": same_file(declared, seen, text)}


def same_file(declared: dict, seen: dict, text: bytes | None) -> bool:
    """Whether what was seen of a path (file_state's attributes, `text` its bytes when read) is as declared."""
    if not seen.get("exists") or seen["state"] != (declared.get("state") or "file"):
        return False
    if declared.get("content") is not None and text != declared["content"].encode("utf-8"):
        return False
    mode = declared.get("mode")
    if mode is not None and int(str(mode), 8) != int(seen["mode"], 8):
        return False
    return all(declared.get(key) in (None, seen[key]) for key in ("owner", "group"))


def sysctl_path(name: str) -> str:
    """net.ipv4.conf.eth0/100.arp_ignore -> /proc/sys/net/ipv4/conf/eth0.100/arp_ignore."""
    return "/proc/sys/" + "/".join(part.replace("/", ".") for part in name.split("."))


def read_sysctl(name: str) -> str | None:
    """A kernel setting's value, or None when the kernel has no such setting (or the name is not one)."""
    if not name or ".." in name or name.startswith(".") or "/." in name:
        return None
    try:
        with open(sysctl_path(name)) as handle:
            return " ".join(handle.read().split())
    except OSError:
        return None


def mode_problem(index: int, mode) -> str | None:
    """files[index].mode must be octal digits (the way the file and copy modules read a string)."""
    text = str(mode)
    if not text or len(text) > 4 or any(char not in "01234567" for char in text):
        return f"files[{index}].mode={mode!r}: an octal mode such as '0644'"
    return None


def parse_units(text: str, names: list[str]) -> dict:
    """`systemctl show --property=Id,LoadState,UnitFileState,ActiveState NAME...` output (one block per
    name, in order, blank lines between): {name as asked: {load, enabled, active, enabled_and_active}}; the last
    is what a service started at boot and now is: loaded, enabled and active."""
    blocks = text.strip("\n").split("\n\n") if text.strip() else []
    units = {}
    for name, block in zip(names, blocks):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        unit = {short: values.get(prop, "") for prop, short in UNIT_PROPERTIES.items() if short != "name"}
        unit["enabled_and_active"] = (unit["load"], unit["enabled"], unit["active"]) == ("loaded", "enabled", "active")
        units[name] = unit
    return units


def parse_dpkg(text: str) -> dict:
    """`dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'` output: {package: version} of the
    installed ones (status `ii`); a package only known (removed, config files left) is not installed."""
    installed = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].strip() == "ii":
            installed[fields[0]] = fields[2]
    return installed


def parse_rpm(text: str) -> dict:
    """`rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n' NAME...` output: {package: version}; rpm says
    "package NAME is not installed" for the others."""
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


def packages_state(names: list[str], installed: dict) -> dict:
    """{name: installed version, or None}."""
    return {name: installed.get(name) for name in names}
