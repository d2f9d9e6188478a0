# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of the collection's read-only modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    details: The module never changes anything, so it runs the same in check mode.
  diff_mode:
    support: N/A
    details: The module never changes anything.
"""

    # linux_cluster.lvs.read_only.linux: a read-only module that reads what only Linux has.
    LINUX = r"""
attributes:
  platform:
    platforms: linux
"""
