"""User-Mode Linux on hosts whose XSAVE state is larger than UML knows (CPUs with AMX): the ptrace
wrapper in uml_xstate.c, built once per source with the host's gcc and preloaded into every guest
kernel. Without it Debian 12's UML panics at boot on such a host ("ptrace set fp regs failed,
errno = 14"); elsewhere it passes every call through. gcc and libc6-dev are among the lab's host
packages (image.HOST_PACKAGES)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from labctl import host

SOURCE = Path(__file__).with_name("uml_xstate.c")


def library() -> Path:
    """The built wrapper (built when its source changed)."""
    text = SOURCE.read_bytes()
    built = host.state_root() / "uml-xstate" / f"uml_xstate-{hashlib.sha256(text).hexdigest()[:16]}.so"
    if not built.exists():
        built.parent.mkdir(parents=True, exist_ok=True)
        partial = built.with_suffix(".tmp")
        host.run(["gcc", "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-ldl"])
        partial.rename(built)
    return built
