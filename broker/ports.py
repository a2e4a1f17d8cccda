"""TCP port helpers: tests and the default broker need free ports, never a fixed one."""

from __future__ import annotations

import errno
import socket


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port the OS considers free on `host` right now.

    The socket is closed before returning, so another process could take the port in
    between; callers that can bind port 0 themselves should prefer that.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """True when a server already listens on host:port (so our broker could not bind it).

    Binds with SO_REUSEADDR, like the brokers do, so connections lingering in TIME_WAIT do
    not count as "in use"; on Linux such a bind still fails when anything listens there,
    including a wildcard (0.0.0.0) listener. For an address that is not local, falls back
    to a connect probe.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                return True
        else:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0
