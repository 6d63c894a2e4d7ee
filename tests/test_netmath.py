import ipaddress

import pytest

from winportlint.model import PortRange
from winportlint.netmath import cidr_error, covers_world, is_world, normalize_protocol, parse_peer, port_range


@pytest.mark.parametrize("raw, expected", [
    ("tcp", "tcp"), ("TCP", "tcp"), ("Udp", "udp"), (6, "tcp"), ("6", "tcp"), ("17", "udp"), (1, "icmp"),
    ("58", "icmpv6"), ("icmpv6", "icmpv6"), ("-1", "all"), (-1, "all"), ("all", "all"), ("ALL", "all"),
    ("47", "47"), ("2", "2"), ("256", None), ("", None), ("gre", None), (True, None),
])
def test_normalize_protocol(raw, expected):
    assert normalize_protocol(raw) == expected


@pytest.mark.parametrize("protocol, ends, expected", [
    ("tcp", (3389, 3389), PortRange(3389, 3389)),
    ("tcp", (None, None), None),
    ("udp", (-1, -1), None),
    ("tcp", (0, 65535), None),
    ("tcp", (0, 0), PortRange(0, 0)),
    ("icmp", (8, 0), None),
    ("all", (3389, 3389), None),
    ("47", (1, 2), None),
])
def test_port_range(protocol, ends, expected):
    assert port_range(protocol, *ends) == expected


@pytest.mark.parametrize("protocol, ends", [("tcp", (4000, 3000)), ("tcp", (3389, None)), ("udp", (0, 70000))])
def test_port_range_rejects_what_aws_rejects(protocol, ends):
    with pytest.raises(ValueError):
        port_range(protocol, *ends)


@pytest.mark.parametrize("text, world", [
    ("0.0.0.0/0", True), ("::/0", True), ("0000::/0", True), ("0:0:0:0:0:0:0:0/0", True),
    ("0.0.0.0/00", True), ("0.0.0.0/1", False), ("10.0.0.0/8", False), ("::/1", False),
])
def test_world(text, world):
    peer = parse_peer(text)
    assert peer.kind == "cidr"
    assert is_world(peer.network) is world


@pytest.mark.parametrize("text", [
    "10.0.0.1/0", "1.0.0.0/0", "/0", "sg-123", "0.0.0.0/33",
    # spellings that look like the world (issue #15): cfn-lint and the Terraform provider reject them
    "0/0", "000.000.000.000/0", "0.0.0.0/0/0", "::/0%eth0", "0.0.0.0/0 # c", " 0.0.0.0/0", "0.0.0.0/0 ", "0.0.0.0",
])
def test_invalid_cidrs_are_never_the_world(text):
    assert parse_peer(text).kind == "invalid"


@pytest.mark.parametrize("text, version", [("::/0", 4), ("0.0.0.0/0", 6), ("::ffff:0:0/96", 4)])
def test_a_cidr_of_the_other_family_is_invalid_for_a_field_of_one(text, version):
    assert parse_peer(text, version).kind == "invalid"
    assert parse_peer(text).kind == "cidr"


def test_a_bare_address_is_a_host_route_only_where_allowed():
    assert parse_peer("0.0.0.0").kind == "invalid"
    peer = parse_peer("0.0.0.0", 4, bare_address=True)
    assert peer.kind == "cidr" and peer.network.prefixlen == 32 and not is_world(peer.network)


@pytest.mark.parametrize("cidrs, expected", [
    (["0.0.0.0/1", "128.0.0.0/1"], True),
    (["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"], True),
    (["0.0.0.0/1", "128.0.0.0/2"], False),
    (["::/1", "8000::/1"], True),
    (["0.0.0.0/1", "8000::/1"], False),
    ([], False),
])
def test_covers_world(cidrs, expected):
    assert covers_world(ipaddress.ip_network(c) for c in cidrs) is expected


def test_host_bits_give_the_network_ec2_keeps_only_where_allowed():
    """EC2 canonicalises 100.68.0.18/18 to 100.68.0.0/18 (its API reference, IpRange): a value
    AWS deploys as it is with host bits set is that network, 192.168.1.0/0 the whole internet."""
    assert parse_peer("192.168.1.0/0").kind == "invalid"
    peer = parse_peer("192.168.1.0/0", 4, host_bits=True)
    assert peer.kind == "cidr" and is_world(peer.network)


@pytest.mark.parametrize("text, version, message", [
    ("0/0", 4, "is not a valid IPv4 CIDR: AWS rejects it"),
    ("::/0", 4, "is an IPv6 CIDR, not IPv4: AWS rejects it"),
    ("10.68.0.0", 4, "has no prefix length (/32 for one address): AWS rejects it"),
    ("10.0.0.1/0", 4, "has host bits set (the network is 0.0.0.0/0): cfn-lint and the Terraform provider reject it"),
])
def test_cidr_error_says_what_is_wrong(text, version, message):
    assert cidr_error(text, version) == message
