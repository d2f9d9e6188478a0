#!/usr/bin/python
# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ntp_offset
short_description: Measure the managed host's clock against NTP servers
version_added: 0.2.0
description:
  - Asks each server for its time with NTP client requests sent from the managed host (no NTP daemon needed on
    the host, none disturbed), and returns the offset of the host's clock from each server's, the round trip
    and the server's stratum.
  - Each server is asked O(samples) times; the sample with the shortest round trip is its result.
  - A server that does not answer, answers for another request, or is not synchronised itself is reported with
    an C(error), not as a failure; O(require_answer) makes a host where no server answers fail.
  - The P(linux_cluster.lvs.ntp_prereqs#role) role checks with it that a node's time sources answer before it
    changes anything, and that the node's clock is within its threshold once chrony runs.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - linux_cluster.lvs.read_only
attributes:
  platform:
    platforms: posix
options:
  servers:
    description: NTP servers, by address or name (a name is resolved on the managed host; its first address is asked).
    type: list
    elements: str
    required: true
  port:
    description: The servers' NTP port.
    type: int
    default: 123
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 1.0
  samples:
    description: Requests per server.
    type: int
    default: 3
  require_answer:
    description: Fail when no server gives a usable answer.
    type: bool
    default: false
  max_offset:
    description:
      - With O(wait), the offset in seconds the host's clock should be within.
    type: float
  wait:
    description:
      - With O(max_offset), ask the servers again, every second, for at most this many seconds, until the best
        offset is within O(max_offset) (a clock that chrony is still correcting). Never a failure by itself; see
        RV(within).
    type: float
    default: 0
seealso:
  - module: linux_cluster.lvs.ipvs_info
    description: The other read-only module of the collection.
author:
  - linux_cluster.lvs maintainers (@linux-cluster)
"""

EXAMPLES = r"""
- name: How far this node's clock is from the site's time servers
  linux_cluster.lvs.ntp_offset:
    servers: [192.0.2.100, ntp.example.org]
    require_answer: true
  register: clock

- name: Within 100 ms
  ansible.builtin.assert:
    that: clock.offset | abs <= 0.1
"""

RETURN = r"""
offset:
  description: The offset in seconds of the best answer (the shortest round trip of all servers); the server's
    time minus this host's, so positive when this host's clock is behind. V(null) when no server answered.
  returned: always
  type: float
  sample: -0.000412
server:
  description: The server that gave RV(offset); V(null) when no server answered.
  returned: always
  type: str
within:
  description: Whether RV(offset) is within O(max_offset) (V(null) without O(max_offset)).
  returned: always
  type: bool
waited:
  description: Seconds spent asking again (O(wait)).
  returned: always
  type: float
sources:
  description: Each server's result.
  returned: always
  type: list
  elements: dict
  contains:
    server:
      description: The server as given.
      type: str
    address:
      description: The address asked.
      type: str
    offset:
      description: Offset in seconds of its best sample (absent with C(error)).
      type: float
    delay:
      description: Round trip in seconds of that sample.
      type: float
    stratum:
      description: The server's stratum.
      type: int
    reference:
      description: The server's reference (its source's address, or a stratum-1 server's clock name).
      type: str
    error:
      description: Why the server gave no usable answer.
      type: str
  sample:
    - {server: 192.0.2.100, address: 192.0.2.100, offset: -0.000412, delay: 0.00061, stratum: 8,
       reference: 127.127.1.1}
"""

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linux_cluster.lvs.plugins.module_utils._ntp import NTPReplyError, best, reply, request


def ask(address: tuple, family: int, timeout: float) -> dict:
    """One request to `address`: a sample (offset, delay, ...) or {error}."""
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sent = time.time()
        try:
            sock.sendto(request(sent), address)
            while True:
                data, source = sock.recvfrom(512)
                received = time.time()
                if source[:2] == address[:2]:
                    return reply(data, sent, received)
        except socket.timeout:
            return {"error": f"no answer within {timeout:g} s"}
        except (OSError, NTPReplyError) as exc:
            return {"error": str(exc)}


def measure(server: str, port: int, timeout: float, samples: int) -> dict:
    result: dict = {"server": server}
    try:
        family, _type, _proto, _name, address = socket.getaddrinfo(server, port, type=socket.SOCK_DGRAM)[0]
    except (OSError, UnicodeError) as exc:
        return {**result, "error": f"cannot resolve: {exc}"}
    result["address"] = address[0]
    taken = [ask(address, family, timeout) for _sample in range(samples)]
    chosen = best(taken)
    if chosen is None:
        return {**result, "error": taken[-1]["error"]}
    return {**result, **chosen}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "servers": {"type": "list", "elements": "str", "required": True},
            "port": {"type": "int", "default": 123},
            "timeout": {"type": "float", "default": 1.0},
            "samples": {"type": "int", "default": 3},
            "require_answer": {"type": "bool", "default": False},
            "max_offset": {"type": "float"},
            "wait": {"type": "float", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    for name, low in (("port", 1), ("samples", 1)):
        if params[name] < low or (name == "port" and params[name] > 65535):
            module.fail_json(msg=f"{name}={params[name]!r}: out of range")
    if not 0 < params["timeout"] <= 60:
        module.fail_json(msg=f"timeout={params['timeout']!r}: from 0 to 60 seconds")
    if not 0 <= params["wait"] <= 3600:
        module.fail_json(msg=f"wait={params['wait']!r}: from 0 to 3600 seconds")
    limit = params["max_offset"]
    started = time.monotonic()
    while True:
        sources = [measure(server, params["port"], params["timeout"], params["samples"])
                   for server in params["servers"]]
        chosen = best(sources)
        within = None if limit is None else chosen is not None and abs(chosen["offset"]) <= limit
        if within is not False or time.monotonic() - started + 1 > params["wait"]:
            break
        time.sleep(1)
    result = {"changed": False, "sources": sources, "offset": chosen["offset"] if chosen else None,
              "server": chosen["server"] if chosen else None, "within": within,
              "waited": round(time.monotonic() - started, 3)}
    if chosen is None and params["require_answer"]:
        module.fail_json(msg="no NTP server answered: " + "; ".join(
            f"{source['server']}: {source['error']}" for source in sources), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
