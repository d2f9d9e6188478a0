"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates its sanity virtual environments without pip and runs a
cached get-pip script in them as `python get_pip.py [pip install arguments]`.
This machine has PyPI but not the host that serves that script, so the
Makefile caches this file in its place: it installs Python's bundled pip
with ensurepip, then runs pip with the arguments ansible-test passed.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip's own switches (do not add setuptools / wheel) are not pip options.
OWN = {"--no-setuptools", "--no-wheel"}

# ensurepip in a child process: in-process it blanks pip's configuration for what follows.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet",
                          *[arg for arg in sys.argv[1:] if arg not in OWN]]))
