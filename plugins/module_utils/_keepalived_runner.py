# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that runs keepalived and its service on the managed host: the staged config test,
systemctl, the JSON dump and the waits. Argv lists, LC_ALL=C; failures raise KeepalivedError."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable

from ansible_collections.linux_cluster.lvs.plugins.module_utils._files import read_text, replace_file
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    applied,
    config_test_problem,
    live_instances,
    mask,
    restage_includes,
)

JSON_DUMP = "/tmp/keepalived.json"


class KeepalivedError(RuntimeError):
    """keepalived or its service did not do what was asked."""


class Keepalived:
    """keepalived on the managed host: its config test, its service and its JSON dump."""

    def __init__(self, module, service: str, required: bool = True):
        self.module = module
        # Not installed yet is fine in check mode (the play would install it); a real change needs it. A reader
        # (required=False) finds nothing where it is not installed.
        self.binary = module.get_bin_path("keepalived", required=required and not module.check_mode,
                                          opt_dirs=["/usr/sbin", "/sbin"])
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.service = service

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
                _restage_tree(directory, moves)
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
            raise KeepalivedError(f"systemctl {verb} {self.service} failed (rc={rc}): {(err or out).strip()}")

    def main_pid(self) -> int:
        rc, out, _err = self.run([self.systemctl, "show", "--property=MainPID", "--value", self.service])
        return int(out.strip() or 0) if rc == 0 and out.strip().isdigit() else 0

    def dump(self, timeout: float = 5, digest_key: str | None = None) -> dict[str, dict] | None:
        """The instances keepalived runs, from the JSON dump it writes on its JSON signal; None when it is not
        running. The dump holds the password in clear text: it is read, reduced and removed (live_instances; with
        `digest_key`, the authentication keyed)."""
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
                    instances = live_instances(text, digest_key)
                except ValueError:
                    instances = None
                if instances is not None:
                    os.unlink(JSON_DUMP)
                    return instances
            time.sleep(0.1)
        return None

    def live(self, name: str) -> dict | None:
        return (self.dump() or {}).get(name)

    def wait(self, name: str, done: Callable[[dict | None], bool], timeout: float) -> dict | None:
        """Poll the dump until done(live instance or None) holds or `timeout` passes; the last reading."""
        deadline = time.monotonic() + timeout
        while True:
            live = self.live(name)
            if done(live) or time.monotonic() >= deadline:
                return live
            time.sleep(0.5)

    def apply(self, files: InstanceFile, inst: dict | None, timeout: float, actions: list[str]) -> None:
        """Test, write (or remove) the instance's file, reload or start keepalived and wait until it runs the
        instance as declared, recording each action in `actions`. Nothing is written when the test fails."""
        running = self.active()
        if files.differs:
            problem = self.test(files.main_config, files.config_dir, files.path, files.new)
            actions.append("tested")
            if problem:
                raise KeepalivedError(f"keepalived refuses the configuration with this instance "
                                      f"{'removed' if files.new is None else 'as declared'}; the live files are "
                                      f"untouched:\n{mask(problem)}")
            actions.append(files.write())
        if running and files.differs:
            self.control("reload")
            actions.append("reloaded")
        elif inst is not None and not running:
            self.control("start")
            actions.append("started")
        if not (running or inst is not None):
            return
        live = self.wait(files.name, lambda now: not self.active() or applied(now, inst), timeout)
        if not self.active():
            raise KeepalivedError(f"keepalived ({self.service}) is not running after the {actions[-1]}: see "
                                  f"journalctl -u {self.service}")
        if not applied(live, inst):
            raise KeepalivedError(f"keepalived does not run instance {files.name} as declared {timeout} s after the "
                                  f"{actions[-1]}; it runs: {live}")


def _restage_tree(directory: str, moves: dict[str, str]) -> None:
    """Every text file under `directory` with its includes moved as `moves` says."""
    for parent, _dirs, names in os.walk(directory):
        for name in names:
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


class InstanceFile:
    """The instance's own file: what it holds and what it should hold."""

    def __init__(self, name: str, config_dir: str, main_config: str, new: str | None):
        self.name, self.config_dir, self.main_config = name, config_dir, main_config
        self.path = os.path.join(config_dir, f"{name}.conf")
        self.old, self.new = read_text(self.path), new

    def main_text(self) -> str | None:
        return read_text(self.main_config)

    @property
    def differs(self) -> bool:
        return self.old != self.new

    def write(self) -> str:
        if self.new is None:
            os.unlink(self.path)
            return "removed"
        os.makedirs(self.config_dir, mode=0o755, exist_ok=True)
        replace_file(self.path, self.new, 0o600)
        return "written"

    def diff(self) -> dict:
        return {"before": mask(self.old) or "", "after": mask(self.new) or "", "before_header": self.path,
                "after_header": self.path}
