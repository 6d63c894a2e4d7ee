"""Protocols, port ranges and CIDRs as AWS security groups read them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network

from .model import Peer, PortRange

# IP protocol numbers with a name of their own in security groups.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# Protocols whose rules carry a port range; any other protocol covers all of its traffic.
PORTED_PROTOCOLS = frozenset({"tcp", "udp"})

IPV4_WORLD = ipaddress.IPv4Network("0.0.0.0/0")
IPV6_WORLD = ipaddress.IPv6Network("::/0")


def normalize_protocol(value: object) -> str | None:
    """Return ``tcp|udp|icmp|icmpv6|all|<number>``, or ``None`` if not a protocol.

    Names are matched in any case; ``-1`` and ``all`` mean every protocol;
    numbers 0-255 are kept as numbers unless they have a name.
    """
    if isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    if text in ("-1", "all"):
        return "all"
    if text in ("tcp", "udp", "icmp", "icmpv6"):
        return text
    if text in ("icmpv4",):
        return "icmp"
    try:
        number = int(text)
    except ValueError:
        return None
    if not 0 <= number <= 255:
        return None
    return _PROTOCOL_NAMES.get(str(number), str(number))


def parse_port(value: object) -> int | None:
    """A port as AWS accepts it: an int or a numeric string, -1 allowed; a whole number written
    as a float (``3389.0``, YAML's ``3.389e+3``) too, an integer to JSON Schema."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def port_range(protocol: str, from_port: int | None, to_port: int | None) -> PortRange | None:
    """The ports a rule opens, ``None`` meaning every port.

    For tcp/udp a missing range, or ``-1``, means every port; for other
    protocols the range is ignored (ICMP uses it for type and code).
    Raises ``ValueError`` for a range AWS would reject.
    """
    if protocol not in PORTED_PROTOCOLS:
        return None
    if from_port is None and to_port is None:
        return None
    if from_port is None or to_port is None:
        raise ValueError("a port range needs both ends")
    if from_port == -1 and to_port == -1:
        return None
    if from_port == 0 and to_port == 65535:
        return None
    return PortRange(from_port, to_port)


def parse_peer(text: str, version: int | None = None, bare_address: bool = False, host_bits: bool = False) -> Peer:
    """A CIDR peer, parsed strictly: an address, a slash and a prefix length.

    Any spelling of an IPv6 address works (``0000::/0``, the fully expanded
    form), but leading zeros in IPv4 (``000.0.0.0/0``), spaces, a zone
    (``::/0%eth0``), an address of the other family than ``version`` (4 or 6,
    when given) or any other text make it ``invalid``: never the world. With
    ``bare_address`` an address alone is a host route, as cfn-lint's network
    formats take it. Host bits (``10.0.0.1/0``) make it ``invalid`` (the
    Terraform provider and cfn-lint reject them) unless ``host_bits``: then it
    is the network EC2 keeps (``0.0.0.0/0``), for a value AWS deploys as it is.
    """
    try:
        if "/" not in text and not bare_address:
            raise ValueError(text)
        network = ipaddress.ip_network(text, strict=not host_bits)
    except ValueError:
        return Peer("invalid", text)
    if version is not None and network.version != version:
        return Peer("invalid", text)
    return Peer("cidr", text, network)


def cidr_error(text: str, version: int) -> str:
    """Why ``text`` is not an IPv``version`` CIDR, in a message's words; a spelling with host
    bits set also says which network EC2 would keep (``10.0.0.1/0`` is ``0.0.0.0/0``)."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"is not a valid IPv{version} CIDR: AWS rejects it"
    if "/" not in text:
        return f"has no prefix length (/{network.prefixlen} for one address): AWS rejects it"
    if network.version != version:
        return f"is an IPv{network.version} CIDR, not IPv{version}: AWS rejects it"
    return f"has host bits set (the network is {network}): cfn-lint and the Terraform provider reject it"


def is_world(network: IPv4Network | IPv6Network) -> bool:
    """True for ``0.0.0.0/0`` or ``::/0`` in any spelling."""
    return network.prefixlen == 0


def covers_world(networks: Iterable[IPv4Network | IPv6Network]) -> bool:
    """True when the union of the networks is all of IPv4 or all of IPv6."""
    v4, v6 = [], []
    for net in networks:
        (v4 if net.version == 4 else v6).append(net)
    return any(
        # Too few addresses in all (the usual case) answers without merging the networks.
        nets and sum(net.num_addresses for net in nets) >= world.num_addresses
        and list(ipaddress.collapse_addresses(nets)) == [world]
        for nets, world in ((v4, IPV4_WORLD), (v6, IPV6_WORLD))
    )
