# Copyright (c) linux_cluster.lvs contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One NTP client exchange (RFC 5905, client mode) as data: the request for a transmit time, and the reply read
into the offset of the local clock from the server's, the round-trip delay, the server's stratum and leap
indicator. The ntp_offset module sends and times the packets; everything here is pure."""

from __future__ import annotations

import struct

# Seconds from the NTP era (1900-01-01) to the Unix epoch.
NTP_EPOCH = 2208988800
PACKET = struct.Struct("!BBbb11I")
VERSION = 4
CLIENT, SERVER = 3, 4
# The leap indicator of a server that is not synchronised itself.
UNSYNCHRONISED = 3


class NTPReplyError(ValueError):
    """A reply that carries no time to trust: too short, not from a server, not the answer to our request,
    or from a server that is not synchronised."""


def to_ntp(unix_time: float) -> tuple[int, int]:
    """Unix time -> (seconds since 1900, fraction in 1/2**32 s)."""
    seconds = int(unix_time) + NTP_EPOCH
    return seconds, int((unix_time - int(unix_time)) * 2 ** 32) & 0xFFFFFFFF


def from_ntp(seconds: int, fraction: int) -> float:
    return seconds - NTP_EPOCH + fraction / 2 ** 32


def request(transmit: float) -> bytes:
    """A client-mode request whose transmit timestamp is `transmit` (the server echoes it as the origin)."""
    words = [0] * 11
    words[9], words[10] = to_ntp(transmit)
    return PACKET.pack(VERSION << 3 | CLIENT, 0, 0, 0, *words)


def reply(data: bytes, sent: float, received: float, transmit: float | None = None) -> dict:
    """The server's answer to a request transmitted (by its timestamp) as `transmit` (default `sent`), sent at
    `sent` and received at `received` by the local clock: {offset, delay, stratum, leap, reference}. offset is
    the server's time minus ours (positive: our clock is behind)."""
    if len(data) < PACKET.size:
        raise NTPReplyError(f"a reply of {len(data)} bytes, not {PACKET.size}")
    first, stratum, _poll, _precision, *words = PACKET.unpack(data[:PACKET.size])
    leap, mode = first >> 6, first & 7
    if mode != SERVER:
        raise NTPReplyError(f"a reply in mode {mode}, not {SERVER} (server)")
    if (words[5], words[6]) != to_ntp(sent if transmit is None else transmit):
        raise NTPReplyError("a reply to another request (its origin time is not ours)")
    if leap == UNSYNCHRONISED or stratum == 0:
        raise NTPReplyError(f"the server is not synchronised (leap {leap}, stratum {stratum})")
    server_received, server_sent = from_ntp(words[7], words[8]), from_ntp(words[9], words[10])
    reference = words[2]
    return {
        "offset": ((server_received - sent) + (server_sent - received)) / 2,
        "delay": (received - sent) - (server_sent - server_received),
        "stratum": stratum,
        "leap": leap,
        # A stratum-1 server's reference is four ASCII letters; any other's the address of its own source.
        "reference": (reference.to_bytes(4, "big").rstrip(b"\0").decode("ascii", "replace") if stratum == 1
                      else ".".join(str(part) for part in reference.to_bytes(4, "big"))),
    }


def best(samples: list[dict]) -> dict | None:
    """The sample with the shortest round trip (the least queueing delay in its offset), or None."""
    answered = [sample for sample in samples if "offset" in sample]
    return min(answered, key=lambda sample: sample["delay"]) if answered else None
