"""The option declarations: every declared setting is written, read back and compared, and
argument specs and documentation come from the same declarations."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.linux_cluster.lvs.plugins.doc_fragments.ipvs import ModuleDocFragment
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import normalize_service
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    REALSERVER_SETTINGS,
    SERVICE_SETTINGS,
    realserver_module_spec,
    service_spec,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_plan import plan
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvsadm import parse_save, save_text

# For every declared setting: a service where it applies, and a change of that setting (with
# what the new value needs).
SERVICE_SAMPLES = {
    "scheduler": ({"protocol": "tcp"}, {"scheduler": "sh"}),
    "persistence_timeout": ({"protocol": "tcp"}, {"persistence_timeout": 600}),
    "persistence_netmask": ({"protocol": "tcp", "persistence_timeout": 60}, {"persistence_netmask": "255.255.0.0"}),
    "scheduler_flags": ({"protocol": "udp", "scheduler": "sh"}, {"scheduler_flags": ["sh-port"]}),
    "persistence_engine": ({"protocol": "udp", "persistence_timeout": 30}, {"persistence_engine": "sip"}),
    "one_packet": ({"protocol": "udp"}, {"one_packet": True}),
}
REALSERVER_SAMPLES = {
    "forwarding": ({}, {"forwarding": "masquerade"}),
    "weight": ({}, {"weight": 7}),
    "upper_threshold": ({}, {"upper_threshold": 100}),
    "lower_threshold": ({"upper_threshold": 100}, {"lower_threshold": 10}),
    "tunnel_type": ({"forwarding": "tunnel", "tunnel_type": "gre"}, {"tunnel_type": "gue", "tunnel_port": 6080}),
    "tunnel_port": ({"forwarding": "tunnel", "tunnel_type": "gue", "tunnel_port": 6080}, {"tunnel_port": 7080}),
    "tunnel_checksum": ({"forwarding": "tunnel", "tunnel_type": "gre"}, {"tunnel_checksum": "csum"}),
}


def test_every_setting_has_a_sample():
    assert set(SERVICE_SAMPLES) == {option.name for option in SERVICE_SETTINGS}
    assert set(REALSERVER_SAMPLES) == {option.name for option in REALSERVER_SETTINGS}


def _service(extra: dict, rs: dict | None = None) -> dict:
    return normalize_service({"address": "192.0.2.50", "port": 80, **extra,
                              "realservers": [{"address": "192.0.2.21", **(rs or {})}]})


@pytest.mark.parametrize("name", list(SERVICE_SAMPLES))
def test_service_setting_is_written_read_back_and_compared(name):
    context, change = SERVICE_SAMPLES[name]
    base = _service(context)
    changed = _service({**context, **change})
    assert changed[name] != base[name]
    text = save_text({("x",): changed})
    assert parse_save(text) == {(changed["protocol"], "192.0.2.50", 80): changed}, text
    commands = plan({("x",): base}, {("x",): changed})
    assert commands and commands[0][0] == "-E", commands


@pytest.mark.parametrize("name", list(REALSERVER_SAMPLES))
def test_realserver_setting_is_written_read_back_and_compared(name):
    context, change = REALSERVER_SAMPLES[name]
    base = _service({}, context)
    changed = _service({}, {**context, **change})
    assert changed["realservers"] != base["realservers"]
    text = save_text({("x",): changed})
    assert parse_save(text)[("tcp", "192.0.2.50", 80)] == changed, text
    commands = plan({("x",): base}, {("x",): changed})
    assert [command[0] for command in commands] == ["-e"], commands


def _fragment(name: str) -> dict:
    return json.loads(getattr(ModuleDocFragment, name))["options"]


def _walk(options: dict, prefix: str = ""):
    for name, doc in options.items():
        yield prefix + name, doc
        yield from _walk(doc.get("suboptions", {}), f"{prefix}{name}[].")


def _spec_matches_doc(spec: dict, doc: dict) -> None:
    assert set(spec) <= set(doc), set(spec) - set(doc)
    for name, entry in spec.items():
        for key in ("type", "default", "choices", "elements", "required"):
            assert entry.get(key) == doc[name].get(key), (name, key)
        if "options" in entry:
            _spec_matches_doc(entry["options"], doc[name]["suboptions"])


def test_fragments_document_exactly_what_the_argument_specs_accept():
    service = _fragment("SERVICE")
    service_doc = {**service, "realservers": dict(service["realservers"], type="list", elements="dict")}
    _spec_matches_doc(service_spec(with_realservers=True), service_doc)
    _spec_matches_doc(realserver_module_spec(), _fragment("REALSERVER"))
    rules = _fragment("RULES")["services"]["suboptions"]
    _spec_matches_doc(service_spec(with_realservers=True), rules)


@pytest.mark.parametrize("fragment, documented_by_module", [
    ("SERVICE", {"state"}),
    ("REALSERVER", {"state", "drain_timeout", "drain_before_remove"}),
    ("RULES", {"purge", "timeouts"}),
])
def test_option_references_in_descriptions_exist(fragment, documented_by_module):
    options = _fragment(fragment)
    known = {path for path, _doc in _walk(options)} | documented_by_module
    for path, doc in _walk(options):
        for reference in re.findall(r"O\(([^)=]+)", " ".join(doc.get("description", []))):
            assert reference in known, (path, reference)
