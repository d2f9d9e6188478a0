"""The parts of the roles' meta/argument_specs.yml that come from the collection's field declarations:
the options of lvs_director_services and keepalived_ha_virtual_servers (from _ipvs_options as ipvs_rules
takes them, with keepalived's options from _keepalived_lvs), of keepalived_ha_instances and
keepalived_ha_scripts (from _keepalived, as vrrp_instance takes them and the role adds to them), and of
nginx_proxy's upstreams and servers (from _nginx). A new field is declared once; this writes it into the
role's specs. The ntp_prereqs role's time settings (from _chrony) are written whole.

    .venv/bin/python tools/role_specs.py          # rewrite the files
    .venv/bin/python tools/role_specs.py --check  # exit 1 when a file differs (the unit tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _collection() -> None:
    """The repository importable as ansible_collections.linux_cluster.lvs (as the unit tests make it)."""
    sys.path.insert(0, str(ROOT / "tests/unit"))
    import conftest  # noqa: F401  (registers the package)


def role_options(spec: dict, docs: dict) -> dict:
    """A role spec's `options` from an argument spec and the documentation of the same options."""
    options = {}
    for name, entry in spec.items():
        option = {"description": docs[name]["description"], **{key: value for key, value in entry.items()
                                                               if key != "options"}}
        if "options" in entry:
            option["options"] = role_options(entry["options"], docs[name].get("suboptions", {}))
        options[name] = option
    return options


class WholeEntry(dict):
    """A variable's whole entry (description, type, default and options), not only its options."""


def derived() -> dict[str, dict[str, dict]]:
    """{argument_specs.yml path: {variable: its options}}."""
    _collection()
    from ansible_collections.linux_cluster.lvs.plugins.filter.keepalived_ha import (
        PASSED,
        ROLE_INSTANCE_FIELDS,
        role_instance_spec,
    )
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._chrony import TIME_FIELDS
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import argument_spec
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import options_doc as field_docs
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import SCRIPT_FIELDS
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived_lvs import (
        SYNC_FIELDS,
        services_doc,
        spec,
    )
    from ansible_collections.linux_cluster.lvs.plugins.module_utils._nginx import PROXY

    def items(fields) -> dict:
        return role_options(argument_spec(fields), field_docs(fields))

    return {
        "roles/lvs_director/meta/argument_specs.yml": {
            "lvs_director_services": role_options(spec(), services_doc("lvs_director_services[]."))},
        "roles/keepalived_ha/meta/argument_specs.yml": {
            "keepalived_ha_instances": role_options(role_instance_spec(),
                                                    field_docs(PASSED + ROLE_INSTANCE_FIELDS, role=True)),
            "keepalived_ha_scripts": items(SCRIPT_FIELDS),
            "keepalived_ha_virtual_servers": role_options(spec(), services_doc("keepalived_ha_virtual_servers[].")),
            "keepalived_ha_lvs_sync_daemon": items(SYNC_FIELDS)},
        "roles/nginx_proxy/meta/argument_specs.yml": {
            f"nginx_proxy_{name}": items(PROXY[name].options)
            for name in ("upstreams", "servers", "stream_upstreams", "stream_servers")},
        # The time settings whole (each variable's own entry), the sources' options included.
        "roles/ntp_prereqs/meta/argument_specs.yml": {
            f"ntp_prereqs_{name}": WholeEntry(entry)
            for name, entry in role_options(argument_spec(TIME_FIELDS), field_docs(TIME_FIELDS)).items()},
    }


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def rendered(path: str, options_by_variable: dict) -> str:
    data = yaml.safe_load((ROOT / path).read_text())
    for variable, options in options_by_variable.items():
        if isinstance(options, WholeEntry):
            data["argument_specs"]["main"]["options"][variable] = dict(options)
        else:
            data["argument_specs"]["main"]["options"][variable]["options"] = options
    return "---\n" + yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=110, default_flow_style=False)


def main(argv: list[str]) -> int:
    stale = []
    for path, options in derived().items():
        text = rendered(path, options)
        if (ROOT / path).read_text() != text:
            stale.append(path)
            if "--check" not in argv:
                (ROOT / path).write_text(text)
    if stale and "--check" in argv:
        print("out of date (run tools/role_specs.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
