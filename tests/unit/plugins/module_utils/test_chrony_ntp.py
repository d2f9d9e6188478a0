"""chrony's files from a node's time settings, the checks between them, chrony's tracking read, and the NTP client
exchange ntp_offset measures a clock with."""

from __future__ import annotations

import struct

import pytest

from ansible_collections.linux_cluster.lvs.plugins.module_utils import _ntp
from ansible_collections.linux_cluster.lvs.plugins.module_utils._chrony import (
    TIME_INPUT,
    clock,
    render_conf,
    render_sources,
    tracking,
)
from ansible_collections.linux_cluster.lvs.plugins.module_utils._input import problem_lines


def model(**params):
    validated, messages = TIME_INPUT.validate(params)
    assert not messages, messages
    return TIME_INPUT.check(validated)


def problems(**params):
    return problem_lines(TIME_INPUT.problems(params))


def test_sources_and_cluster_time_are_rendered_from_their_fields():
    time = model(time_sources=[{"address": "192.0.2.100", "minpoll": 0, "maxpoll": 2},
                               {"address": "pool.example.org", "pool": True, "iburst": False, "prefer": True}],
                 local_stratum=8, allow=["192.0.2.0/24", "2001:db8::/64"])
    assert render_sources(time) == ("server 192.0.2.100 iburst minpoll 0 maxpoll 2\n"
                                    "pool pool.example.org prefer\n")
    assert render_conf(time) == "local stratum 8 orphan\nallow 192.0.2.0/24\nallow 2001:db8::/64\n"
    assert (time["max_offset"], time["sync_timeout"]) == (0.1, 120)


def test_a_node_that_only_keeps_cluster_time_has_no_sources_file_lines():
    time = model(local_stratum=10)
    assert render_sources(time) == ""
    assert render_conf(time) == "local stratum 10 orphan\n"


def test_every_bad_field_is_named_at_once():
    assert problems(time_sources=[{"address": "ntp..example", "minpoll": 25}, {"address": "10.0.0.1"}],
                    allow=["10.0.0.0/33"], local_stratum=16, max_offset=20) == [
        "time_sources[0].address='ntp..example': an IP address or a host name is required",
        "time_sources[0].minpoll=25: must be from -6 to 24",
        "local_stratum=16: must be from 0 to 15",
        "allow[0]='10.0.0.0/33': not a network (for example 198.51.100.0/24)",
        "max_offset=20.0: must be from 0.001 to 10",
    ]


def test_rules_between_fields():
    assert problems() == ["time_sources=[]: no time source: declare the node's servers, or local_stratum on the "
                          "nodes that keep cluster time"]
    assert problems(time_sources=[{"address": "192.0.2.100", "minpoll": 4, "maxpoll": 2},
                                  {"address": "192.0.2.100"}]) == [
        "time_sources[0].minpoll=4: above maxpoll 2",
        "time_sources[1].address='192.0.2.100': declared twice",
    ]


def test_mistyped_values_fail_argument_validation():
    assert any("local_stratum" in line for line in problems(local_stratum="high"))


TRACKING = ("C0000264,192.0.2.100,9,1764966000.123,-0.000012345,0.000002,0.00001,-3.2,0.001,0.05,0.0004,0.0001,2.0,"
            "Normal")


def test_tracking_read():
    assert tracking(TRACKING) == {"reference": "192.0.2.100", "stratum": 9, "correction": -0.000012345,
                                  "leap": "Normal"}
    assert tracking("") == {} and tracking("506 Cannot talk to daemon") == {}
    local = "7F7F0101,,8,1796504354.7,0.000000000,0.0,0.0,0.000,0.000,0.000,0.0,0.0,0.0,Normal"
    assert tracking(local)["reference"] == "its own clock"


def test_a_node_keeping_cluster_time_is_synchronised_to_its_own_clock():
    time = {"servers": [], "max_offset": 0.1, "sync_timeout": 30}
    local = "7F7F0101,,8,1796504354.7,0.000000000,0.0,0.0,0.000,0.000,0.000,0.0,0.0,0.0,Normal"
    assert clock({"time": time, "waitsync": 0, "tracking": local, "probe": None}) == (
        [], "synchronised to its own clock (stratum 8), chrony's correction +0.000000 s")


def clock_of(offset, waitsync=0, text=TRACKING):
    time = {"servers": ["192.0.2.100"], "max_offset": 0.1, "sync_timeout": 30}
    answer = {"offset": offset} if offset is not None else {"error": "no answer"}
    probe = {"offset": offset, "sources": [{"server": "192.0.2.100", **answer}]}
    return clock({"time": time, "waitsync": waitsync, "tracking": text, "probe": probe})


def test_a_clock_within_its_limit_is_reported_with_its_offsets():
    problems_found, report = clock_of(0.0021)
    assert problems_found == []
    assert report == ("synchronised to 192.0.2.100 (stratum 9), chrony's correction -0.000012 s; offset measured from "
                      "192.0.2.100 +0.002100 s")


def test_a_stepped_clock_is_caught_with_its_offset_and_source():
    problems_found, _report = clock_of(-2.000731)
    assert problems_found == ["clock off by -2.000731 s from its time sources, beyond ntp_prereqs_max_offset 0.1 s "
                              "(synchronised to 192.0.2.100 (stratum 9), chrony's correction -0.000012 s; offset "
                              "measured from 192.0.2.100 -2.000731 s)"]


def test_an_unsynchronised_chrony_and_a_silent_source_are_both_named():
    unsynced = TRACKING.replace("Normal", "Not synchronised")
    problems_found, _report = clock_of(None, waitsync=1, text=unsynced)
    assert problems_found[0].startswith("chrony did not synchronise within 30 s with a correction under 0.1 s "
                                        "(chrony not synchronised")
    assert problems_found[1].startswith("clock off by no answer from its time sources")


def server_reply(request: bytes, receive: float, transmit: float, stratum: int = 8, leap: int = 0, mode: int = 4):
    """What a server sends back: our transmit time as its origin, its receive and transmit times."""
    words = list(struct.unpack("!11I", request[4:]))
    origin = words[9], words[10]
    reply = [0] * 11
    reply[2] = 0xC0000264
    reply[5], reply[6] = origin
    reply[7], reply[8] = _ntp.to_ntp(receive)
    reply[9], reply[10] = _ntp.to_ntp(transmit)
    return _ntp.PACKET.pack(leap << 6 | 4 << 3 | mode, stratum, 6, -20, *reply)


def test_ntp_offset_and_delay_from_the_four_times():
    sent, received = 1000.0, 1000.010
    request = _ntp.request(sent)
    assert request[0] == 0x23 and len(request) == 48
    # The server's clock is 2 s ahead; 4 ms each way, 2 ms inside the server.
    answer = _ntp.reply(server_reply(request, 1002.004, 1002.006), sent, received)
    assert answer["offset"] == pytest.approx(2.0, abs=1e-6)
    assert answer["delay"] == pytest.approx(0.008, abs=1e-6)
    assert (answer["stratum"], answer["leap"], answer["reference"]) == (8, 0, "192.0.2.100")


@pytest.mark.parametrize("change, why", [
    ({"mode": 3}, "mode 3"),
    ({"leap": 3}, "not synchronised"),
    ({"stratum": 0}, "not synchronised"),
])
def test_ntp_replies_that_carry_no_time_to_trust(change, why):
    request = _ntp.request(1000.0)
    with pytest.raises(_ntp.NTPReplyError, match=why):
        _ntp.reply(server_reply(request, 1000.0, 1000.0, **change), 1000.0, 1000.001)


def test_ntp_a_reply_to_another_request_or_too_short():
    with pytest.raises(_ntp.NTPReplyError, match="another request"):
        _ntp.reply(server_reply(_ntp.request(999.0), 1000.0, 1000.0), 1000.0, 1000.001)
    with pytest.raises(_ntp.NTPReplyError, match="12 bytes"):
        _ntp.reply(b"x" * 12, 1000.0, 1000.001)


def test_the_sample_with_the_shortest_round_trip_is_chosen():
    assert _ntp.best([{"error": "no answer"}, {"offset": 0.5, "delay": 0.2}, {"offset": 0.1, "delay": 0.01}]) == {
        "offset": 0.1, "delay": 0.01}
    assert _ntp.best([{"error": "no answer"}]) is None
