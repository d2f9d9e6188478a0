# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx as a reverse proxy, as data: every field of an upstream, an upstream server, an HTTP server and
its locations, and of a stream (TCP/UDP) server declared once (`Field`, _fields), the checks between
fields, and the configuration text derived from the declarations. Pure functions, no I/O.

The nginx_proxy role's argument specs (tools/role_specs.py writes them), its preflight on the
controller (the nginx_proxy_problems filter) and its configuration files (nginx_proxy_config) all come
from PROXY_INPUT.

Adding a directive: one `Field` with its check and its render (`directive` for `name value;`, `param`
for a server parameter `name=value`); a rule in `_rules` only if it depends on other fields.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.linux_cluster.lvs.plugins.module_utils._fields import Field, argument_spec, checked_items
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import (
    InputError,
    ModuleInput,
    collect,
    host_or_address,
    identifier,
    ip_address,
)

INDENT = "    "
SERVER_NAME = re.compile(r"^[^\s;{}'\"]{1,253}$")
# A prefix location (optionally = or ^~), or a regular expression after ~ or ~*.
LOCATION = re.compile(r"^((= |\^~ )?/[^\s;{}'\"]*|~\*? [^\s;{}'\"]+)$")
HASH_KEY = re.compile(r"^[^\s;{}'\"]+( [^\s;{}'\"]+)*$")
HTTP_METHODS = ("round_robin", "least_conn", "ip_hash", "hash", "random")
STREAM_METHODS = ("round_robin", "least_conn", "hash", "random")
# What nginx refuses beside the `backup` server parameter (nginx -t: "balancing method does not support
# parameter backup").
NO_BACKUP = ("ip_hash", "hash", "random")
NEXT_UPSTREAM = ("error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504", "http_403",
                 "http_404", "http_429", "non_idempotent", "off")
FORWARD_HEADERS = (("Host", "$host"), ("X-Real-IP", "$remote_addr"),
                   ("X-Forwarded-For", "$proxy_add_x_forwarded_for"), ("X-Forwarded-Proto", "$scheme"))


# --- how values are written ------------------------------------------------------------------

def directive(field: Field, value) -> list[str]:
    """`keyword value;` (a list space-separated); nothing when unset."""
    if value is None or value == []:
        return []
    return [f"{field.word} {' '.join(value) if isinstance(value, list) else value};"]


def seconds(field: Field, value) -> list[str]:
    return directive(field, None if value is None else f"{value}s")


def param(field: Field, value) -> list[str]:
    """A server parameter: `name=value`, or `name` for a flag that is set."""
    if value is None or value is False:
        return []
    if value is True:
        return [field.word]
    return [f"{field.word}={value}{'s' if field.name == 'fail_timeout' else ''}"]


def raw(_field: Field, values) -> list[str]:
    return list(values or [])


def block(head: str, lines: list[str]) -> list[str]:
    return [f"{head} {{", *(INDENT + line if line else line for line in lines), "}"]


# --- field checks ----------------------------------------------------------------------------

def _listen_address(field: str, value, _params) -> str:
    """'' listens on every address; otherwise an IP address (a VIP the node may not hold)."""
    if value in (None, ""):
        return ""
    return ip_address(field, value)


def _server_names(field: str, values, _params) -> list[str]:
    for index, value in enumerate(values):
        if not SERVER_NAME.match(value):
            raise InputError(f"{field}[{index}]", value, "a server name has no blanks, quotes, ';' or braces")
    return values


def _location(field: str, value, _params) -> str:
    if not LOCATION.match(value):
        raise InputError(field, value, "a location is a path starting with '/' (optionally after '= ' or '^~ '), "
                                       "or a regular expression after '~ ' or '~* ', without blanks, quotes, ';' "
                                       "or braces")
    return value


def _hash_key(field: str, value, _params):
    if value is not None and not HASH_KEY.match(value):
        raise InputError(field, value, "a key such as $remote_addr or $request_uri, without quotes, ';' or braces")
    return value


def _directives(field: str, values, _params) -> list[str]:
    for index, value in enumerate(values):
        text = value.strip()
        if not text or not text.endswith((";", "}")):
            raise InputError(f"{field}[{index}]", value, "a whole directive is required, ending with ';' (or '}')")
    return [value.strip() for value in values]


def _next_upstream(field: str, values, _params):
    if values is not None and "off" in values and len(values) > 1:
        raise InputError(field, values, "'off' stands alone")
    return values


# --- the declarations ------------------------------------------------------------------------

DIRECTIVES_DOC = ("Raw nginx directives added to this block as written, each a whole directive ending with C(;) "
                  "(the role's one escape hatch; C(nginx -t) still tests them before they go live).",)


def _directives_field() -> Field:
    return Field("directives", "list", DIRECTIVES_DOC, default=[], elements="str", check=_directives, render=raw)


def _timeout_field(name: str, keyword: str, doc: str) -> Field:
    return Field(name, "int", (doc + " In seconds; nginx's default when unset.",), bounds=(1, 86400),
                 keyword=keyword, render=seconds)


def _server_fields(http: bool) -> tuple[Field, ...]:
    return (
        Field("address", "str", ("The server's IP address or host name.",), required=True, check=host_or_address),
        Field("port", "int", ("Its port.",), default=80 if http else None,
              required=not http, bounds=(1, 65535)),
        Field("weight", "int", ("Its weight (nginx's default 1).",), bounds=(1, 1000), render=param),
        Field("max_fails", "int", ("Failed attempts within O(fail_timeout) after which the server is taken out for "
                                   "O(fail_timeout) (nginx's passive check; its default 1, V(0) never).",),
              bounds=(0, 1000), render=param),
        Field("fail_timeout", "int", ("Seconds of that window and of the time out (nginx's default 10).",),
              bounds=(1, 86400), render=param),
        Field("backup", "bool", ("Used only while every other server is unavailable (not with the ip_hash, hash "
                                 "and random methods).",), default=False, render=param),
        Field("down", "bool", ("Marked unavailable.",), default=False, render=param),
    )


def _upstream_fields(http: bool) -> tuple[Field, ...]:
    methods = HTTP_METHODS if http else STREAM_METHODS
    fields = [
        Field("name", "str", ("The upstream's name, unique in its context.",), required=True, check=identifier),
        Field("method", "str", ("How a server is chosen: V(round_robin) (by weight), V(least_conn), "
                                + ("V(ip_hash) (one client address, one server), " if http else "")
                                + "V(hash) of O(hash_key), V(random).",), default="round_robin", choices=methods),
        Field("hash_key", "str", ("The key of V(hash), for example V($remote_addr) or V($request_uri).",),
              check=_hash_key),
        Field("consistent", "bool", ("V(hash) by ketama consistent hashing (few keys move when a server is added or "
                                     "removed).",), default=False),
        Field("servers", "list", ("The upstream's servers.",), required=True, elements="dict",
              options=_server_fields(http)),
    ]
    if http:
        fields.append(Field("keepalive", "int", ("Idle connections to the upstream each worker keeps open (V(0): "
                                                 "none). The locations proxying to it then speak HTTP/1.1 with an "
                                                 "empty Connection header.",), default=0, bounds=(0, 100000)))
    fields.append(_directives_field())
    return tuple(fields)


LOCATION_FIELDS = (
    Field("path", "str", ("The location, for example V(/) or V(/api/), optionally with a modifier (V(= /x), "
                          "V(^~ /static/), V(~ \\\\.php$)).",), default="/", check=_location),
    Field("upstream", "str", ("The O(nginx_proxy_upstreams[].name) it proxies to.",), required=True, check=identifier),
    Field("forward_headers", "bool", ("Pass the client's view upstream: C(Host), C(X-Real-IP), C(X-Forwarded-For), "
                                      "C(X-Forwarded-Proto).",), default=True),
    _timeout_field("connect_timeout", "proxy_connect_timeout", "Time to connect to a server before the next is tried."),
    _timeout_field("read_timeout", "proxy_read_timeout", "Time between two reads from the server."),
    _timeout_field("send_timeout", "proxy_send_timeout", "Time between two writes to the server."),
    Field("next_upstream", "list", ("When a request is passed to the next server (C(proxy_next_upstream); nginx's "
                                    "default V(error) and V(timeout)).",), elements="str", choices=NEXT_UPSTREAM,
          keyword="proxy_next_upstream", check=_next_upstream, render=directive),
    Field("next_upstream_tries", "int", ("At most this many servers tried for a request (V(0): no limit).",),
          bounds=(0, 1000), keyword="proxy_next_upstream_tries", render=directive),
    _directives_field(),
)

HTTP_SERVER_FIELDS = (
    Field("address", "str", ("The address it listens on: a VIP (listened on whether the node holds it or not), "
                             "or empty for every address.",), default="", check=_listen_address),
    Field("port", "int", ("The port it listens on.",), default=80, bounds=(1, 65535)),
    Field("server_names", "list", ("Its C(server_name)s; none: any name.",), default=[], elements="str",
          keyword="server_name", check=_server_names, render=directive),
    Field("locations", "list", ("What it proxies, by path.",), required=True, elements="dict",
          options=LOCATION_FIELDS),
    _directives_field(),
)

STREAM_SERVER_FIELDS = (
    Field("address", "str", ("The address it listens on: a VIP, or empty for every address.",), default="",
          check=_listen_address),
    Field("port", "int", ("The port it listens on.",), required=True, bounds=(1, 65535)),
    Field("protocol", "str", ("V(tcp) or V(udp).",), default="tcp", choices=("tcp", "udp")),
    Field("upstream", "str", ("The O(nginx_proxy_stream_upstreams[].name) it proxies to.",), required=True,
          check=identifier),
    _timeout_field("connect_timeout", "proxy_connect_timeout", "Time to connect to a server before the next is tried."),
    _timeout_field("timeout", "proxy_timeout", "Idle time of a proxied connection before it is closed."),
    Field("next_upstream", "bool", ("A connection that cannot be made is passed to the next server.",),
          default=True),
    _directives_field(),
)

PROXY_FIELDS = (
    Field("upstreams", "list", ("HTTP upstreams: groups of servers the HTTP servers' locations proxy to.",),
          default=[], elements="dict", options=_upstream_fields(http=True)),
    Field("servers", "list", ("HTTP servers (virtual hosts).",), default=[], elements="dict",
          options=HTTP_SERVER_FIELDS),
    Field("stream_upstreams", "list", ("TCP/UDP upstreams (nginx's C(stream) module, Debian's "
                                       "C(libnginx-mod-stream), installed when any is declared).",),
          default=[], elements="dict", options=_upstream_fields(http=False)),
    Field("stream_servers", "list", ("TCP/UDP servers in the C(stream) block.",), default=[], elements="dict",
          options=STREAM_SERVER_FIELDS),
)
PROXY = {field.name: field for field in PROXY_FIELDS}


# --- the model: every entry checked, then the rules between them ------------------------------

def _named_once(kind: str, entries: list[dict]) -> list[tuple[tuple[str, ...], Any]]:
    rules = []
    for index, entry in enumerate(entries):
        if entry["name"] in [other["name"] for other in entries[:index]]:
            rules.append(((f"{kind}[{index}].name", entry["name"]), "declared twice"))
    return rules


def _upstream_rules(kind: str, entries: list[dict]) -> list:
    rules = _named_once(kind, entries)
    for index, entry in enumerate(entries):
        where = f"{kind}[{index}]"
        if entry["method"] == "hash" and not entry["hash_key"]:
            rules.append(((f"{where}.hash_key", entry["hash_key"]), "method hash needs a key"))
        if entry["method"] != "hash" and entry["hash_key"]:
            rules.append(((f"{where}.hash_key", entry["hash_key"]),
                          f"only method hash has a key, not {entry['method']}"))
        if entry["method"] != "hash" and entry["consistent"]:
            rules.append(((f"{where}.consistent", True), f"only method hash is consistent, not {entry['method']}"))
        if not entry["servers"]:
            rules.append(((f"{where}.servers", []), "at least one server is required"))
        for number, server in enumerate(entry["servers"]):
            if server["backup"] and entry["method"] in NO_BACKUP:
                rules.append(((f"{where}.servers[{number}].backup", True),
                              f"nginx has no backup server with method {entry['method']}"))
    return rules


def _overlap(one: str, other: str) -> bool:
    """Two listen addresses that take the same connections ('' is every address of its family's kind)."""
    return one == other or "" in (one, other)


def _rules(model: dict) -> list:
    rules = _upstream_rules("upstreams", model["upstreams"])
    rules += _upstream_rules("stream_upstreams", model["stream_upstreams"])
    http_names = {entry["name"] for entry in model["upstreams"]}
    stream_names = {entry["name"] for entry in model["stream_upstreams"]}
    for index, server in enumerate(model["servers"]):
        paths = []
        if not server["locations"]:
            rules.append(((f"servers[{index}].locations", []), "at least one location is required"))
        for number, location in enumerate(server["locations"]):
            where = f"servers[{index}].locations[{number}]"
            if location["upstream"] not in http_names:
                rules.append(((f"{where}.upstream", location["upstream"]), "no such upstream in nginx_proxy_upstreams"))
            if location["path"] in paths:
                rules.append(((f"{where}.path", location["path"]), "declared twice in this server"))
            paths.append(location["path"])
    listened = []
    for index, server in enumerate(model["stream_servers"]):
        where = f"stream_servers[{index}]"
        if server["upstream"] not in stream_names:
            rules.append(((f"{where}.upstream", server["upstream"]),
                          "no such upstream in nginx_proxy_stream_upstreams"))
        key = (server["address"], server["port"], server["protocol"])
        if any(_overlap(key[0], other[0]) and key[1:] == other[1:] for other in listened):
            rules.append(((f"{where}.port", server["port"]), "another stream server listens there"))
        if server["protocol"] == "tcp" and any(_overlap(server["address"], http["address"])
                                               and http["port"] == server["port"] for http in model["servers"]):
            # nginx -t lets this through (its test binds and ignores 'address in use'); the reload fails.
            rules.append(((f"{where}.port", server["port"]), "an HTTP server listens there"))
        listened.append(key)
    return rules


def model(params: dict) -> dict:
    """The whole proxy checked: every field, then the rules between them; every problem at once."""
    result = {}
    collect([lambda field=field: result.__setitem__(field.name, checked_items(field, params.get(field.name) or [], ""))
             for field in PROXY_FIELDS])
    problems = _rules(result)
    collect([lambda problem=problem: _raise(*problem) for problem in problems])
    return result


def _raise(field_value: tuple, why: str) -> None:
    raise InputError(field_value[0], field_value[1], why)


PROXY_INPUT = ModuleInput(argument_spec(PROXY_FIELDS), model)


def problems(params: dict) -> list:
    """What PROXY_INPUT finds wrong in the role's variables (argument validation first, then the checks)."""
    return PROXY_INPUT.problems(params)


# --- the configuration text ------------------------------------------------------------------

def _lines(fields: tuple[Field, ...], entry: dict) -> list[str]:
    lines = []
    for field in fields:
        if field.render and field.name != "directives":
            lines += field.render(field, entry[field.name])
    return lines


def _server_line(fields: tuple[Field, ...], server: dict) -> str:
    host = f"[{server['address']}]" if ":" in server["address"] else server["address"]
    params = [text for field in fields if field.render for text in field.render(field, server[field.name])]
    return " ".join([f"server {host}:{server['port']}", *params]) + ";"


def _upstream(entry: dict, http: bool) -> list[str]:
    fields = _server_fields(http)
    lines = {"round_robin": [], "least_conn": ["least_conn;"], "ip_hash": ["ip_hash;"], "random": ["random;"],
             "hash": [f"hash {entry['hash_key']}{' consistent' if entry['consistent'] else ''};"]}[entry["method"]]
    lines += [_server_line(fields, server) for server in entry["servers"]]
    if http and entry["keepalive"]:
        lines.append(f"keepalive {entry['keepalive']};")
    return block(f"upstream {entry['name']}", lines + entry["directives"])


def _listen(address: str, port: int, extra: str = "") -> str:
    where = f"[{address}]:{port}" if ":" in address else (f"{address}:{port}" if address else str(port))
    return f"listen {where}{extra};"


def _location(location: dict, upstreams: dict) -> list[str]:
    lines = [f"proxy_pass http://{location['upstream']};"]
    if location["forward_headers"]:
        lines += [f"proxy_set_header {name} {value};" for name, value in FORWARD_HEADERS]
    if upstreams[location["upstream"]]["keepalive"]:
        lines += ["proxy_http_version 1.1;", 'proxy_set_header Connection "";']
    lines += _lines(LOCATION_FIELDS, location)
    return block(f"location {location['path']}", lines + location["directives"])


def render_http(proxy: dict) -> str:
    """The http context's upstreams and servers (included inside `http { }`)."""
    upstreams = {entry["name"]: entry for entry in proxy["upstreams"]}
    lines: list[str] = []
    for entry in proxy["upstreams"]:
        lines += [*_upstream(entry, http=True), ""]
    for server in proxy["servers"]:
        inner = [_listen(server["address"], server["port"]), *_lines(HTTP_SERVER_FIELDS, server)]
        for location in server["locations"]:
            inner += _location(location, upstreams)
        lines += [*block("server", inner + server["directives"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n" if lines else ""


def render_stream(proxy: dict) -> str:
    """The stream context's upstreams and servers (included inside `stream { }`)."""
    lines: list[str] = []
    for entry in proxy["stream_upstreams"]:
        lines += [*_upstream(entry, http=False), ""]
    for server in proxy["stream_servers"]:
        inner = [_listen(server["address"], server["port"], " udp" if server["protocol"] == "udp" else ""),
                 f"proxy_pass {server['upstream']};", *_lines(STREAM_SERVER_FIELDS, server)]
        if not server["next_upstream"]:
            inner.append("proxy_next_upstream off;")
        lines += [*block("server", inner + server["directives"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n" if lines else ""


def listen_addresses(proxy: dict) -> list[str]:
    """The specific addresses the proxy listens on (each needs non-local bind on a node without it)."""
    found = []
    for server in proxy["servers"] + proxy["stream_servers"]:
        if server["address"] and server["address"] not in found:
            found.append(server["address"])
    return found
