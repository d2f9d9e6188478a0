# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster node's time service (chrony) as data: its time sources, the cluster time it may keep and serve,
and the offset it must stay within, each declared once (`Field`, _fields); the checks between them; the two
files the ntp_prereqs role writes (a sources.d file, which `chronyc reload sources` applies, and a conf.d
file), derived from the declarations. Pure functions, no I/O.

The ntp_prereqs role's argument specs for its time sources (tools/role_specs.py), its preflight on the
controller (input_problems with kind ntp_prereqs) and its files (the chrony_config filter) come from
TIME_INPUT.
"""

from __future__ import annotations

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import (
    Field,
    argument_spec,
    checked,
    checked_items,
    number_text,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    InputError,
    ModuleInput,
    collect,
    host_or_address,
    ip_network,
)

SOURCE_DIRECTIVES = ("server", "pool")
# chrony's reference ID while it serves its own clock (local stratum N).
LOCAL_REFERENCE = "7F7F0101"


def _flag(field: Field, value) -> list[str]:
    return [field.word] if value else []


def _option(field: Field, value) -> list[str]:
    return [] if value is None else [f"{field.word} {value}"]


def _networks(field: str, values, _params) -> list[str]:
    return collect([lambda index=index, value=value: ip_network(f"{field}[{index}]", value)
                    for index, value in enumerate(values)])


SOURCE_FIELDS = (
    Field("address", "str", ("The time server's address or host name, or the pool's name with O(pool=true).",),
          required=True, check=host_or_address),
    Field("pool", "bool", ("A pool (C(pool)): chrony uses several of the name's addresses, and replaces those that "
                           "stop answering.",), default=False),
    Field("iburst", "bool", ("Four quick requests when the source is first used, so a node is synchronised within "
                             "seconds of chrony's start.",), default=True, render=_flag),
    Field("prefer", "bool", ("Preferred over the other sources when it is usable.",), default=False, render=_flag),
    Field("minpoll", "int", ("Shortest interval between requests, as a power of 2 seconds (chrony's default 6: "
                             "64 s).",),
          bounds=(-6, 24), render=_option),
    Field("maxpoll", "int", ("Longest interval between requests, as a power of 2 seconds (chrony's default 10: "
                             "1024 s).",), bounds=(-6, 24), render=_option),
)

TIME_FIELDS = (
    Field("time_sources", "list", ("The node's time servers and pools (written to chrony's C(sources.d), so a change "
                                   "is applied with C(chronyc reload sources), no restart).",),
          default=[], elements="dict", options=SOURCE_FIELDS),
    Field("local_stratum", "int", ("Keep cluster time when no source is reachable (C(local stratum N orphan)): the "
                                   "node serves its own clock at this stratum, and nodes given the same value agree "
                                   "on one of them. V(0): never.",), default=0, bounds=(0, 15)),
    Field("allow", "list", ("Networks (V(192.0.2.0/24)) whose hosts may ask this node for the time (it then serves "
                            "time to them).",), default=[], elements="str", check=_networks),
    Field("max_offset", "float", ("The largest offset in seconds from its sources a node may have once "
                                  "synchronised; the role fails naming the node and its offset beyond it.",),
          default=0.1, bounds=(0.001, 10.0)),
    Field("sync_timeout", "int", ("Seconds the role waits for a node to be synchronised within "
                                  "O(ntp_prereqs_max_offset).",),
          default=120, bounds=(1, 3600)),
)
TIME = {field.name: field for field in TIME_FIELDS}


def _rules(model: dict) -> list[InputError]:
    problems = []
    sources = model["time_sources"]
    if not sources and not model["local_stratum"]:
        problems.append(InputError("time_sources", [], "no time source: declare the node's servers, or local_stratum "
                                                       "on the nodes that keep cluster time"))
    for index, source in enumerate(sources):
        if source["address"] in [other["address"] for other in sources[:index]]:
            problems.append(InputError(f"time_sources[{index}].address", source["address"], "declared twice"))
        if None not in (source["minpoll"], source["maxpoll"]) and source["minpoll"] > source["maxpoll"]:
            problems.append(InputError(f"time_sources[{index}].minpoll", source["minpoll"],
                                       f"above maxpoll {source['maxpoll']}"))
    return problems


def model(params: dict) -> dict:
    """The node's time settings checked: every field, then the rules between them; every problem at once."""
    result: dict = {}
    collect([lambda: result.__setitem__("time_sources", checked_items(TIME["time_sources"],
                                                                      params.get("time_sources") or [], "")),
             lambda: result.update(checked(tuple(field for field in TIME_FIELDS if not field.options), params))])
    collect([lambda problem=problem: _raise(problem) for problem in _rules(result)])
    return result


def _raise(problem: InputError) -> None:
    raise problem


TIME_INPUT = ModuleInput(argument_spec(TIME_FIELDS), model)


# --- the files -------------------------------------------------------------------------------

def render_sources(time: dict) -> str:
    """The sources.d file: one `server` or `pool` line per source."""
    lines = []
    for source in time["time_sources"]:
        words = [SOURCE_DIRECTIVES[source["pool"]], source["address"]]
        for field in SOURCE_FIELDS:
            if field.render:
                words += field.render(field, source[field.name])
        lines.append(" ".join(words))
    return "".join(line + "\n" for line in lines)


def render_conf(time: dict) -> str:
    """The conf.d file: cluster time and who may ask for it."""
    lines = []
    if time["local_stratum"]:
        lines.append(f"local stratum {time['local_stratum']} orphan")
    lines += [f"allow {network}" for network in time["allow"]]
    return "".join(line + "\n" for line in lines)


def servers(time: dict) -> list[str]:
    """The addresses (or pool names) the node asks for the time."""
    return [source["address"] for source in time["time_sources"]]


def tracking(text: str) -> dict:
    """`chronyc -c tracking` -> {reference (its source's address or name; 'its own clock' with local stratum),
    stratum, correction (chrony's remaining correction of the system clock, seconds), leap}; {} for anything
    else (chronyd not running)."""
    fields = text.strip().split(",")
    if len(fields) < 14:
        return {}
    try:
        return {"reference": "its own clock" if fields[0] == LOCAL_REFERENCE else fields[1] or fields[0],
                "stratum": int(fields[2]), "correction": float(fields[4]), "leap": fields[13]}
    except ValueError:
        return {}


def offset_text(offset: float | None) -> str:
    """An offset as the role reports it: +0.000412 s (positive: the node's clock is behind)."""
    return "no answer" if offset is None else f"{offset:+.6f} s"


def clock(node: dict) -> tuple[list[str], str]:
    """A node's clock once chrony runs: {time (as chrony_config returns it), waitsync (chronyc waitsync's exit
    status), tracking (`chronyc -c tracking`), probe (ntp_offset's result against its sources, or None)} ->
    (what is wrong, a report of the clock)."""
    time, probe = node["time"], node.get("probe") or {}
    track = tracking(node.get("tracking") or "")
    limit = f"{number_text(time['max_offset'])} s"
    synced = bool(track) and track["leap"] != "Not synchronised"
    report = (f"synchronised to {track['reference']} (stratum {track['stratum']}), chrony's correction "
              f"{offset_text(track['correction'])}" if synced else "chrony not synchronised")
    answers = [f"{source['server']} {offset_text(source.get('offset'))}" for source in probe.get("sources", [])]
    if answers:
        report += f"; offset measured from {', '.join(answers)}"
    problems = []
    if not synced or int(node.get("waitsync") or 0) != 0:
        problems.append(f"chrony did not synchronise within {time['sync_timeout']} s with a correction under "
                        f"{limit} ({report})")
    if time["servers"] and (probe.get("offset") is None or abs(probe["offset"]) > time["max_offset"]):
        problems.append(f"clock off by {offset_text(probe.get('offset'))} from its time sources, beyond "
                        f"ntp_prereqs_max_offset {limit} ({report})")
    return problems, report
