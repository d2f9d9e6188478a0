"""tools/lab: build, boot, inspect and remove the lab of real guests."""

from __future__ import annotations

import argparse
import os
import sys
import time

from labctl import docker, guests, host, image, repo, topology

INVENTORY_KEY_EXPR = "{{ lookup('ansible.builtin.env', 'LVS_LAB_DIR', default='/var/tmp/lvs-lab') }}/id_ed25519"


def host_packages() -> tuple[str, ...]:
    return image.HOST_PACKAGES + (image.QEMU_HOST_PACKAGES if host.backend() == "qemu" else ())


def cmd_image(args: argparse.Namespace) -> int:
    host.ensure_packages(host_packages())
    _key, pub = host.ssh_key()
    print(image.build(host.state_root(), pub, force=args.force, backend=host.backend(), suite=host.suite()))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    host.check_host()
    host.ensure_packages(host_packages())
    names = topology.select(args.guests)
    _key, pub = host.ssh_key()
    suite = host.suite()
    base = image.build(host.state_root(), pub, backend=host.backend(), suite=suite)
    mem = args.mem or ("384M" if host.backend() == "qemu" else "256M")
    packages = repo.build(host.state_root(), base.parent / "dpkg-status", suite)
    started = time.monotonic()
    instance = host.instance_dir()
    if host.running_guests(instance) and host.recorded_suite(instance) != suite:
        raise SystemExit(f"lab: lab '{host.lab_name()}' runs {host.recorded_suite(instance)} guests; "
                         f"take it down before you boot {suite} ones")
    instance.mkdir(parents=True, exist_ok=True)
    (instance / host.SUITE_FILE).write_text(suite + "\n")
    guests.ensure_network()
    repo.serve(packages)
    running = host.running_guests(host.instance_dir())
    booted = []

    def boot(name: str) -> int:
        return guests.start(name, base, mem, host.backend())

    for name in names:
        if name in running:
            continue
        boot(name)
        booted.append(name)
    try:
        guests.wait_ready(names, args.timeout, boot=boot)
    except BaseException:
        if not args.keep_on_failure:
            guests.remove_all()
        raise
    if booted:
        print(f"lab: booted {', '.join(booted)} in {time.monotonic() - started:.1f} s", flush=True)
    else:
        print("lab: all requested guests already running", flush=True)
    return cmd_status(args)


def cmd_restart(args: argparse.Namespace) -> int:
    """Power-cycle guests: stop by PID, boot again on the same disk (what a reboot keeps)."""
    names = topology.select(args.guests)
    running = host.running_guests(host.instance_dir())
    _key, pub = host.ssh_key()
    base = image.build(host.state_root(), pub, backend=host.backend(), suite=host.suite())
    mem = args.mem or ("384M" if host.backend() == "qemu" else "256M")

    def boot(name: str) -> int:
        return guests.start(name, base, mem, host.backend(), keep_disk=True)

    # Shared SSH connections to a guest that goes away would hang their next user.
    guests.end_shared_connections(names)
    for name in names:
        if name in running:
            guests.stop(name, running[name])
        boot(name)
    guests.wait_ready(names, args.timeout, boot=boot)
    print(f"lab: power-cycled {', '.join(names)}", flush=True)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    guests.remove_all(keep_network=args.keep_network)
    print(f"lab: '{host.lab_name()}' removed", flush=True)
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    instance = host.instance_dir()
    running = host.running_guests(instance)
    known = sorted(p.stem for p in instance.glob("run/*.pid")) if instance.exists() else []
    print(f"lab '{host.lab_name()}' ({host.suite()}) namespace {host.namespace()}: "
          f"{'present' if guests.namespace_exists() else 'absent'}")
    dead = 0
    for name in topology.GUESTS:
        if name in running:
            state = f"running pid {running[name]}"
        elif name in known:
            state, dead = "DIED (see its log under " + str(instance / "run") + ")", dead + 1
        else:
            continue
        print(f"  {name:8} {topology.guest_address(name):15} {state}")
    return 1 if dead else 0


def cmd_inventory(_args: argparse.Namespace) -> int:
    sys.stdout.write(topology.inventory_text(INVENTORY_KEY_EXPR))
    return 0


def cmd_instances(args: argparse.Namespace) -> int:
    """Molecule's instance config (YAML) for the named guests."""
    key, _pub = host.ssh_key()
    for name in topology.select(args.guests):
        print(f"- instance: {name}\n  address: {topology.guest_address(name)}\n  user: root\n"
              f"  port: 22\n  identity_file: {key}")
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    argv = guests.ssh_argv(args.guest, args.command)
    os.execvp(argv[0], argv)
    return 1


def cmd_exec(args: argparse.Namespace) -> int:
    if not args.command:
        raise SystemExit("lab: exec needs a command after --")
    host.check_host()
    guests.ensure_network()
    repo.revive(host.state_root())
    # Every lab reuses the same guest addresses: SSH connection sharing must not hand one lab's
    # connection (to a guest that is gone) to another, so each lab gets its own control sockets.
    control_dir = guests.control_dir()
    control_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LVS_LAB=host.lab_name(), LVS_LAB_DIR=str(host.state_root()),
               LVS_LAB_BACKEND=host.backend(), LVS_LAB_SUITE=host.suite(),
               ANSIBLE_SSH_CONTROL_PATH_DIR=str(control_dir),
               ANSIBLE_SSH_ARGS=guests.ansible_ssh_args())
    argv = ["ip", "netns", "exec", host.namespace(), *args.command]
    os.execvpe(argv[0], argv, env)
    return 1


def cmd_docker(args: argparse.Namespace) -> int:
    """The lab's own Docker daemon (Molecule's Docker driver): up, down, or exec -- CMD with DOCKER_HOST set."""
    if args.action == "up":
        docker.up()
    elif args.action == "ee-base":
        docker.up(docker.build_ee_base)
        print(f"lab: image {docker.EE_BASE} (Python {docker.EE_PYTHON})", flush=True)
    elif args.action == "link":
        print(f"lab: dockerd's namespace joins lab '{host.lab_name()}' as {docker.link()}", flush=True)
    elif args.action == "down":
        docker.down()
        print(f"lab: dockerd stopped, namespace {docker.NAMESPACE} removed", flush=True)
    else:
        if not args.command:
            raise SystemExit("lab: docker exec needs a command after --")
        os.execvpe(args.command[0], args.command, docker.client_env())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tools/lab", description=__doc__)
    p.add_argument("--lab", help="lab instance name (env LVS_LAB, default 'lab'); each has its own namespace")
    p.add_argument("--backend", choices=["uml", "qemu"],
                   help="guest kind (env LVS_LAB_BACKEND): User-Mode Linux (default) or QEMU in software emulation")
    p.add_argument("--suite", choices=list(host.SUITES),
                   help="the guests' Debian release (env LVS_LAB_SUITE): bookworm (default) or trixie; a lab keeps "
                        "the one it was booted with")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("image", help="build the guest image if its inputs changed")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_image)
    s = sub.add_parser("up", help="create the network and boot guests (all by default)")
    s.add_argument("guests", nargs="*")
    s.add_argument("--mem", help="guest memory (default 256M for uml, 384M for qemu)")
    s.add_argument("--timeout", type=float, default=180)
    s.add_argument("--keep-on-failure", action="store_true")
    s.set_defaults(func=cmd_up)
    s = sub.add_parser("restart", help="power-cycle guests, keeping their disks (a reboot)")
    s.add_argument("guests", nargs="+")
    s.add_argument("--mem")
    s.add_argument("--timeout", type=float, default=180)
    s.set_defaults(func=cmd_restart)
    s = sub.add_parser("down", help="stop guests by PID, remove taps and the namespace")
    s.add_argument("--keep-network", action="store_true", help="keep the namespace (when called from inside it)")
    s.set_defaults(func=cmd_down)
    sub.add_parser("status", help="list guests; exit 1 if one died").set_defaults(func=cmd_status)
    sub.add_parser("inventory", help="print the Ansible inventory of the topology").set_defaults(func=cmd_inventory)
    s = sub.add_parser("instances", help="print Molecule's instance config for guests")
    s.add_argument("guests", nargs="+")
    s.set_defaults(func=cmd_instances)
    s = sub.add_parser("ssh", help="SSH to a guest")
    s.add_argument("guest", choices=list(topology.GUESTS))
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_ssh)
    s = sub.add_parser("exec", help="run a command inside the lab namespace: exec -- CMD...")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_exec)
    s = sub.add_parser("docker", help="the lab's own dockerd for Molecule's Docker driver: up, down, exec -- CMD; "
                                      "ee-base (an execution environment's base image), link (to this lab's "
                                      "front network)")
    s.add_argument("action", choices=["up", "down", "exec", "ee-base", "link"])
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_docker)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    host.ensure_sbin_path()
    if args.lab:
        os.environ["LVS_LAB"] = args.lab
    if args.backend:
        os.environ["LVS_LAB_BACKEND"] = args.backend
    if args.suite:
        os.environ["LVS_LAB_SUITE"] = args.suite
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    return args.func(args)
