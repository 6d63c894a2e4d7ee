"""Nothing reaches the network: no download, no telemetry, no update check."""

from __future__ import annotations

import os
import socket

import pytest

from conftest import NetworkUse


def test_internet_sockets_refuse_to_connect_during_tests():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkUse):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routable anyway


@pytest.mark.skipif(os.environ.get("WINPORTLINT_TESTS_OFFLINE") != "1",
                    reason="only where .ci/run runs the suite in a network namespace (unshare -rn)")
def test_the_suite_runs_in_a_namespace_without_a_network():
    # A UDP send is not guarded in this process and succeeds wherever a route exists:
    # here the kernel itself must have no route.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(OSError):
        sock.sendto(b"x", ("192.0.2.1", 53))
