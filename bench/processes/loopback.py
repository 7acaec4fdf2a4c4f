"""Local workers on a network of their own: a user and network namespace whose only interface is
loopback, so their TensorFlow servers cannot be reached from outside it.

Why a namespace: TensorFlow 2.21's gRPC server listens on every interface whatever host its
cluster address names, and offers no setting to change that. `GrpcServer::Init` in
tensorflow/core/distributed_runtime/rpc/grpc_server_lib.cc calls
`builder.AddListeningPort(strings::StrCat("0.0.0.0:", requested_port), ...)`; the host part of the
task's address (`GrpcServer::GetHostAndPort`, just above it) only names the server's target and
its place in the channel cache (PR tensorflow/tensorflow#38600 made it do that much and no more).
`ServerDef` (tensorflow/core/protobuf/tensorflow_server.proto) has a `port` that overrides the
address's port but no host, and `RPCOptions` and the session's ConfigProto say nothing of the
bound address. gRPC takes 0.0.0.0 as its wildcard and listens dual-stack, so `ss -ltn` shows
`*:PORT`. (Checked on the 2.21 wheel: libtensorflow_cc.so.2 holds the "0.0.0.0:" literal, and a
server whose cluster address is 127.0.0.1:PORT listens on *:PORT.)

So `bench.processes.workers` starts a holder process in a new user namespace with a new network
namespace (util-linux's `unshare --user --map-root-user --net`, unprivileged, as rootless containers
do) that brings loopback up, and starts every worker in it with `nsenter --preserve-credentials`
(the worker keeps its uid, groups and files; inside, its uid reads as 0). The workers' servers
still listen on "every interface", but the namespace has loopback only: the workers reach each
other, and nothing else can reach them: not the network, not another user of this machine (root
and this same user, who can join the namespace, aside), not this machine's own loopback. The
harness talks to its workers through pipes only, so it needs no way in. Nothing is left behind:
the namespace ends with its last process, and the holder ends when its stdin closes (`close`, or
this process's death).

Where the machine does not allow it (no unshare or nsenter, user namespaces switched off, or
restricted as by Ubuntu 24.04's AppArmor default), `start` raises `Unavailable` saying why (it
joins the namespace once itself, so a refusal to join is caught there too), and the workers run
as before, reachable from outside (`bench.core.exposure` words the warning).
No TensorFlow here.
"""

from __future__ import annotations

import select
import shutil
import subprocess
import sys

# Seconds the holder gets to bring loopback up and say so.
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
READY = "up"
# The holder: sets loopback's IFF_UP flag (SIOCGIFFLAGS, SIOCSIFFLAGS on a struct ifreq: a 16-byte
# name, then the flags), says READY, and lives until its stdin closes.
HOLDER_CODE = f"""
import fcntl, socket, struct, sys
layout = "16sH14x"
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    flags = struct.unpack(layout, fcntl.ioctl(s, 0x8913, struct.pack(layout, b"lo", 0)))[1]
    fcntl.ioctl(s, 0x8914, struct.pack(layout, b"lo", flags | 1))
print({READY!r}, flush=True)
sys.stdin.read()
"""


class Unavailable(Exception):
    """This machine cannot give the workers a namespace of their own; the message says why."""


class Namespace:
    """A running holder of a user and network namespace with loopback up.

    Attributes:
      holder: the holder process (its pid names the namespace to `nsenter`).
    """

    def __init__(self, holder: subprocess.Popen, nsenter: str):
        self.holder = holder
        self._nsenter = nsenter

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespace (nsenter execs it: the same process, no fork)."""
        target = str(self.holder.pid)
        return [self._nsenter, "--target", target, "--user", "--net", "--preserve-credentials", "--", *argv]

    def close(self) -> None:
        """Ends the holder (the namespace ends once the workers in it have ended too)."""
        _end(self.holder)


def start() -> Namespace:
    """A new namespace whose network is loopback only, held by a process of its own.

    Raises:
      Unavailable: naming what this machine lacks or refused (the tool's own words).
    """
    tools = {name: shutil.which(name) for name in ("unshare", "nsenter")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        raise Unavailable(f"no {' or '.join(missing)} command (util-linux) on PATH")
    holder_command = [sys.executable, "-I", "-S", "-c", HOLDER_CODE]
    command = [tools["unshare"], "--user", "--map-root-user", "--net", "--", *holder_command]
    pipe = subprocess.PIPE
    try:
        holder = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, text=True)
    except OSError as error:
        raise Unavailable(f"unshare: {error.strerror or error}") from None
    ready, _, _ = select.select([holder.stdout], [], [], START_TIMEOUT_S)
    if not (ready and holder.stdout.readline().strip() == READY):
        said = _ended(holder)
        why = said[-1] if said else f"no answer within {START_TIMEOUT_S:g} s"
        raise Unavailable(why if why.startswith("unshare") else f"unshare: {why}")
    namespace = Namespace(holder, tools["nsenter"])
    # Joining it is tried once here, so a refusal is this line and not every worker's failure.
    joined = subprocess.run(namespace.command([sys.executable, "-I", "-S", "-c", ""]), capture_output=True,
                            text=True, timeout=START_TIMEOUT_S)
    if joined.returncode != 0:
        namespace.close()
        said = joined.stderr.strip().splitlines()
        raise Unavailable(said[-1] if said else f"nsenter: exit status {joined.returncode}")
    return namespace


def _ended(holder: subprocess.Popen) -> list[str]:
    """Ends a holder that did not get going; the lines it wrote to stderr."""
    try:
        _, said = holder.communicate(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        holder.kill()
        _, said = holder.communicate()
    return said.strip().splitlines()


def _end(holder: subprocess.Popen) -> None:
    """Closes the holder's stdin and waits for it (killed if it lingers)."""
    if holder.stdin and not holder.stdin.closed:
        holder.stdin.close()
    try:
        holder.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        holder.kill()
        holder.wait()
    for stream in (holder.stdout, holder.stderr):
        if stream and not stream.closed:
            stream.close()
