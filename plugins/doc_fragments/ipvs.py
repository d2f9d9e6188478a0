# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option documentation shared by the IPVS modules."""

from __future__ import annotations

import json

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER_MODULE_SERVICE_NAMES,
    SERVICE_ID,
    SERVICE_SETTINGS,
    options_doc,
    realserver_doc,
)


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the affected services in C(ipvsadm -S) form, before and after.
  platform:
    platforms: linux
requirements:
  - C(ipvsadm) on the managed host.
  - A kernel with IPVS (C(CONFIG_IP_VS)); the module loads C(ip_vs) when it is not loaded yet.
notes:
  - The current table is read from the kernel over generic netlink where it offers IPVS there (every attribute,
    thresholds included, in one socket), otherwise with C(ipvsadm -Sn) and C(ipvsadm -Ln --thresholds); every
    attribute is compared, and only what differs is changed.
  - Changes of real servers alone (added, edited, deleted) are sent to the kernel over generic netlink, as
    C(ipvsadm -a), C(-e) and C(-d) send them, without starting a process; any other change, or every change
    where the kernel offers no IPVS netlink family, goes through C(ipvsadm), several as one C(ipvsadm -R) batch.
    The results' RV(commands) are the C(ipvsadm) commands equivalent to what was done. The services the changes
    touched are read again afterwards and the module fails if they do not match what was declared.
  - Addresses must be IP literals; IPv6 addresses are written plainly (V(2001:db8::1)), without brackets.
"""


def _fragment(options: dict) -> str:
    """A doc fragment's YAML (JSON is YAML) for `options`."""
    return json.dumps({"options": options}, indent=1)


# The option fragments are written from the option declarations (module_utils/_ipvs_options.py),
# the same ones the modules build their argument specs from.
_SERVICE_OPTIONS = SERVICE_ID + SERVICE_SETTINGS
_REALSERVERS = {
    "description": ["The complete list of the service's real servers."],
    "type": "list",
    "elements": "dict",
}

# ipvs_service: one service; the module documents `realservers` itself, this adds its suboptions.
ModuleDocFragment.SERVICE = _fragment({
    **options_doc(_SERVICE_OPTIONS),
    "realservers": {"suboptions": realserver_doc("realservers[].")},
})

# ipvs_realserver: one real server and, under their own names, the service's identity.
ModuleDocFragment.REALSERVER = _fragment({
    **realserver_doc(),
    **options_doc(SERVICE_ID, names=REALSERVER_MODULE_SERVICE_NAMES),
})

# ipvs_rules: each item of `services` (the module documents the list itself).
ModuleDocFragment.RULES = _fragment({"services": {"suboptions": {
    **options_doc(_SERVICE_OPTIONS, "services[]."),
    "realservers": dict(_REALSERVERS, suboptions=realserver_doc("services[].realservers[].")),
}}})
