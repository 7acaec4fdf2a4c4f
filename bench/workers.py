"""Several workers: the cluster from TF_CONFIG, and `--workers N` started on this machine.

A worker takes its cluster from TF_CONFIG (`{"cluster": {"worker": ["host:port", ...]},
"task": {"type": "worker", "index": i}}`), as Kubernetes' TFJob and Slurm set-ups provide it, so
the same command runs on a real cluster: each machine runs `python -m bench` with its own TF_CONFIG
and the chief (worker 0, or the "chief" task) prints and records. `--workers N` starts N worker
processes on this machine instead, on free localhost ports, one child process each (the
`bench.child` protocol with TF_CONFIG in its environment), and keeps the chief's result.

Failures end a configuration in bounded time, never a hang: a worker that cannot reach a peer's
port within `PEER_WAIT_S` fails with one line naming the peer (`wait_for_peers`, before any
collective runs), and when one worker ends without a result the others are stopped at once and the
row names that worker and what happened. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import threading
import time
from typing import IO

from bench import child, failures
from bench.config import BenchmarkConfig
from bench.errors import ConfigError
from bench.limits import Limits
from bench.quiet import Quiet
from bench.result import BenchmarkResult, Failure

ENV_VAR = "TF_CONFIG"
# Seconds a worker waits for every peer's port to accept a connection before it gives up.
PEER_WAIT_S = 60.0
_POLL_S = 0.2
_TASK_TYPES = ("chief", "worker")


def parse_tf_config(text: str) -> dict:
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


def tf_config(addresses: list[str], index: int) -> str:
    """The TF_CONFIG of worker `index` of a cluster of workers at `addresses`."""
    return json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on localhost now (the OS picks them)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("localhost", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_peers(addresses: list[str], index: int, timeout_s: float = PEER_WAIT_S) -> None:
    """Waits until every other worker's port accepts a TCP connection.

    Raises:
      ConnectionError: naming the first worker not reachable within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    for peer, address in enumerate(addresses):
        if peer == index:
            continue
        host, _, port = address.rpartition(":")
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=1.0):
                    break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise ConnectionError(
                        f"worker {index} cannot reach worker {peer} at {address} within "
                        f"{timeout_s:g} s ({error.strerror or error})"
                    ) from None
                time.sleep(_POLL_S)


def run_workers(
    config: BenchmarkConfig,
    environment: dict,
    quiet: Quiet = Quiet(),
    progress: IO[str] | None = None,
    limits: Limits = Limits(),
) -> BenchmarkResult:
    """Runs one configuration on `config.workers` local worker processes; the chief's result.

    The chief's progress goes to `progress`, the others' is dropped. When a worker ends without a
    measurement the others are stopped and the result is a failure naming that worker. The
    chief's record gains `extra.cluster`: the addresses, and every worker's fingerprint (equal
    when every worker holds the same numbers, see `bench.replicas`).

    Every worker runs under `limits` (memory and time each, as a single child would).

    Raises:
      KeyboardInterrupt: on Ctrl-C, after every worker has been stopped.
    """
    addresses = [f"localhost:{port}" for port in free_ports(config.workers)]
    processes: list = []
    results: list[BenchmarkResult | None] = [None] * config.workers
    lock = threading.Lock()
    stopping = threading.Event()

    def on_spawn(process) -> None:
        with lock:
            processes.append(process)
            if stopping.is_set():
                process.terminate()

    def work(index: int) -> None:
        results[index] = child.run_in_child(
            config,
            environment,
            quiet=quiet,
            progress=progress if index == 0 else None,
            limits=limits,
            extra_env={ENV_VAR: tf_config(addresses, index)},
            on_spawn=on_spawn,
        )

    threads = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(config.workers)]
    for thread in threads:
        thread.start()
    first_failure = None
    try:
        while any(thread.is_alive() for thread in threads):
            for index, result in enumerate(results):
                if first_failure is None and result is not None and not result.ok:
                    first_failure = index
                    _stop_all(processes, lock, stopping)
            time.sleep(_POLL_S)
    except KeyboardInterrupt:
        _stop_all(processes, lock, stopping)
        for thread in threads:
            thread.join()
        raise
    for index, result in enumerate(results):
        if first_failure is None and (result is None or not result.ok):
            first_failure = index
    return _chief_result(config, environment, results, addresses, first_failure)


def _stop_all(processes: list, lock: threading.Lock, stopping: threading.Event) -> None:
    """Terminates every worker process started so far, and any started later."""
    with lock:
        stopping.set()
        for process in processes:
            with contextlib.suppress(OSError):
                process.terminate()


def _chief_result(
    config: BenchmarkConfig,
    environment: dict,
    results: list[BenchmarkResult | None],
    addresses: list[str],
    failed: int | None,
) -> BenchmarkResult:
    """The chief's result with the cluster named, or a failure naming the first worker that failed."""
    cluster = {
        "workers": len(addresses),
        "addresses": addresses,
        "fingerprints": [None if r is None else r.extra.fingerprint for r in results],
    }
    if failed is not None:
        cause = results[failed].failure if results[failed] is not None else None
        what = cause.message if cause else "ended without a result"
        failure = Failure(
            cause.kind if cause else "exit",
            f"worker {failed} ({addresses[failed]}) failed: {what}; the other workers were stopped",
            exit_code=cause.exit_code if cause else None,
            signal=cause.signal if cause else None,
            details=cause.details if cause else [],
        )
        result = failures.failed_result(config, environment, failure)
        result.phases_s = dict(results[0].phases_s) if results[0] is not None else {}
    else:
        result = results[0]
    result.extra = dataclasses.replace(result.extra, cluster=cluster)
    return result


def is_chief() -> bool:
    """True unless TF_CONFIG names this process a task other than the cluster's first."""
    text = os.environ.get(ENV_VAR)
    return not text or parse_tf_config(text)["index"] == 0
