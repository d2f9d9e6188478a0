# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS table as keepalived owns it: the services of ipvs_rules, validated by _ipvs_model, with the
health checks and the other options only keepalived has, rendered as `virtual_server` blocks.

One model, two renderings: the IPVS part of a service is _ipvs_model's normalized service, and each of
its settings is written by its own `Option.keepalived` (_ipvs_options); what keepalived adds is declared
here once as `Field`s (their argument spec, documentation, check and render). Pure functions, no I/O.

What keepalived 2.2.7 refuses (`keepalived -t` exits 5) is refused here first, naming the field: a
real-server port on a firewall-mark service, a quorum above the total weight, a hysteresis at or above
the quorum, a health check with no port to connect to, an IPVS option keepalived cannot write (GUE and
GRE tunnels). Every block is written over several lines: 2.2.7 skips the keywords of a one-line block.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import Field, argument_spec, checked
from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import options_doc as field_docs
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    BAD_INPUT,
    InputError,
    ModuleInput,
    collect,
    errors_of,
    identifier,
    ip_address,
    raise_error,
    sub,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_model import (
    declared_twice,
    family_of,
    normalize_service,
    ordered,
    service_key,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._ipvs_options import (
    KEEPALIVED_METHODS,
    REALSERVER,
    REALSERVER_SETTINGS,
    SERVICE_ID,
    SERVICE_SETTINGS,
    options_doc,
    realserver_doc,
    service_input,
    service_spec,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._keepalived import (
    INDENT,
    _command,
    _interface,
    flag,
    quoted,
    word,
)

FORWARDING = REALSERVER["forwarding"]
HEADER = "# The IPVS table, owned by keepalived (linux_cluster.lvs): one virtual_server per service."
DIGEST = re.compile(r"^[0-9a-f]{32}$")


def _address(field: str, value, _params) -> str:
    return ip_address(field, value)


def _digest(field: str, value, _params) -> str:
    text = str(value).strip().lower()
    if not DIGEST.match(text):
        raise InputError(field, value, "an MD5 digest of the page: 32 hexadecimal digits (keepalived's genhash)")
    return text


def _path(field: str, value, _params) -> str:
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() or c == '"' for c in value):
        raise InputError(field, value, "a URL path starting with '/', without blanks or quotes")
    return value


# --- health checks -------------------------------------------------------------------------------

CHECK_FIELDS = (
    Field("type", "str", ("How keepalived checks the real server: V(tcp) connects (C(TCP_CHECK)), V(http) and V(ssl) "
                          "fetch O(path) and compare the status (C(HTTP_GET), C(SSL_GET)), V(misc) runs O(script) "
                          "(C(MISC_CHECK)), V(none) never takes it out of the table.",),
          default="tcp", choices=("tcp", "http", "ssl", "misc", "none")),
    Field("port", "int", ("Port to connect to (C(connect_port)); the real server's port when not set, so required on "
                          "a firewall-mark or all-ports service.",),
          bounds=(1, 65535), keyword="connect_port", render=word),
    Field("connect_ip", "str", ("Address to connect to instead of the real server's.",), check=_address,
          render=word),
    Field("connect_timeout", "int", ("Seconds a connection may take before the check fails.",), default=3,
          bounds=(1, 3600), render=word),
    Field("retry", "int", ("Failed checks in a row, beyond the first, before the real server leaves the table.",),
          default=2, bounds=(0, 1000), render=word),
    Field("delay_before_retry", "int", ("Seconds between those retries.",), default=2, bounds=(0, 3600),
          render=word),
    Field("warmup", "int", ("At most this many seconds, at random, before the first check (spreads the checks of many "
                            "real servers).",), bounds=(0, 3600), render=word),
    Field("path", "str", ("URL path fetched by V(http) and V(ssl) checks; V(/) when not set.",), check=_path),
    Field("status_code", "int", ("HTTP status that counts as healthy; V(200) when not set.",), bounds=(100, 599)),
    Field("digest", "str", ("MD5 digest the page must have as well (C(genhash) prints it).",), check=_digest),
    Field("script", "str", ("V(misc): the command run (absolute path first); exit 0 is healthy.",), check=_command,
          keyword="misc_path", render=quoted),
    Field("timeout", "int", ("V(misc): seconds the script may run.",), bounds=(1, 3600), keyword="misc_timeout",
          render=word),
    Field("dynamic", "bool", ("V(misc): the script's exit code 2-255 sets the weight to code - 2.",),
          keyword="misc_dynamic", render=flag),
)
CHECK = {field.name: field for field in CHECK_FIELDS}
_CONNECT = ("port", "connect_ip", "connect_timeout", "retry", "delay_before_retry", "warmup")
_HTTP = ("path", "status_code", "digest")
# Per type: keepalived's block and the fields it takes (in render order).
CHECK_TYPES = {
    "tcp": ("TCP_CHECK", _CONNECT),
    "http": ("HTTP_GET", _CONNECT + _HTTP),
    "ssl": ("SSL_GET", _CONNECT + _HTTP),
    "misc": ("MISC_CHECK", ("script", "timeout", "dynamic", "retry", "delay_before_retry", "warmup")),
    "none": (None, ()),
}


def health_check(params: dict | None, field: str, rs_port: int) -> dict:
    """One health check, every field checked against its type; `rs_port` is the port it connects to
    when it names none (0: there is none)."""
    params = params or {}
    check = checked(CHECK_FIELDS, params, field)
    kind, takes = CHECK_TYPES[check["type"]]
    errors = [InputError(sub(field, name), value, f"does not apply to a {check['type']} check")
              for name, value in params.items()
              if value is not None and name in CHECK and name != "type" and name not in takes
              and value != CHECK[name].default]
    if check["type"] == "misc" and check["script"] is None:
        errors.append(InputError(sub(field, "script"), None, "a misc check needs the script it runs"))
    if "port" in takes and check["port"] is None and not rs_port:
        errors.append(InputError(sub(field, "port"), None, "the real server has no port (a firewall-mark or "
                                                           "all-ports service): name the port the check connects to"))
    collect([lambda error=error: raise_error(error) for error in errors])
    if kind is None:
        return {"type": "none"}
    return {name: check[name] for name in ("type", *takes)}


def check_lines(check: dict) -> list[str]:
    kind = CHECK_TYPES[check["type"]][0]
    if kind is None:
        return []
    lines = []
    if check["type"] in ("http", "ssl"):
        url = [f"path {check['path'] or '/'}", f"status_code {check['status_code'] or 200}"]
        url += [f"digest {check['digest']}"] if check["digest"] else []
        lines += ["url {", *(INDENT + line for line in url), "}"]
    for name in CHECK_TYPES[check["type"]][1]:
        if name not in _HTTP and check[name] is not None and CHECK[name].render:
            lines += CHECK[name].render(CHECK[name], check[name])
    return [f"{kind} {{", *(INDENT + line for line in lines), "}"]


# --- what keepalived adds to a service and to a real server --------------------------------------

SORRY_FIELDS = (
    Field("address", "str", ("Its address, of the service's family.",), required=True),
    Field("port", "int", ("Its port; the service's port when not set. Not on a firewall-mark service.",),
          bounds=(1, 65535)),
    Field("forwarding", "str", ("How IPVS sends it the connections (C(sorry_server_lvs_method)). When not set,"
                                " V(route) for a loopback address (the director itself answers: IPVS hands the"
                                " connection to its own stack, in every mode, while the kernel refuses to"
                                " masquerade to a loopback address), else the method of the service's real"
                                " servers.",), choices=tuple(KEEPALIVED_METHODS)),
)
_HEALTH_DOC = ("The real servers' health check; each real server may set its own. A V(tcp) connect to the real "
               "server's port (3 s timeout, 2 retries 2 s apart) when not set.",)


def _render_sorry(word: str, sorry: dict) -> list[str]:
    method = [f"sorry_server_lvs_method {KEEPALIVED_METHODS[sorry['forwarding']]}"] if sorry["forwarding"] else []
    return [f"{word} {sorry['address']} {sorry['port']}", *method]


VIRTUAL_SERVER_FIELDS = (
    Field("delay_loop", "int", ("Seconds between two health checks of a real server.",), default=5,
          bounds=(1, 3600), render=word),
    Field("health_check", "dict", _HEALTH_DOC, options=CHECK_FIELDS),
    Field("sorry_server", "dict", ("The server that answers while no real server is healthy.",),
          options=SORRY_FIELDS, render=lambda field, sorry: _render_sorry(field.word, sorry)),
    Field("sorry_server_inhibit", "bool", ("The sorry server stays in the table at weight 0 while real servers "
                                           "serve.",), default=False, render=flag),
    Field("inhibit_on_failure", "bool", ("A failed real server stays in the table at weight 0 (its established "
                                         "connections go on) instead of leaving it.",),
          default=False, render=flag),
    Field("quorum", "int", ("Total weight of the healthy real servers below which the service counts as down "
                            "(O(quorum_down) runs); keepalived's default is 1.",),
          bounds=(1, 2 ** 31 - 1), render=word),
    Field("quorum_up", "str", ("Command (absolute path first) run when the quorum is reached.",), check=_command,
          render=quoted),
    Field("quorum_down", "str", ("Command (absolute path first) run when the quorum is lost.",), check=_command,
          render=quoted),
    Field("hysteresis", "int", ("Weight by which the healthy total must pass the quorum before it changes state; "
                                "below the quorum.",), bounds=(0, 2 ** 31 - 1), render=word),
    Field("alpha", "bool", ("Real servers start as failed until their first check passes (otherwise as healthy).",),
          default=False, render=flag),
    Field("omega", "bool", ("O(quorum_down) also runs when keepalived stops.",), default=False, render=flag),
)
VIRTUAL_SERVER = {field.name: field for field in VIRTUAL_SERVER_FIELDS}

REAL_SERVER_FIELDS = (
    Field("health_check", "dict", ("This real server's health check, instead of its service's.",),
          options=CHECK_FIELDS),
    Field("notify_up", "str", ("Command (absolute path first) run when the real server passes its check again.",),
          check=_command, render=quoted),
    Field("notify_down", "str", ("Command (absolute path first) run when it fails its check.",), check=_command,
          render=quoted),
)
REAL_SERVER = {field.name: field for field in REAL_SERVER_FIELDS}
# Fields checked by health_check() and _sorry(), not by checked().
_OWN_CHECKS = ("health_check", "sorry_server")


def spec() -> dict:
    """A service of ipvs_rules with keepalived's options: the services list's element options."""
    options = service_spec(with_realservers=True)
    options.update(argument_spec(VIRTUAL_SERVER_FIELDS))
    options["realservers"]["options"].update(argument_spec(REAL_SERVER_FIELDS))
    return options


def ipvs_part(item: dict) -> dict:
    """A service as ipvs_rules takes it: without keepalived's options."""
    out = {key: value for key, value in item.items() if key not in VIRTUAL_SERVER}
    if isinstance(item.get("realservers"), list):
        out["realservers"] = [{key: value for key, value in rs.items() if key not in REAL_SERVER}
                              if isinstance(rs, dict) else rs for rs in item["realservers"]]
    return out


# --- one service ---------------------------------------------------------------------------------

def _unwritable(svc: dict, field: str) -> list:
    """The IPVS settings of `svc` keepalived cannot write, each as a check that raises."""
    def refuse(value, where: str):
        raise InputError(where, value, "keepalived 2.2.7 cannot write this; keep the table static "
                                       "(lvs_director_table_owner: static) for it")
    checks = [lambda option=option: refuse(svc[option.name], sub(field, option.name))
              for option in SERVICE_SETTINGS if option.keepalived is None or option.keepalived(svc) is None]
    # _ipvs_model keeps the real servers in the order they are listed: index is the user's.
    for index, rs in enumerate(svc["realservers"].values()):
        checks += [lambda option=option, rs=rs, index=index: refuse(
            rs[option.name], sub(field, f"realservers[{index}].{option.name}"))
            for option in REALSERVER_SETTINGS if option.keepalived is not None and option.keepalived(rs) is None]
    return checks


def _sorry(params: dict | None, svc: dict, field: str) -> dict | None:
    if not params:
        return None
    address = ip_address(sub(field, "address"), params.get("address"))
    if family_of(address) != svc["family"]:
        raise InputError(sub(field, "address"), params.get("address"), f"not an {svc['family']} address")
    port = params.get("port")
    if svc["fwmark"] is not None and port is not None:
        raise InputError(sub(field, "port"), port, "a firewall-mark service's sorry server takes no port")
    forwarding = params.get("forwarding")
    if forwarding is not None and forwarding not in KEEPALIVED_METHODS:
        raise InputError(sub(field, "forwarding"), forwarding, "must be one of " + ", ".join(KEEPALIVED_METHODS))
    if ipaddress.ip_address(address).is_loopback:
        if forwarding == "masquerade":
            raise InputError(sub(field, "forwarding"), forwarding, f"the kernel does not masquerade to a loopback "
                             f"address ({address}); use route, which hands the connections to the director itself")
        forwarding = forwarding or "route"
    return {"address": address, "port": port if port is not None else (svc["port"] or 0), "forwarding": forwarding}


def virtual_server(item: dict, svc: dict, field: str, writable: bool = True) -> dict:
    """keepalived's part of one service, `svc` being its IPVS part normalized by _ipvs_model; `writable`:
    refuse the IPVS settings keepalived cannot write (it is to own the table)."""
    options: dict = {}
    by_key: dict = {}

    def rules():
        total = sum(rs["weight"] for rs in svc["realservers"].values())
        quorum, hysteresis = options["quorum"], options["hysteresis"]
        errors = []
        if quorum is not None and quorum > total:
            errors.append(InputError(sub(field, "quorum"), quorum, f"above the real servers' total weight ({total})"))
        if hysteresis is not None and hysteresis >= (quorum or 1):
            errors.append(InputError(sub(field, "hysteresis"), hysteresis, f"must be below the quorum ({quorum or 1})"))
        collect([lambda error=error: raise_error(error) for error in errors])

    def realserver(rs_item: dict, where: str, key: tuple):
        extra = checked([f for f in REAL_SERVER_FIELDS if f.name not in _OWN_CHECKS], rs_item, where)
        own = rs_item.get("health_check")
        if not writable and own is None and item.get("health_check") is None:
            # A static table: no check declared, none to check (keepalived's default needs a port).
            by_key[key] = dict(extra, health_check=None)
            return
        check_field = sub(where if own is not None else field, "health_check")
        extra["health_check"] = health_check(own if own is not None else item.get("health_check"), check_field,
                                             key[1])
        by_key[key] = extra

    checks = [lambda: checked([f for f in VIRTUAL_SERVER_FIELDS if f.name not in _OWN_CHECKS], item, field,
                              partial=options),
              lambda: options.update(sorry_server=_sorry(item.get("sorry_server"), svc, sub(field, "sorry_server"))),
              lambda: rules() if "quorum" in options and "hysteresis" in options else None]
    # _ipvs_model keeps the real servers in the order they are listed (none twice).
    for index, (rs_item, key) in enumerate(zip(item.get("realservers") or [], svc["realservers"])):
        where = sub(field, f"realservers[{index}]")
        checks.append(lambda rs_item=rs_item, where=where, key=key: realserver(rs_item, where, key))
        port = rs_item.get("port")
        if svc["fwmark"] is not None and port not in (None, 0):
            checks.append(lambda where=where, port=port: raise_error(InputError(
                sub(where, "port"), port, "keepalived takes no real-server port on a firewall-mark service")))
    _unique(checks + (_unwritable(svc, field) if writable else []))
    return {"options": options, "realservers": by_key}


def _unique(checks: list) -> list:
    """collect(), each problem once (a service's health check is checked for each of its real servers)."""
    try:
        return collect(checks)
    except BAD_INPUT as exc:
        seen, errors = set(), []
        for error in errors_of(exc):
            if str(error) not in seen:
                seen.add(str(error))
                errors.append(error)
        collect([lambda error=error: raise_error(error) for error in errors])
        raise


def virtual_servers(items: list[dict], writable: bool = True) -> list[dict]:
    """Every service of `items` (ipvs_rules' services with keepalived's options), validated; each as
    {"service": the normalized IPVS service, "options": keepalived's service options, "realservers":
    {rs_key: keepalived's options of that real server}}. Every bad field of every service is reported
    at once: a service's keepalived options are checked wherever its IPVS part is good. `writable=False`:
    the table stays static (ipvs_rules writes it), keepalived's options are checked but not used."""
    items = items or []

    def one(index: int, item: dict) -> dict:
        field = f"services[{index}]"
        svc = normalize_service(service_input(ipvs_part(item)), field=field, with_realservers=True)
        return dict(virtual_server(item, svc, field, writable), service=svc)
    entries = collect([lambda index=index, item=item: one(index, item) for index, item in enumerate(items)])
    collect([lambda error=error: raise_error(error)
             for error in declared_twice(list(enumerate(entry["service"] for entry in entries)))])
    return entries


def _input(writable: bool) -> ModuleInput:
    return ModuleInput(
        argument_spec={"services": {"type": "list", "elements": "dict", "default": [], "options": spec()}},
        check=lambda params: virtual_servers(params["services"], writable))


# The services as keepalived is to own them, and as a static table keeps them (ipvs_rules writes the
# IPVS part; keepalived's options are checked, kept for when keepalived owns the table).
VIRTUAL_SERVERS_INPUT = _input(writable=True)
STATIC_SERVICES_INPUT = _input(writable=False)


def services_doc(prefix: str) -> dict:
    """The documentation of a services list's options under `prefix` ('lvs_director_services[].')."""
    def keepalived_only(docs: dict) -> dict:
        for doc in docs.values():
            doc["description"] = [*doc["description"], "Used when keepalived owns the IPVS table."]
        return docs
    docs = {**options_doc(SERVICE_ID + SERVICE_SETTINGS, prefix), **keepalived_only(field_docs(VIRTUAL_SERVER_FIELDS)),
            "realservers": {"description": ["The complete list of the service's real servers."],
                            "suboptions": {**realserver_doc(prefix + "realservers[]."),
                                           **keepalived_only(field_docs(REAL_SERVER_FIELDS))}}}
    return docs


# --- rendering -----------------------------------------------------------------------------------

def _head(svc: dict) -> str:
    if svc["fwmark"] is not None:
        return f"virtual_server fwmark {svc['fwmark']}"
    return f"virtual_server {svc['address']} {svc['port']}"


def render_virtual_server(entry: dict) -> list[str]:
    svc, options = entry["service"], entry["options"]
    lines = []
    if svc["fwmark"] is not None and svc["family"] == "ipv6":
        lines.append("ip_family inet6")
    for field in VIRTUAL_SERVER_FIELDS:
        if field.render and options.get(field.name) not in (None, False):
            lines += field.render(field, options[field.name])
    if svc["fwmark"] is None:
        lines.append(f"protocol {svc['protocol'].upper()}")
    # The service's forwarding method, which keepalived sets on real servers that name none (NAT when
    # it is missing too): the first real server's; each real server also names its own.
    methods = [line for key in ordered(svc["realservers"]) for line in FORWARDING.keepalived(svc["realservers"][key])]
    lines += methods[:1]
    for option in SERVICE_SETTINGS:
        lines += option.keepalived(svc)
    for key in ordered(svc["realservers"]):
        rs, extra = svc["realservers"][key], entry["realservers"][key]
        inner = [line for option in REALSERVER_SETTINGS for line in option.keepalived(rs)]
        for field in REAL_SERVER_FIELDS:
            if field.render and extra.get(field.name) is not None:
                inner += field.render(field, extra[field.name])
        inner += check_lines(extra["health_check"])
        head = f"real_server {rs['address']}" + (f" {rs['port']}" if svc["fwmark"] is None else "")
        lines += [f"{head} {{", *(INDENT + line for line in inner), "}"]
    return [f"{_head(svc)} {{", *(INDENT + line for line in lines), "}"]


def render(entries: list[dict]) -> str:
    """The `virtual_server` blocks of `entries` (virtual_servers()' result), empty for none."""
    if not entries:
        return ""
    blocks = ["\n".join(render_virtual_server(entry)) for entry in entries]
    return "\n".join([HEADER, *blocks]) + "\n"


# --- a real server leaves the declaration --------------------------------------------------------

def dropped(live_services: list[dict], entries: list[dict]) -> list[dict]:
    """The real servers of `live_services` (ipvs_info's services) that `entries` (virtual_servers()' result)
    no longer declare, in services they still declare: keepalived's reload deletes them and drops their
    in-flight connections, so they are drained first. Each as linux_cluster.lvs.ipvs_realserver's
    arguments (state drained: weight 0, the rest as it is live)."""
    declared = {service_key(entry["service"]): entry["service"] for entry in entries}
    out = []
    for live in live_services or []:
        key = service_key(live)
        if key not in declared:
            continue
        for rs in live.get("realservers") or []:
            if (rs["address"], rs["port"]) in declared[key]["realservers"]:
                continue
            identity = ({"fwmark": live["fwmark"], "family": live["family"]} if live.get("fwmark") is not None else
                        {"protocol": live["protocol"], "service_address": live["address"],
                         "service_port": live["port"]})
            out.append({**identity, "address": rs["address"], "port": rs["port"], "forwarding": rs["forwarding"],
                        "upper_threshold": rs.get("upper_threshold") or 0,
                        "lower_threshold": rs.get("lower_threshold") or 0, "state": "drained"})
    return out


# --- IPVS connection synchronisation between the directors ----------------------------------------

SYNC_FIELDS = (
    Field("interface", "str", ("Interface the sync messages go out on (UDP port 8848 to 224.0.0.81). Required.",),
          check=_interface),
    Field("instance", "str", ("The VRRP instance that decides: its master sends the connections, the other nodes "
                              "receive them, and a node that becomes master switches over. Required.",),
          check=identifier),
    Field("id", "int", ("Sync id, which tells several director pairs on one network apart.",), bounds=(0, 255)),
    Field("refresh_period", "int", (
        "Seconds after which the master sends an active connection again (the kernel's "
        "C(net.ipv4.vs.sync_refresh_period); C(net.ipv4.vs.sync_threshold) is set to C(3 0) with it, so a "
        "connection is sent when it is established and then by time, not every 50 packets). A node whose keepalived "
        "starts again (its own table was deleted when it stopped) has every active connection within this plus the "
        "kernel's 2 s batch; its instances wait that long plus 1 s before they take the VIPs back (their "
        "C(preempt_delay), where an instance sets none).",), default=2, bounds=(1, 600)),
)
# The kernel sends a partly filled batch of synchronised connections at the latest this many seconds later.
SYNC_BATCH = 2


def sync_daemon(params: dict | None, instance_names: list[str], field: str) -> dict | None:
    """keepalived's global lvs_sync_daemon (2.2.7 refuses the per-instance form), checked; None for none."""
    if not params:
        return None
    missing = [name for name in ("interface", "instance") if not params.get(name)]
    if missing:
        raise InputError(field, params, f"needs {' and '.join(missing)}")
    sync = checked(SYNC_FIELDS, params, field)
    if sync["instance"] not in instance_names:
        raise InputError(sub(field, "instance"), sync["instance"], "is not one of the node's VRRP instances ("
                         + (", ".join(instance_names) or "none") + ")")
    return sync


def sync_sysctls(sync: dict | None) -> dict:
    """The kernel settings of connection sync by time ({} without sync)."""
    if not sync:
        return {}
    return {"net.ipv4.vs.sync_threshold": "3 0", "net.ipv4.vs.sync_refresh_period": sync["refresh_period"]}


def sync_preempt_delay(sync: dict | None) -> int | None:
    """How long a node that starts again waits before it takes the VIPs back: until the connections the master
    holds have reached it (None without sync)."""
    return sync["refresh_period"] + SYNC_BATCH + 1 if sync else None


def render_sync_daemon(sync: dict | None) -> str:
    if not sync:
        return ""
    return f"lvs_sync_daemon {sync['interface']} {sync['instance']}" + (
        f" id {sync['id']}" if sync["id"] is not None else "")


# --- The director pair: what its VRRP instances must carry ------------------------------------------

def _carriers(instances: list) -> dict:
    """Each address the instances float (without its prefix) -> the name of the instance carrying it."""
    carried: dict = {}
    for instance in instances:
        for vip in (instance.get("virtual_ipaddresses") or []) if isinstance(instance, dict) else []:
            address = vip.get("address") if isinstance(vip, dict) else vip
            try:
                carried.setdefault(str(ipaddress.ip_interface(str(address)).ip), instance.get("name"))
            except ValueError:
                continue  # the instances' own check names it
    return carried


def pair_problems(instances, mode: str, vips, gateways, sync_groups, field: str = "lvs_directors_vrrp") -> list:
    """What a director pair's instances (`field`) miss: every VIP of the services (`vips`) floated by an
    instance; in LVS-NAT also every real server's gateway (`gateways`: {host: address}, the DIP), and
    that in the instance of each VIP or in one sync group with it, so that the real servers' way back
    moves with the VIPs. Problem sentences, none when the pair holds."""
    instances = instances or []
    if not instances:
        return [f"{field} is empty: a director pair needs at least one VRRP instance carrying the VIPs"]
    carried = _carriers(instances)
    problems = [f"{vip} (a VIP of lvs_director_services or lvs_director_fwmark_rules) is carried by no instance "
                f"of {field}: the pair would not move it" for vip in dict.fromkeys(map(str, vips or []))
                if vip not in carried]
    if mode != "nat":
        return problems
    together = [set(group.get("instances") or []) for group in sync_groups or [] if isinstance(group, dict)]
    for host, gateway in sorted((gateways or {}).items()):
        name = carried.get(str(gateway))
        if name is None:
            problems.append(f"{host}: lvs_realserver_nat_gateway={gateway!r} is carried by no instance of {field}: "
                            "in LVS-NAT the real servers' gateway is an address the pair floats (the DIP) on "
                            "their network, or their replies stay with a director that lost the VIPs")
            continue
        apart = sorted({carried[vip] for vip in map(str, vips or []) if vip in carried} - {name})
        apart = [other for other in apart if not any({name, other} <= group for group in together)]
        if apart:
            problems.append(f"{host}: the gateway {gateway} (instance {name}) and the VIPs of "
                            f"{', '.join(apart)} are in no sync group together: one could move without the "
                            "other; put the instances in one entry of lvs_directors_sync_groups")
    return problems
