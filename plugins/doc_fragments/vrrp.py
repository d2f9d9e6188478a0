# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option documentation of vrrp_instance, written from the field declarations in
module_utils/_keepalived.py (the same ones its argument spec, checks and rendering come from)."""

from __future__ import annotations

import json

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import options_doc
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import INSTANCE_FIELDS, MODULE_FIELDS


class ModuleDocFragment:
    DOCUMENTATION = r"""
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
"""


# vrrp_instance's options (JSON is YAML): every VRRP field, then where the instance lives and how it is applied.
ModuleDocFragment.INSTANCE = json.dumps({"options": options_doc(INSTANCE_FIELDS + MODULE_FIELDS)}, indent=1)
