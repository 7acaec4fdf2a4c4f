"""The local workers' network namespace: a server in it that listens on every interface, as
TensorFlow's does, is reached from inside it and from nowhere else; a machine without the tools
says why."""

import os
import socket
import subprocess
import sys

import pytest

from bench.processes import loopback

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# A stand-in for TensorFlow's server: listens on [::] dual-stack (every interface, as gRPC binds
# TensorFlow's 0.0.0.0) on the port given, says 'listening', and lives until its stdin closes.
SERVER = """
import socket, sys
server = socket.create_server(("", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
print("listening", flush=True)
sys.stdin.read()
"""
CLIENT = """
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
"""


@pytest.fixture(scope="module")
def namespace(namespaces_allowed):
    started = loopback.start()
    yield started
    started.close()


def test_a_server_in_the_namespace_is_reached_from_inside_only(namespace, listening):
    # This process holds the port in its own network (bound, not listening: a connection to it is
    # refused), and the server in the namespace listens on the same port number in its own.
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    server = subprocess.Popen(namespace.command([sys.executable, "-c", SERVER, str(port)]),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        (seen,) = listening(server.pid)
        assert seen.port == port and str(seen.address) == "::"  # every interface, of its network
        assert seen.interfaces == {"lo"} and seen.namespace != os.readlink("/proc/self/ns/net")
        assert not seen.reachable_from_outside
        with pytest.raises(ConnectionRefusedError):  # not through this machine's own loopback
            socket.create_connection(("127.0.0.1", port), timeout=5)
        inside = subprocess.run(namespace.command([sys.executable, "-c", CLIENT, str(port)]),
                                capture_output=True, text=True, timeout=60)
        assert inside.returncode == 0, inside.stderr
    finally:
        server.stdin.close()
        server.wait(timeout=60)
        held.close()


def test_the_holder_ends_when_closed(namespaces_allowed):
    started = loopback.start()
    started.close()
    assert started.holder.returncode == 0


# Inside a user namespace of its own, whose limit of nested user namespaces is set to 0 (its
# root may), `start` meets a real refusal: unshare's own words.
REFUSED = """
with open("/proc/sys/user/max_user_namespaces", "w") as limit:
    limit.write("0")
from bench.processes import loopback
try:
    loopback.start()
except loopback.Unavailable as why:
    print(why)
"""


def test_a_refused_namespace_is_named_in_the_tools_own_words(namespaces_allowed):
    refused = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c", REFUSED],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 0, refused.stderr
    assert refused.stdout.startswith("unshare: unshare failed: "), refused.stdout


def test_a_machine_without_the_tools_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no unshare, no nsenter
    with pytest.raises(loopback.Unavailable, match=r"^no unshare or nsenter command \(util-linux\) on PATH$"):
        loopback.start()
