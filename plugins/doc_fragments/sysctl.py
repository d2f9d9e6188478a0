# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What sysctl_file and sysctl_arp share: one managed file in /etc/sysctl.d and the live values it stands for
(module_utils/_sysctl.py and _sysctl_runner.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the file, and the live values that change as comments.
  platform:
    platforms: linux
notes:
  - The module owns the file at O(path) completely; use one path per set of settings.
  - Live values are written only where they differ, before the file.
  - A setting the file held before and no longer holds, and every setting of the file with O(state=absent), goes
    back to the value it gets at boot from the rest of the sysctl configuration (C(/etc/sysctl.d),
    C(/run/sysctl.d), C(/usr/lib/sysctl.d), C(/etc/sysctl.conf), read as C(systemd-sysctl) reads them), or else to
    the kernel's default for the settings this collection manages (C(ip_forward), C(ip_nonlocal_bind),
    C(send_redirects), C(arp_ignore), C(arp_announce), C(rp_filter), C(net.ipv4.vs.expire_nodest_conn),
    C(net.ipv4.vs.sync_threshold), C(net.ipv4.vs.sync_refresh_period)).
  - Where C(/proc/sys) is read-only (in a container), a live value that differs is reported with a warning and left
    to the next boot (give such settings when the container is created).
"""
