# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd_argv: one argument list as a systemd command line (ExecStart=), for the units boot_unit writes."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

NEEDS_QUOTES = re.compile(r'[\s"\\;\']')


def _word(word) -> str:
    text = str(word)
    if "\n" in text or "\r" in text:
        raise AnsibleFilterError(f"systemd_argv: {text!r}: a newline cannot be part of a command line")
    # Specifiers (%) and variables ($) are systemd's: doubled, they stand for themselves.
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{text}"' if NEEDS_QUOTES.search(str(word)) or not text else text


def systemd_argv(words: list) -> str:
    """[ARG, ...] -> the arguments as systemd reads them back: each word as it is, quoted where it holds
    a blank, a quote, a backslash or ';' (a lone ';' separates commands), '%' and '$' doubled."""
    if not isinstance(words, list) or not words:
        raise AnsibleFilterError(f"systemd_argv: a non-empty list of arguments is required, not {words!r}")
    return " ".join(_word(word) for word in words)


class FilterModule:
    def filters(self):
        return {"systemd_argv": systemd_argv}
