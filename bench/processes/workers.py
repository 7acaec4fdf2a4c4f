"""Several workers on this machine: `--workers N` started as local processes, and their result.

`--workers N` starts N worker processes on free localhost ports, one child process each (the
`bench.processes.child` protocol with a TF_CONFIG of `bench.core.cluster` in its environment), and keeps the
chief's result; on a real cluster each machine runs `python -m bench` with its own TF_CONFIG
instead and none of this module runs. When one worker ends without a result the others are
stopped at once and the row names that worker and what happened (a peer that cannot be reached,
or that stops answering, is `bench.processes.peers`' business inside each worker; such a 'peer' failure
waits up to PEER_BLAME_S for the lost worker's own failure, which says why). The workers run in a
network of their own with loopback only (`bench.processes.loopback`), so their unauthenticated
TensorFlow servers cannot be reached from outside; where this machine does not allow that, they
run as before and one WARNING line on stderr names their ports (`bench.core.exposure`). No
TensorFlow here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import sys
import threading
import time

from bench.core import cluster, exposure
from bench.core.config import BenchmarkConfig
from bench.core.run_context import RunContext
from bench.processes import child, loopback
from bench.results import failures
from bench.results.result import BenchmarkResult, Failure
from bench.step import device

_POLL_S = 0.2  # seconds between two looks at the workers' results
# Seconds a worker's 'peer' failure waits for the lost peer's own failure, which names the cause.
PEER_BLAME_S = 2.0


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


def run_workers(config: BenchmarkConfig, context: RunContext) -> BenchmarkResult:
    """Runs one configuration on `config.workers` local worker processes; the chief's result.

    The chief's progress goes to `context.progress`, the others' is dropped. When a worker ends without a
    measurement the others are stopped and the result is a failure naming that worker. The
    chief's record gains `extra.cluster`: the addresses, every worker's fingerprint (equal
    when every worker holds the same numbers, see `bench.step.replicas`), their measured steps, and
    where the servers listened ('loopback' in the workers' own network, else
    `exposure.EVERY_INTERFACE`, after the WARNING line on stderr).

    Every worker runs under `context.limits` (memory and time each, as a single child would), and sees
    only the GPUs it owns (`bench.step.device.local_gpus`; none when the CPU is measured).

    Raises:
      KeyboardInterrupt: on Ctrl-C, after every worker has been stopped.
    """
    ports = free_ports(config.workers)
    addresses = [f"localhost:{port}" for port in ports]
    try:
        namespace = loopback.start()
    except loopback.Unavailable as why:
        namespace = None
        print(exposure.local_workers_warning(ports, str(why)), file=sys.stderr, flush=True)
    try:
        results, failed = _run_all(config, context, addresses, namespace)
    finally:
        if namespace is not None:
            namespace.close()
    listening = "loopback" if namespace is not None else exposure.EVERY_INTERFACE
    return _chief_result(config, context.environment, results, addresses, failed, listening)


def _run_all(
    config: BenchmarkConfig,
    context: RunContext,
    addresses: list[str],
    namespace: loopback.Namespace | None,
) -> tuple[list[BenchmarkResult | None], int | None]:
    """Runs a worker at each address (in `namespace` unless None) until all have ended.

    Returns:
      (each worker's result or None, the worker to blame or None).

    Raises:
      KeyboardInterrupt: on Ctrl-C, after every worker has been stopped.
    """
    visible = os.environ.get(device.VISIBLE_GPUS_VAR)
    gpu_count = len(context.environment.get("gpu_names") or [])
    gpus = [device.local_gpus(config.device, visible, gpu_count, config.num_devices, index)
            for index in range(config.workers)]
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
            context if index == 0 else context.without_progress(),
            wrap_command=namespace.command if namespace is not None else None,
            extra_env={cluster.ENV_VAR: cluster.make(addresses, index), device.VISIBLE_GPUS_VAR: gpus[index]},
            on_spawn=on_spawn,
        )

    threads = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(config.workers)]
    for thread in threads:
        thread.start()
    first_failure = None
    peer_lost_at = None
    try:
        while any(thread.is_alive() for thread in threads):
            if first_failure is None:
                if peer_lost_at is None and _failed(results, peer=True):
                    peer_lost_at = time.monotonic()
                waited = peer_lost_at is not None and time.monotonic() - peer_lost_at >= PEER_BLAME_S
                first_failure = worker_to_blame(results, waited)
                if first_failure is not None:
                    _stop_all(processes, lock, stopping)
            time.sleep(_POLL_S)
    except KeyboardInterrupt:
        _stop_all(processes, lock, stopping)
        for thread in threads:
            thread.join()
        raise
    if first_failure is None:
        first_failure = worker_to_blame(results, peer_waited=True)
    if first_failure is None and None in results:
        first_failure = results.index(None)
    return results, first_failure


def _failed(results: list[BenchmarkResult | None], peer: bool) -> list[int]:
    """The workers whose result failed, with a 'peer' failure (peer=True) or another one."""
    return [
        index
        for index, result in enumerate(results)
        if result is not None and not result.ok and (getattr(result.failure, "kind", None) == "peer") == peer
    ]


def worker_to_blame(results: list[BenchmarkResult | None], peer_waited: bool) -> int | None:
    """The worker whose failure ends the configuration, or None for no failure yet.

    A 'peer' failure is a consequence: the worker it names has failed too, and its own failure
    (an error, OOM, a signal) says why; so a worker's other failure comes first, and a 'peer'
    failure only once `peer_waited` (PEER_BLAME_S passed without another failure).
    """
    others = _failed(results, peer=False)
    if others:
        return others[0]
    lost = _failed(results, peer=True)
    return lost[0] if lost and peer_waited else None


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
    listening: str,
) -> BenchmarkResult:
    """The chief's result with the cluster named (and where its servers listened), or a failure
    naming the first worker that failed."""
    shape = {
        "workers": len(addresses),
        "addresses": addresses,
        "fingerprints": [None if r is None else r.extra.fingerprint for r in results],
        # Equal when the workers stopped at the same step (with --num-batches auto: the chief's).
        "measured_steps": [None if r is None or r.measurement is None else len(r.measurement.step_times_s)
                           for r in results],
        "listening": listening,
    }
    if failed is not None:
        cause = results[failed].failure if results[failed] is not None else None
        what = cause.message if cause else "ended without a result"
        message = f"worker {failed} ({addresses[failed]}) failed: {what}; the other workers were stopped"
        failure = dataclasses.replace(cause, message=message) if cause else Failure("exit", message)
        result = failures.failed_result(config, environment, failure)
        if results[0] is not None:  # the chief's phases and the steps it finished before the stop
            result.phases_s = dict(results[0].phases_s)
            result.measurement = results[0].measurement
    else:
        result = results[0]
    result.extra = dataclasses.replace(result.extra, cluster=shape)
    return result
