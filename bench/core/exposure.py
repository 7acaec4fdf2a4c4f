"""Which TensorFlow servers of a run can be reached from beyond this machine, and the WARNING line
that says so. No TensorFlow.

Every worker of a cluster of several starts TensorFlow's gRPC server (`bench.step.replicas`), and
TensorFlow 2.21's server listens on every interface of its network namespace, whatever host its
address names (`bench.processes.loopback` cites the source). It has no authentication: whoever
reaches its port can run any graph in the worker, with the worker's rights (TensorFlow's
SECURITY.md: its servers are for trusted networks only). So a run warns, once, when it starts a
server that listens beyond loopback:

- a TF_CONFIG cluster of several workers: this process's server, on its task's port (open ports
  are the point of a real cluster; the user is still told);
- `--workers N` on this machine when `bench.processes.loopback` cannot confine the workers to a
  network of their own: every worker's port, named when that configuration's workers start.

Local workers in their namespace listen on its loopback only, and nothing is said.
"""

from __future__ import annotations

from bench.core import cluster

EVERY_INTERFACE = "every network interface (0.0.0.0 and [::])"
SECURITY_DOC = "docs/data-parallel.md#security"


def cluster_ports(tf_config: str | None) -> list[int]:
    """The port this process's server opens to the network in a TF_CONFIG cluster: its task's
    port when the cluster has several workers; [] without a cluster or with one worker (which
    starts no server).

    Raises:
      ConfigError: for a malformed TF_CONFIG (`bench.core.cluster.parse`).
    """
    if not tf_config:
        return []
    shape = cluster.parse(tf_config)
    if len(shape["addresses"]) < 2:
        return []
    return [int(shape["addresses"][shape["index"]].rpartition(":")[2])]


def cluster_warning(tf_config: str | None) -> str | None:
    """The WARNING line for a TF_CONFIG cluster's server, or None when this process starts none."""
    ports = cluster_ports(tf_config)
    return warning_line("this worker's TensorFlow server", ports, "while the run lasts") if ports else None


def local_workers_warning(ports: list[int], why_open: str) -> str:
    """The WARNING line for `--workers` servers that could not be confined to this machine.

    Args:
      ports: every local worker's port.
      why_open: why the workers could not get a network of their own
        (`bench.processes.loopback.Unavailable`'s message).
    """
    whose = f"the {len(ports)} local workers' TensorFlow servers (not confined to this machine: {why_open})"
    return warning_line(whose, ports, "while this configuration runs")


def warning_line(whose: str, ports: list[int], lasting: str) -> str:
    """One line: `whose` listen(s) on `ports` of every interface `lasting`, unauthenticated; what
    that means and what to do."""
    several = len(ports) > 1
    listen = "listen" if several else "listens"
    named = ("ports " if several else "port ") + ", ".join(str(port) for port in ports)
    return (
        f"WARNING: {whose} {listen} on {named} of {EVERY_INTERFACE} {lasting}, with no "
        f"authentication: whoever can reach {'them' if several else 'it'} can run any code as this "
        f"user; run only on a trusted network ({SECURITY_DOC})"
    )
