"""What an allow entry selects beyond resource, ports, check and file: the security group's
tags and the finding's sources.

The formats put the group's resolved tags on each permission (``Permission.tags``); here they
are only compared. A finding's sources are its own CIDR and, for a world exposure made of
several CIDRs of one group (``0.0.0.0/1`` + ``128.0.0.0/1``), the CIDRs it is made with
(``Finding.union_with``): accepting one part of such a union by its own range would accept the
whole internet. A source that is not a CIDR (unknown, a security group, a prefix list) is never
inside any range.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, collapse_addresses

from .model import Finding, Peer

Network = IPv4Network | IPv6Network


def selects(tags: Sequence[tuple[str, str]], sources: tuple[Network, ...], finding: Finding) -> bool:
    """Whether the finding's group carries every tag of ``tags`` and each of its sources lies
    inside the union of ``sources`` (either unset selects every finding)."""
    if tags and not set(tags) <= set(finding.permission.tags):
        return False
    return not sources or all(_inside(peer, sources) for peer in (finding.permission.peer, *finding.union_with))


def _inside(peer: Peer, ranges: tuple[Network, ...]) -> bool:
    """Whether every address of a CIDR peer is in ``ranges``, taken together (``0.0.0.0/1`` and
    ``128.0.0.0/1`` hold ``0.0.0.0/0``)."""
    if peer.kind != "cidr" or peer.network is None:
        return False
    return any(block.supernet_of(peer.network) for block in _blocks(ranges, peer.network.version))


@functools.lru_cache(maxsize=256)
def _blocks(ranges: tuple[Network, ...], version: int) -> tuple[Network, ...]:
    """The ranges of one address family merged into the fewest CIDR blocks: a CIDR the ranges hold
    together then lies inside one of them (an entry's ranges are merged once, not per finding)."""
    return tuple(collapse_addresses(network for network in ranges if network.version == version))
