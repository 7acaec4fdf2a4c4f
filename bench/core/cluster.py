"""The cluster a worker belongs to, as TF_CONFIG describes it: its grammar, read and written here.

TF_CONFIG is `{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}`
(a "chief" list may come first), as Kubernetes' TFJob and Slurm set-ups provide it. Workers are
counted in task order, the chief first; worker 0 of that order prints and records. No TensorFlow.
"""

from __future__ import annotations

import json
import os
import socket
import time

from bench.core.errors import ConfigError

ENV_VAR = "TF_CONFIG"
# Seconds a worker waits for every peer's port to accept a connection before it gives up.
PEER_WAIT_S = 60.0
_CONNECT_TIMEOUT_S = 1.0
_WAIT_POLL_S = 0.2
_TASK_TYPES = ("chief", "worker")


def parse(text: str) -> dict:
    """TF_CONFIG checked: a cluster of chief/worker addresses and this process's task in it.

    Returns:
      {'addresses': [host:port in task order, chief first], 'index': this task's position}.

    Raises:
      ConfigError: naming TF_CONFIG and what is wrong with it.
    """
    try:
        value = json.loads(text)
        cluster, task = value["cluster"], value["task"]
        addresses = [address for kind in _TASK_TYPES for address in cluster.get(kind, [])]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(
            ENV_VAR,
            text,
            'not a cluster; expected {"cluster": {"worker": ["host:port", ...]}, '
            '"task": {"type": "worker", "index": 0}}',
        ) from None
    if kind not in _TASK_TYPES or index < 0 or index >= len(cluster.get(kind, [])):
        raise ConfigError(ENV_VAR, text, f"task {kind} {index} is not in the cluster's chief/worker list")
    if not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses):
        raise ConfigError(ENV_VAR, text, "every cluster address must be host:port")
    position = index + (len(cluster.get("chief", [])) if kind == "worker" else 0)
    return {"addresses": addresses, "index": position}


def make(addresses: list[str], index: int) -> str:
    """The TF_CONFIG of worker `index` of a cluster of workers at `addresses`."""
    return json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})


def environment_text() -> str | None:
    """This process's TF_CONFIG, or None when it has none."""
    return os.environ.get(ENV_VAR) or None


def task() -> dict | None:
    """This process's TF_CONFIG as given ({'cluster': ..., 'task': {'type', 'index'}}), or None."""
    text = environment_text()
    return json.loads(text) if text else None


def task_index() -> int:
    """This process's position in its cluster (0 without one)."""
    text = environment_text()
    return parse(text)["index"] if text else 0


def is_chief() -> bool:
    """True unless TF_CONFIG names this process a task other than the cluster's first."""
    return task_index() == 0


def answers(address: str, timeout_s: float = _CONNECT_TIMEOUT_S) -> str | None:
    """None when `address` (host:port) accepts a TCP connection, else why not in words."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return None
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__


def wait_for_peers(addresses: list[str], index: int, timeout_s: float = PEER_WAIT_S) -> None:
    """Waits until every other worker's port accepts a TCP connection.

    Raises:
      ConnectionError: naming the first worker not reachable within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    for peer, address in enumerate(addresses):
        while peer != index:
            why_not = answers(address)
            if why_not is None:
                break
            if time.monotonic() > deadline:
                raise ConnectionError(
                    f"worker {index} cannot reach worker {peer} at {address} "
                    f"within {timeout_s:g} s ({why_not})"
                )
            time.sleep(_WAIT_POLL_S)
