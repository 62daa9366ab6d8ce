"""No test reaches the network (issue #15, point 5): Python sockets connect to loopback and Unix sockets only.

The suite runs with pytest-socket's ``--allow-hosts=127.0.0.1,::1,localhost --allow-unix-socket`` (pyproject.toml).
192.0.2.1 is TEST-NET-1 (RFC 5737): it is never routed, so without the guard the connect would time out instead.
"""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_a_connection_off_the_machine_is_refused_before_it_leaves():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        with pytest.raises(SocketConnectBlockedError, match=r'with host "192\.0\.2\.1"'):
            sock.connect(("192.0.2.1", 80))


def test_loopback_stays_open_for_the_databases_and_servers_the_tests_start():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
