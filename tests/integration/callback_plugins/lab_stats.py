# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab tests' callback: Ansible's own statistics of a run (what its PLAY RECAP prints), per host, written as
JSON to the file LVS_TEST_STATS names. Enabled only by the tests (labhelp.run_with_stats)."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: lab_stats
type: aggregate
short_description: the run's per-host statistics as JSON, for the lab tests
description:
  - Writes the statistics of the run (ok, changed, unreachable, failures, skipped, rescued, ignored per host) to
    the file named by the environment variable E(LVS_TEST_STATS).
requirements:
  - enabled in the configuration or with E(ANSIBLE_CALLBACKS_ENABLED)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lab_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("LVS_TEST_STATS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({host: stats.summarize(host) for host in sorted(stats.processed)}, handle)
