#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_instance
short_description: One keepalived VRRP instance, checked by keepalived before it is live, applied with a reload
version_added: 0.2.0
description:
  - Keeps one keepalived C(vrrp_instance) as its own file C(O(config_dir)/NAME.conf), which the main configuration
    O(main_config) must include (the C(keepalived_ha) role writes such a main file).
  - Every field is checked first; an error names the field and the value and nothing is changed.
  - The whole candidate configuration (the main file, and every file under its directory and O(config_dir), with
    the new or removed instance) is staged in a private directory, includes pointing there, and checked with
    C(keepalived -t) on the managed host itself. keepalived's message comes back in the error and the live files
    are untouched. A config test that passes only because a file or an include matched nothing, or that
    keepalived 2.2.7 kills when a non-root C(script_user) is set, is refused.
  - When the file changed, keepalived is reloaded (SIGHUP through its service), never restarted, so VIPs stay
    where they are; the module then waits until keepalived runs the instance as declared. keepalived is started
    when it was not running and O(state=present).
  - The password is C(no_log), written quoted in a file only root can read, and masked in the diff and in every
    return value. The live state is read from keepalived's JSON dump, which holds the password in clear text; the
    module keeps only the state fields and removes the dump file it asked for.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written, tested, reloaded or started; the live state is still read.
  diff_mode:
    support: full
    details: The instance's file, the password masked.
  platform:
    platforms: linux
requirements:
  - keepalived 2.x with JSON support (Debian and RHEL packages have it), run by systemd.
options:
  name:
    description: The instance's name (C(vrrp_instance NAME)), also the file's name.
    type: str
    required: true
  state:
    description: V(present) writes the instance; V(absent) removes its file and reloads keepalived.
    type: str
    choices: [present, absent]
    default: present
  initial_state:
    description:
      - The state keepalived starts the instance in. The highest priority becomes master whatever this says,
        unless O(nopreempt) is set (which needs V(BACKUP) on every node).
    type: str
    choices: [MASTER, BACKUP]
    default: BACKUP
  interface:
    description: The interface VRRP adverts are sent on. Required with O(state=present).
    type: str
  virtual_router_id:
    description: The VRID, 1 to 255; the same on every node of the instance and unique on the network.
    type: int
  priority:
    description: This node's priority, 1 to 254; the highest live node is master.
    type: int
    default: 100
  advert_int:
    description: Seconds between adverts; whole seconds with O(version=2), hundredths with O(version=3).
    type: float
    default: 1
  version:
    description: VRRP version.
    type: int
    choices: [2, 3]
    default: 2
  auth_pass:
    description:
      - PASS authentication (VRRP version 2 only), at most 8 printable ASCII characters without spaces, quotes or
        backslashes. Written quoted, so C(!) and C(#) are kept. Never shown.
    type: str
  virtual_ipaddresses:
    description: The addresses the master holds. Required with O(state=present).
    type: list
    elements: dict
    suboptions: &vip
      address:
        description: Address with prefix length (C(192.0.2.50/24)); without a prefix, a host address.
        type: str
        required: true
      dev:
        description: Interface that carries it; default O(interface).
        type: str
      label:
        description: IPv4 label, C(DEV:NAME), at most 15 characters.
        type: str
      scope:
        description: Address scope.
        type: str
        choices: [global, site, link, host, nowhere]
      brd:
        description: IPv4 broadcast address.
        type: str
  virtual_ipaddresses_excluded:
    description: Addresses the master holds that are not carried in the adverts (for example another family's).
    type: list
    elements: dict
    suboptions: *vip
  track_interfaces:
    description:
      - Interfaces whose failure lowers the priority by O(track_interfaces[].weight), or puts the instance in
        FAULT without one.
    type: list
    elements: dict
    suboptions: &tracked
      name:
        description: Name (an interface, or a C(vrrp_script) / C(vrrp_track_file) defined in the main configuration).
        type: str
        required: true
      weight:
        description: Priority change, -253 to 253.
        type: int
  track_scripts:
    description: C(vrrp_script) definitions (from the main configuration) the instance follows.
    type: list
    elements: dict
    suboptions: *tracked
  track_files:
    description: C(vrrp_track_file) definitions (from the main configuration) the instance follows.
    type: list
    elements: dict
    suboptions: *tracked
  nopreempt:
    description: A returning higher-priority node does not take the VIPs back. Needs O(initial_state=BACKUP).
    type: bool
    default: false
  preempt_delay:
    description: Seconds a returning higher-priority node waits before it takes the VIPs back (0 to 1000).
    type: int
  unicast_src_ip:
    description: Source address of unicast adverts (with O(unicast_peers)); multicast when unset.
    type: str
  unicast_peers:
    description: The other nodes' addresses for unicast adverts; never this node's own O(unicast_src_ip).
    type: list
    elements: str
  notify_master:
    description: Command (absolute path first) run on becoming master.
    type: str
  notify_backup:
    description: Command run on becoming backup.
    type: str
  notify_fault:
    description: Command run on entering FAULT.
    type: str
  notify_stop:
    description: Command run when the instance stops.
    type: str
  notify:
    description: Command run on every transition with the arguments TYPE NAME STATE PRIORITY.
    type: str
  garp_master_delay:
    description: Seconds after becoming master before the second set of gratuitous ARPs.
    type: int
  garp_master_repeat:
    description: Gratuitous ARPs sent at once on becoming master.
    type: int
  garp_master_refresh:
    description: Seconds between gratuitous ARP refreshes while master (0 none).
    type: int
  garp_master_refresh_repeat:
    description: Gratuitous ARPs sent at each refresh.
    type: int
  garp_lower_prio_delay:
    description: Seconds before the second set of gratuitous ARPs after a lower-priority advert.
    type: int
  garp_lower_prio_repeat:
    description: Gratuitous ARPs sent after a lower-priority advert.
    type: int
  config_dir:
    description: Directory of the instance files.
    type: path
    default: /etc/keepalived/conf.d
  main_config:
    description: keepalived's main configuration, which must exist and include O(config_dir)C(/NAME.conf).
    type: path
    default: /etc/keepalived/keepalived.conf
  service:
    description: The systemd unit that runs keepalived.
    type: str
    default: keepalived
  apply_timeout:
    description: Seconds to wait, after a reload or start, for keepalived to run the instance as declared.
    type: int
    default: 30
  wait_for:
    description:
      - Wait until the instance is in this state, for example a backup before its master is changed in a
        rolling change. Not in check mode.
    type: str
    choices: [MASTER, BACKUP, FAULT]
  wait_timeout:
    description: Seconds O(wait_for) waits; the module fails, naming the state reached, after them.
    type: int
    default: 60
seealso:
  - name: keepalived.conf(5)
    description: keepalived's configuration reference.
    link: https://keepalived.readthedocs.io/en/latest/configuration_synopsis.html
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: The VIP of the director pair, master on the node with the highest priority
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    priority: "{{ 150 if inventory_hostname == 'dir1' else 100 }}"
    auth_pass: "{{ vault_vrrp_pass }}"
    virtual_ipaddresses:
      - address: 192.0.2.50/24
        label: eth0:vip
    track_scripts:
      - {name: chk_nginx, weight: -30}
    notify: /etc/keepalived/notify.sh

- name: Unicast adverts where multicast is filtered
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    unicast_src_ip: 192.0.2.11
    unicast_peers: [192.0.2.12]
    virtual_ipaddresses:
      - address: 192.0.2.50/24

- name: A backup's change, then wait until it is backup again before the master is changed
  linux_cluster.lvs.vrrp_instance:
    name: VI_web
    interface: eth0
    virtual_router_id: 51
    priority: 90
    virtual_ipaddresses:
      - address: 192.0.2.50/24
    wait_for: BACKUP
"""

RETURN = r"""
path:
  description: The instance's file.
  returned: always
  type: str
  sample: /etc/keepalived/conf.d/VI_web.conf
instance:
  description: The instance as declared, normalised, the password masked (null with O(state=absent)).
  returned: always
  type: dict
live:
  description:
    - The instance as keepalived runs it, from its JSON dump; null when keepalived is not running or does not run
      the instance. Nothing secret.
  returned: always
  type: dict
  contains:
    state:
      description: INIT, BACKUP, MASTER or FAULT.
      type: str
      sample: MASTER
    base_priority:
      description: Configured priority.
      type: int
    effective_priority:
      description: Priority after tracked scripts, interfaces and files.
      type: int
    vips:
      description: The configured VIPs as keepalived lists them.
      type: list
      elements: str
    virtual_router_id:
      description: The VRID.
      type: int
    interface:
      description: The advert interface.
      type: str
    master_priority:
      description: Priority of the master last heard (0 when this node is master).
      type: int
    last_transition:
      description: Time of the last state change (seconds since the epoch).
      type: float
actions:
  description: What was done, in order (V(tested), V(written), V(removed), V(reloaded), V(started)).
  returned: always
  type: list
  elements: str
"""

import contextlib
import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._files import read_text, replace_file
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    GARP,
    NAME,
    NOTIFY,
    KeepalivedInputError,
    applied,
    config_test_problem,
    included,
    instance,
    live_instances,
    mask,
    public,
    render,
    restage_includes,
)

JSON_DUMP = "/tmp/keepalived.json"
VIP = {"address": {"type": "str", "required": True}, "dev": {"type": "str"}, "label": {"type": "str"},
       "scope": {"type": "str", "choices": ["global", "site", "link", "host", "nowhere"]}, "brd": {"type": "str"}}
TRACKED = {"name": {"type": "str", "required": True}, "weight": {"type": "int"}}


def argument_spec() -> dict:
    spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "initial_state": {"type": "str", "choices": ["MASTER", "BACKUP"], "default": "BACKUP"},
        "interface": {"type": "str"},
        "virtual_router_id": {"type": "int"},
        "priority": {"type": "int", "default": 100},
        "advert_int": {"type": "float", "default": 1},
        "version": {"type": "int", "choices": [2, 3], "default": 2},
        "auth_pass": {"type": "str", "no_log": True},
        "virtual_ipaddresses": {"type": "list", "elements": "dict", "options": VIP},
        "virtual_ipaddresses_excluded": {"type": "list", "elements": "dict", "options": VIP},
        "track_interfaces": {"type": "list", "elements": "dict", "options": TRACKED},
        "track_scripts": {"type": "list", "elements": "dict", "options": TRACKED},
        "track_files": {"type": "list", "elements": "dict", "options": TRACKED},
        "nopreempt": {"type": "bool", "default": False},
        "preempt_delay": {"type": "int"},
        "unicast_src_ip": {"type": "str"},
        "unicast_peers": {"type": "list", "elements": "str"},
        "config_dir": {"type": "path", "default": "/etc/keepalived/conf.d"},
        "main_config": {"type": "path", "default": "/etc/keepalived/keepalived.conf"},
        "service": {"type": "str", "default": "keepalived"},
        "apply_timeout": {"type": "int", "default": 30},
        "wait_for": {"type": "str", "choices": ["MASTER", "BACKUP", "FAULT"]},
        "wait_timeout": {"type": "int", "default": 60},
    }
    spec.update({field: {"type": "str"} for field in NOTIFY})
    spec.update({field: {"type": "int"} for field in GARP})
    return spec


class Keepalived:
    """keepalived on the managed host: its config test, its service and its JSON dump."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        # Not installed yet is fine in check mode (the play would install it); a real change needs it.
        self.binary = module.get_bin_path("keepalived", required=not module.check_mode, opt_dirs=["/usr/sbin", "/sbin"])
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.service = module.params["service"]

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self.module.run_command(argv, environ_update={"LC_ALL": "C"})

    def test(self, main_config: str, config_dir: str, path: str, text: str | None) -> str | None:
        """keepalived's verdict on the configuration with `path` holding `text` (None: removed), staged in a
        private directory with the includes pointing there. None when it is valid."""
        main_dir = os.path.dirname(main_config)
        stage = tempfile.mkdtemp(prefix=".vrrp_instance.", dir="/run" if os.path.isdir("/run") else None)
        try:
            moves = {main_dir: os.path.join(stage, "main")}
            shutil.copytree(main_dir, moves[main_dir], symlinks=True)
            inside = os.path.commonpath([main_dir, config_dir]) == main_dir
            if not inside:
                moves[config_dir] = os.path.join(stage, "snippets")
                shutil.copytree(config_dir, moves[config_dir], symlinks=True)
            root = main_dir if inside else config_dir
            staged_path = os.path.join(moves[root], os.path.relpath(path, root))
            os.makedirs(os.path.dirname(staged_path), exist_ok=True)
            if text is None:
                if os.path.lexists(staged_path):
                    os.unlink(staged_path)
            else:
                with open(staged_path, "w") as handle:
                    handle.write(text)
            for directory in moves.values():
                for parent, _dirs, files in os.walk(directory):
                    for name in files:
                        staged = os.path.join(parent, name)
                        try:
                            with open(staged) as handle:
                                original = handle.read()
                        except (UnicodeDecodeError, OSError):
                            continue
                        moved = restage_includes(original, moves)
                        if moved != original:
                            with open(staged, "w") as handle:
                                handle.write(moved)
            staged_main = os.path.join(moves[main_dir], os.path.basename(main_config))
            rc, out, err = self.run([self.binary, "--config-test", "--log-console", "-f", staged_main])
            problem = config_test_problem(rc, out, err)
            return None if problem is None else problem.replace(stage + "/main", main_dir).replace(
                stage + "/snippets", config_dir)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def active(self) -> bool:
        rc, _out, _err = self.run([self.systemctl, "is-active", "--quiet", self.service])
        return rc == 0

    def control(self, verb: str) -> None:
        rc, out, err = self.run([self.systemctl, verb, self.service])
        if rc != 0:
            self.module.fail_json(msg=f"systemctl {verb} {self.service} failed (rc={rc}): {(err or out).strip()}")

    def main_pid(self) -> int:
        rc, out, _err = self.run([self.systemctl, "show", "--property=MainPID", "--value", self.service])
        return int(out.strip() or 0) if rc == 0 and out.strip().isdigit() else 0

    def dump(self, timeout: float = 5) -> dict[str, dict] | None:
        """The instances keepalived runs, from the JSON dump it writes on its JSON signal; None when it is not
        running. The dump holds the password in clear text: it is read, reduced and removed."""
        pid = self.main_pid()
        if not pid or not self.binary:
            return None
        rc, out, _err = self.run([self.binary, "--signum=JSON"])
        if rc != 0 or not out.strip().isdigit():
            self.module.warn("keepalived cannot dump its state as JSON (built without it?): live state unknown")
            return None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(JSON_DUMP)
        try:
            os.kill(pid, int(out.strip()))
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = read_text(JSON_DUMP)
            if text:
                try:
                    instances = live_instances(text)
                except ValueError:
                    instances = None
                if instances is not None:
                    os.unlink(JSON_DUMP)
                    return instances
            time.sleep(0.1)
        return None


def wait(keepalived: Keepalived, name: str, done, timeout: float) -> dict | None:
    """Poll keepalived's dump until done(live instance or None) holds or `timeout` passes; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        instances = keepalived.dump()
        live = (instances or {}).get(name)
        if done(live) or time.monotonic() >= deadline:
            return live
        time.sleep(0.5)


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[["state", "present", ["interface", "virtual_router_id", "virtual_ipaddresses"]]],
        supports_check_mode=True,
    )
    params = module.params
    present = params["state"] == "present"
    if not NAME.match(params["name"]):
        module.fail_json(msg=f"name={params['name']!r}: use 1-64 letters, digits, '_', '.' or '-'; nothing was changed")
    try:
        inst = instance(params) if present else None
    except KeepalivedInputError as exc:
        module.fail_json(msg=f"{exc}; nothing was changed")
    for field in ("config_dir", "main_config"):
        if not os.path.isabs(params[field]):
            module.fail_json(msg=f"{field}={params[field]!r}: must be an absolute path; nothing was changed")
    name, config_dir, main_config = params["name"], params["config_dir"], params["main_config"]
    path = os.path.join(config_dir, f"{name}.conf")
    main_text = read_text(main_config)
    if present and main_text is None and module.check_mode:
        module.warn(f"main_config {main_config} does not exist yet: in a real run it must exist and include {path}")
    elif present and main_text is None:
        module.fail_json(msg=f"main_config={main_config!r}: does not exist, so keepalived would never load the "
                             "instance (the keepalived_ha role writes it); nothing was changed")
    elif present and not included(path, main_text, os.path.dirname(main_config)):
        module.fail_json(msg=f"config_dir={config_dir!r}: {main_config} has no include matching {path}, so keepalived "
                             "would silently ignore the instance; nothing was changed")
    keepalived = Keepalived(module)
    old, new = read_text(path), (render(inst) if inst else None)
    running = keepalived.active()
    result = {"changed": old != new or (present and not running), "path": path,
              "instance": public(inst) if inst else None, "actions": [], "live": None}
    if module._diff:
        result["diff"] = {"before": mask(old) or "", "after": mask(new) or "",
                          "before_header": path, "after_header": path}
    if result["changed"] and not module.check_mode:
        if old != new:
            problem = keepalived.test(main_config, config_dir, path, new)
            result["actions"].append("tested")
            if problem:
                result["changed"] = False
                module.fail_json(msg=f"keepalived refuses the configuration with this instance "
                                     f"{'removed' if new is None else 'as declared'}; the live files are untouched:\n"
                                     f"{mask(problem)}", **result)
            if new is None:
                os.unlink(path)
                result["actions"].append("removed")
            else:
                os.makedirs(config_dir, mode=0o755, exist_ok=True)
                replace_file(path, new, 0o600)
                result["actions"].append("written")
        if running and old != new:
            keepalived.control("reload")
            result["actions"].append("reloaded")
        elif present and not running:
            keepalived.control("start")
            result["actions"].append("started")
        if not (running or present):
            module.exit_json(**result)
        live = wait(keepalived, name, lambda now: not keepalived.active() or applied(now, inst),
                    params["apply_timeout"])
        if not keepalived.active():
            module.fail_json(msg=f"keepalived ({keepalived.service}) is not running after the "
                                 f"{result['actions'][-1]}: see journalctl -u {keepalived.service}", **result)
        if not applied(live, inst):
            module.fail_json(msg=f"keepalived does not run instance {name} as declared {params['apply_timeout']} s "
                                 f"after the {result['actions'][-1]}; it runs: {live}", **result)
    if running or result["actions"]:
        result["live"] = (keepalived.dump() or {}).get(name)
    if params["wait_for"] and present and not module.check_mode:
        live = wait(keepalived, name, lambda now: bool(now) and now["state"] == params["wait_for"],
                    params["wait_timeout"])
        result["live"] = live
        if not live or live["state"] != params["wait_for"]:
            module.fail_json(msg=f"wait_for={params['wait_for']!r}: instance {name} is "
                                 f"{live['state'] if live else 'not running'} after {params['wait_timeout']} s",
                             **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
