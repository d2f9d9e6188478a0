#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_state
short_description: Read in one run whether a node's files, systemd units and packages are as declared
version_added: 0.2.0
description:
  - Reads, without changing anything, what a node holds of a declaration - files and directories (content, mode,
    owner, group), systemd units (loaded, enabled, active), packages (installed version), kernel settings - and, on
    request, the node's own name and network links and its default routes.
  - Each module run on a managed host costs an interpreter start and Ansible's module imports there (about half a
    second on a small guest). The collection's roles read everything a role manages on a node with this module in
    one run and skip each task whose object is already as declared, so that a run that changes nothing costs one
    run per role instead of one per task. A task it skips would have reported no change.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
  - linux_cluster.lvs.read_only.linux
options:
  files:
    description: Paths and what each should be; an attribute not given is not compared.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: An absolute path.
        type: path
        required: true
      state:
        description: What the path should be.
        type: str
        default: file
        choices: [file, directory]
      content:
        description:
          - The file's whole text (compared byte for byte, as UTF-8). Never logged nor returned (a configuration may
            hold a secret).
        type: str
      mode:
        description: The permission bits, an octal string (V('0644')).
        type: str
      owner:
        description: The owning user's name.
        type: str
      group:
        description: The owning group's name.
        type: str
      read:
        description: Return the file's text (RV(files.content)). Only for files without secrets.
        type: bool
        default: false
  units:
    description: systemd units (V(chrony.service), or V(chrony) for a service).
    type: list
    elements: str
    default: []
  packages:
    description: Distribution packages (dpkg on Debian, rpm elsewhere).
    type: list
    elements: str
    default: []
  node:
    description: Return the node's name (C(uname -n)) and its links (C(ip -j link show)).
    type: bool
    default: false
  sysctls:
    description: Kernel settings to read, by their dotted names (V(net.ipv4.conf.lo.arp_ignore); a dot inside an
      interface name written as C(/)).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  routes:
    description: Return the main table's default routes (C(ip -j route show default)).
    type: bool
    default: false
    version_added: 0.2.0
  names:
    description: Host names to resolve as the node resolves them (C(/etc/hosts), then whatever C(nsswitch.conf)
      names), IPv4, in the resolver's order (as C(getent hosts) lists them).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  connect:
    description: TCP ports this node should reach; each is connected to once and closed at once (no data sent).
    type: list
    elements: dict
    default: []
    version_added: 0.2.0
    suboptions:
      host:
        description: An address or a name.
        type: str
        required: true
      port:
        description: The TCP port.
        type: int
        required: true
  connect_timeout:
    description: Seconds each of O(connect) may take; the connections are tried together.
    type: float
    default: 2
    version_added: 0.2.0
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.service_facts
  - module: ansible.builtin.package_facts
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: What this role manages, read at once
  linux_cluster.lvs.node_state:
    files:
      - path: /etc/chrony/sources.d/linux-cluster.sources
        content: "{{ lookup('ansible.builtin.template', 'linux-cluster.sources.j2') }}"
        mode: "0644"
        owner: root
        group: root
      - path: /etc/hosts
        read: true
    units: [chrony.service]
    packages: [chrony]
  register: seen

- name: The sources, only where they differ
  ansible.builtin.copy:
    content: "{{ lookup('ansible.builtin.template', 'linux-cluster.sources.j2') }}"
    dest: /etc/chrony/sources.d/linux-cluster.sources
    mode: "0644"
    owner: root
    group: root
  when: not seen.files['/etc/chrony/sources.d/linux-cluster.sources'].same
"""

RETURN = r"""
files:
  description: Each path given, as it is.
  returned: always
  type: dict
  sample: {"/etc/hosts": {"exists": true, "state": "file", "mode": "0644", "owner": "root", "group": "root",
           "same": true}}
  contains:
    same:
      description: Whether the path is as declared (exists, of that state, and every attribute given equal).
      type: bool
    exists:
      description: Whether the path exists.
      type: bool
    state:
      description: V(file), V(directory) or V(other) (a link, a device...; a link is not followed).
      type: str
    mode:
      description: The permission bits, octal.
      type: str
    owner:
      description: The owner's name (the number when it has none).
      type: str
    group:
      description: The group's name (the number when it has none).
      type: str
    content:
      description: The file's text, with O(files[].read).
      type: str
units:
  description: Each unit given, as systemd sees it.
  returned: always
  type: dict
  sample: {"chrony.service": {"load": "loaded", "enabled": "enabled", "active": "active", "enabled_and_active": true}}
  contains:
    load:
      description: Its LoadState (V(loaded), V(not-found)...).
      type: str
    enabled:
      description: Its UnitFileState (V(enabled), V(disabled), V(static)..., empty when it has no unit file).
      type: str
    active:
      description: Its ActiveState (V(active), V(inactive), V(failed)...).
      type: str
    enabled_and_active:
      description: Loaded, enabled and active - a service started at boot and running now.
      type: bool
packages:
  description: Each package given, its installed version, or null when it is not installed.
  returned: always
  type: dict
  sample: {"chrony": "4.3-2+deb12u1", "ipvsadm": null}
sysctls:
  description: Each setting of O(sysctls), its value as C(/proc/sys) gives it, or null when the kernel has no such
    setting.
  returned: always
  type: dict
  sample: {"net.ipv4.conf.lo.arp_ignore": "1"}
routes:
  description: The default routes, with O(routes).
  returned: when O(routes) is true
  type: list
  elements: dict
  sample: [{"dst": "default", "gateway": "198.51.100.10", "dev": "vec1"}]
names:
  description: Each name of O(names), the IPv4 addresses it resolves to on the node, first the one a client
    connects to (empty when it does not resolve).
  returned: always
  type: dict
  sample: {"dir1": ["192.0.2.11"]}
connect:
  description: Each of O(connect) as C(host:port), whether a TCP connection opened within O(connect_timeout).
  returned: always
  type: dict
  sample: {"192.0.2.21:80": true}
node:
  description: The node's name and links, with O(node).
  returned: when O(node) is true
  type: dict
  contains:
    name:
      description: C(uname -n).
      type: str
    links:
      description: C(ip -j link show), parsed.
      type: list
      elements: dict
"""

import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._node_state import (
    UNIT_PROPERTIES,
    file_state,
    mode_problem,
    packages_state,
    parse_dpkg,
    parse_rpm,
    parse_units,
    read_sysctl,
)

ARGUMENT_SPEC = {
    "files": {"type": "list", "elements": "dict", "default": [], "options": {
        "path": {"type": "path", "required": True},
        "state": {"type": "str", "default": "file", "choices": ["file", "directory"]},
        "content": {"type": "str", "no_log": True},
        "mode": {"type": "str"},
        "owner": {"type": "str"},
        "group": {"type": "str"},
        "read": {"type": "bool", "default": False},
    }},
    "units": {"type": "list", "elements": "str", "default": []},
    "packages": {"type": "list", "elements": "str", "default": []},
    "node": {"type": "bool", "default": False},
    "sysctls": {"type": "list", "elements": "str", "default": []},
    "routes": {"type": "bool", "default": False},
    "names": {"type": "list", "elements": "str", "default": []},
    "connect": {"type": "list", "elements": "dict", "default": [], "options": {
        "host": {"type": "str", "required": True},
        "port": {"type": "int", "required": True},
    }},
    "connect_timeout": {"type": "float", "default": 2},
}


def run(module: AnsibleModule, argv: list[str], allowed=(0,)) -> str:
    rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    if rc not in allowed:
        module.fail_json(msg=f"{' '.join(argv)}: exit status {rc}: {err.strip()}")
    return out


def read_packages(module: AnsibleModule, names: list[str]) -> dict:
    dpkg = module.get_bin_path("dpkg-query")
    if dpkg:
        # Exit status 1: some name is not known to dpkg at all (not installed).
        out = run(module, [dpkg, "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n", *names], (0, 1))
        return packages_state(names, parse_dpkg(out))
    rpm = module.get_bin_path("rpm", required=True)
    # Exit status: how many are not installed.
    out = run(module, [rpm, "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", *names], range(len(names) + 1))
    return packages_state(names, parse_rpm(out))


def resolve(name: str) -> list[str]:
    """The name's IPv4 addresses in the resolver's order (as `getent hosts` gives them; getaddrinfo would sort
    them)."""
    try:
        return socket.gethostbyname_ex(name)[2]
    except (OSError, UnicodeError):
        return []


def answers(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    problems = [problem for index, item in enumerate(params["files"])
                for problem in ([f"files[{index}].path={item['path']!r}: an absolute path"]
                                if not os.path.isabs(item["path"]) else [])
                + ([mode_problem(index, item["mode"])] if item["mode"] is not None else []) if problem]
    if problems:
        module.fail_json(msg="; ".join(problems))
    result: dict = {"changed": False, "files": {}, "units": {}, "packages": {}, "sysctls": {}, "names": {},
                    "connect": {}}
    for item in params["files"]:
        try:
            result["files"][item["path"]] = file_state(item)
        except OSError as exc:
            module.fail_json(msg=f"{item['path']}: {exc.strerror}")
    if params["units"]:
        systemctl = module.get_bin_path("systemctl", required=True)
        out = run(module, [systemctl, "show", "--property=" + ",".join(UNIT_PROPERTIES), "--", *params["units"]])
        result["units"] = parse_units(out, params["units"])
    if params["packages"]:
        result["packages"] = read_packages(module, params["packages"])
    if params["sysctls"]:
        result["sysctls"] = {name: read_sysctl(name) for name in params["sysctls"]}
    if params["routes"]:
        ip = module.get_bin_path("ip", required=True)
        result["routes"] = json.loads(run(module, [ip, "-j", "route", "show", "default"]) or "[]")
    result["names"] = {name: resolve(name) for name in params["names"]}
    if params["connect"]:
        targets = sorted({(item["host"], item["port"]) for item in params["connect"]})
        with ThreadPoolExecutor(max_workers=min(len(targets), 32)) as pool:
            reached = pool.map(lambda target: answers(*target, params["connect_timeout"]), targets)
        result["connect"] = {f"{host}:{port}": ok for (host, port), ok in zip(targets, reached)}
    if params["node"]:
        ip = module.get_bin_path("ip", required=True)
        result["node"] = {"name": os.uname().nodename, "links": json.loads(run(module, [ip, "-j", "link", "show"]))}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
