"""What a process listens on, read from /proc as `ss -ltnp` would: its listening TCP sockets, in
its own network namespace, and whether that namespace has more than loopback; and whether this
machine lets an unprivileged process make a user and network namespace; a process's children."""

import dataclasses
import ipaddress
import os
import shutil
import subprocess

import pytest

_LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp


@dataclasses.dataclass(frozen=True)
class Listening:
    """A listening socket of a process.

    Attributes:
      address: the address it is bound to (0.0.0.0 or :: is every interface).
      port: its port.
      namespace: its network namespace ('net:[inode]').
      interfaces: the interfaces of that namespace (from its /proc/PID/net/dev).
    """

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int
    namespace: str
    interfaces: frozenset

    @property
    def reachable_from_outside(self) -> bool:
        """Bound beyond loopback, in a namespace with an interface other than loopback."""
        return not self.address.is_loopback and bool(self.interfaces - {"lo"})


def _address(hex_address: str):
    """/proc/net/tcp's address: 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def listening_sockets(pid: int) -> list[Listening]:
    """The TCP sockets process `pid` listens on, from /proc/PID/net/tcp and tcp6 (its own network
    namespace's tables) matched by inode to the sockets among its open files."""
    inodes = _socket_inodes(pid)
    with open(f"/proc/{pid}/net/dev", encoding="ascii") as stream:
        interfaces = frozenset(line.split(":")[0].strip() for line in stream.readlines()[2:])
    namespace = os.readlink(f"/proc/{pid}/ns/net")
    found = []
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}", encoding="ascii") as stream:
            for line in stream.readlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _LISTEN and inode in inodes:
                    hex_address, hex_port = local.split(":")
                    found.append(Listening(_address(hex_address), int(hex_port, 16), namespace, interfaces))
    return found


@pytest.fixture(scope="session")
def listening():
    """listening(pid) -> [Listening]: what the process listens on (see `listening_sockets`)."""
    return listening_sockets


@pytest.fixture(scope="session")
def namespaces_allowed():
    """Skips the test unless an unprivileged user and network namespace can be made here."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("nsenter") is None:
        pytest.skip("this machine has no unshare or nsenter (util-linux)")
    tried = subprocess.run([unshare, "--user", "--map-root-user", "--net", "true"], capture_output=True,
                           text=True)
    if tried.returncode != 0:
        pytest.skip(f"this machine refuses a user and network namespace: {tried.stderr.strip()}")


def _children_of(pid: int) -> list[int]:
    """The pids of the processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stream:
                    parent = int(stream.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError):  # gone meanwhile
                continue
            if parent == pid:
                found.append(int(entry))
    return found


@pytest.fixture(scope="session")
def children_of():
    """children_of(pid) -> [pid]: the processes whose parent is `pid`."""
    return _children_of
