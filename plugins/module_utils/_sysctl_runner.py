# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One managed sysctl.d file and the live values it stands for, on the managed host: read, plan, apply.
Live values are written only where they differ; a read-only /proc/sys (a container's) is reported,
not fatal; a setting the file no longer holds goes back to the value it gets at boot. The kernel modules
the settings need are loaded first and listed for the boot in a modules-load.d file of the same name."""

from __future__ import annotations

import os

from ansible_collections.linux_cluster.lvs.plugins.module_utils._files import read_text, replace_file
from ansible_collections.linux_cluster.lvs.plugins.module_utils._sysctl import (
    HEADER,
    MODULES_LOAD_DIR,
    SYSCTL_CONF,
    SYSCTL_DIRS,
    boot_order,
    boot_value,
    modules_load_path,
    parse_file,
    plan,
    proc_path,
    render,
    render_modules,
)

PROC_SYS = "/proc/sys"
SYS_MODULE = "/sys/module"
# Where the boot configuration is read from and the modules are listed (tests point these elsewhere).
BOOT_DIRS, BOOT_CONF, MODULES_DIR = SYSCTL_DIRS, SYSCTL_CONF, MODULES_LOAD_DIR
OURS = HEADER.split("{module}", maxsplit=1)[0]


def read_live(names) -> dict[str, str | None]:
    """The live value of each setting, None when the kernel has no such setting."""
    live = {}
    for name in names:
        try:
            with open(os.path.join(PROC_SYS, proc_path(name))) as handle:
                live[name] = "\t".join(handle.read().split())
        except (FileNotFoundError, NotADirectoryError):
            live[name] = None
    return live


def writable(name: str) -> bool:
    return os.access(os.path.join(PROC_SYS, proc_path(name)), os.W_OK)


def boot_files(exclude: str) -> list[tuple[str, str]]:
    """The sysctl configuration read at boot, in order, without the file `exclude`."""
    listing = {directory: sorted(os.listdir(directory)) for directory in BOOT_DIRS if os.path.isdir(directory)}
    order = boot_order(listing, BOOT_DIRS, BOOT_CONF if os.path.isfile(BOOT_CONF) else None)
    return [(path, read_text(path) or "") for path in order
            if os.path.isfile(path) and os.path.realpath(path) != os.path.realpath(exclude)]


def unloaded(modules: list[str]) -> list[str]:
    """The modules of `modules` the kernel has not loaded."""
    return [name for name in modules if not os.path.isdir(os.path.join(SYS_MODULE, name))]


class SysctlFile:
    """The file at `path` taken to hold `wanted` ({name: value}; None: the file removed), with `modules` listed
    for the boot (None: the module manages no modules); `loaded`: the modules this run loads (in check mode, would
    load: the settings they bring cannot be read yet)."""

    def __init__(self, path: str, wanted: dict[str, str] | None, module: str, modules: tuple[str, ...] | None = None,
                 loaded: tuple[str, ...] = (), check_mode: bool = False):
        self.path, self.wanted, self.loaded, self.managed = path, wanted or {}, list(loaded), modules is not None
        self.old_text = read_text(path)
        self.new_text = render(wanted, module) if wanted is not None else None
        self.modules_path = modules_load_path(path, MODULES_DIR)
        self.old_modules = read_text(self.modules_path) if self.managed else None
        self.new_modules = render_modules(list(modules), module) if self.managed and wanted is not None else None
        if self.new_modules is None and not (self.old_modules or OURS).startswith(OURS):
            self.new_modules = self.old_modules  # another's file of that name stays
        held = parse_file(self.old_text)
        files = boot_files(path) if set(held) - set(self.wanted) else []
        self.released = {name: boot_value(name, files) for name in held if name not in self.wanted}
        self.live = read_live([*self.wanted, *self.released])
        self.missing = [] if check_mode and self.loaded else \
            sorted(name for name in self.wanted if self.live[name] is None)
        changes = plan(self.live, self.wanted, self.released)
        # A container's /proc/sys is read-only: a setting given at its creation cannot be changed from inside.
        self.fixed = sorted(name for name in changes if not writable(name))
        self.changes = {name: pair for name, pair in changes.items() if name not in self.fixed}
        self.unknown = sorted(name for name, value in self.released.items() if value is None)

    @property
    def file_changed(self) -> bool:
        return self.old_text != self.new_text or self.old_modules != self.new_modules

    @property
    def changed(self) -> bool:
        return self.file_changed or bool(self.changes) or bool(self.loaded)

    def diff(self) -> dict:
        def live_lines(side: int) -> str:
            return "".join(f"# live {name} = {pair[side]}\n" for name, pair in self.changes.items())

        def modules(text: str | None) -> str:
            return f"# {self.modules_path}:\n{text}" if text else ""
        loaded = "".join(f"# loaded {name}\n" for name in self.loaded)
        return {"before": (self.old_text or "") + live_lines(0) + modules(self.old_modules),
                "after": (self.new_text or "") + live_lines(1) + modules(self.new_modules) + loaded,
                "before_header": self.path, "after_header": self.path}

    def apply(self) -> None:
        """Live values first (a setting that must hold before something else happens, such as arp_ignore
        before a VIP is added, holds before this returns), then the file."""
        for name, (_before, after) in self.changes.items():
            with open(os.path.join(PROC_SYS, proc_path(name)), "w") as handle:
                handle.write(f"{after.replace(chr(9), ' ')}\n")
        for path, old, new in ((self.modules_path, self.old_modules, self.new_modules),
                               (self.path, self.old_text, self.new_text)):
            if new is None:
                if old is not None:
                    os.unlink(path)
            elif new != old:
                replace_file(path, new, 0o644)

    def result(self) -> dict:
        after = {name: self.changes.get(name, (None, live))[1] for name, live in self.live.items()}
        return {"changed": self.changed, "path": self.path,
                "changed_settings": list(self.changes),
                "settings": {name: after[name] for name in self.wanted if after.get(name) is not None},
                "released": {name: value for name, value in self.released.items() if value is not None},
                "fixed": self.fixed, **({"loaded": self.loaded} if self.managed else {})}

    def warnings(self) -> list[str]:
        notes = [f"{name}: /proc/sys is read-only here (a container?), so its live value stays "
                 f"{self.live[name]!r} until the next boot" for name in self.fixed]
        notes += [f"{name}: no longer in {self.path}, and neither the sysctl configuration nor the module knows "
                  "the value it gets at boot; its live value is left as it is" for name in self.unknown]
        return notes


class SysctlError(RuntimeError):
    """The host cannot hold the declared file or settings (`missing`: a setting the kernel lacks)."""

    def __init__(self, message: str, missing: str | None = None):
        super().__init__(message)
        self.missing = missing


def load(module, modules: list[str]) -> None:
    """modprobe each of `modules` (SysctlError naming the one that failed)."""
    for name in modules:
        rc, _out, err = module.run_command([module.get_bin_path("modprobe", required=True), name])
        if rc != 0:
            raise SysctlError(f"modules: modprobe {name} failed: {err.strip()}")


def read(path: str, wanted: dict[str, str] | None, module: str, modules: tuple[str, ...] | None = None,
         loaded: tuple[str, ...] = (), check_mode: bool = False) -> SysctlFile:
    """The file and the live settings, or SysctlError when the host cannot hold them."""
    if os.path.isdir(path):
        raise SysctlError(f"path={path!r}: is a directory")
    if wanted is not None and not os.path.isdir(os.path.dirname(path)):
        raise SysctlError(f"path={path!r}: directory {os.path.dirname(path)} does not exist")
    if modules and not os.path.isdir(MODULES_DIR):
        raise SysctlError(f"modules: directory {MODULES_DIR} does not exist")
    state = SysctlFile(path, wanted, module, modules, loaded, check_mode)
    if state.missing:
        raise SysctlError(f"settings.{state.missing[0]}: the kernel has no such setting "
                          f"(no {PROC_SYS}/{proc_path(state.missing[0])})", missing=state.missing[0])
    return state


def converge(module, state: SysctlFile) -> dict:
    """Warnings, the diff and, unless in check mode, the change: the module's result."""
    for warning in state.warnings():
        module.warn(warning)
    result = state.result()
    if module._diff:
        result["diff"] = state.diff()
    if state.changed and not module.check_mode:
        state.apply()
    return result
