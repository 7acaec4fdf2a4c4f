"""What went wrong, as a Failure: exceptions, a child's exit status, a stop signal."""

import pytest

from bench.core.config import BenchmarkConfig
from bench.core.limits import Limits
from bench.results import failures
from bench.results.result import BenchmarkResult


def test_an_exception_gives_its_cause_and_traceback_tail():
    try:
        raise ValueError("Graph execution error:\n\nDetected at node 'x'\nthe real cause")
    except ValueError as error:
        failure = failures.from_exception(error)
    assert (failure.kind, failure.message) == ("error", "ValueError: the real cause")
    assert any("Traceback" in line for line in failure.details)
    assert failures.from_exception(MemoryError()).kind == "oom"


def test_a_killed_child_names_the_signal_and_a_fatal_log_line():
    failure = failures.from_exit(-9, ["I1201 some info", ""])
    assert (failure.kind, failure.message, failure.signal, failure.exit_code) == (
        "signal", "killed by signal 9 (SIGKILL)", 9, -9)
    fatal = failures.from_exit(-6, ["F1201 12:00:00.0 1 x.cc:1] Check failed: bad"])
    assert fatal.message == "killed by signal 6 (SIGABRT): Check failed: bad"


def test_a_child_that_exits_gives_its_last_stderr_line():
    assert failures.from_exit(3, ["first", "Segfault-ish last line", "  "]).message == (
        "Segfault-ish last line")
    assert failures.from_exit(3, []).message == "exited with status 3"


def test_interrupted_result():
    result = failures.interrupted_result(BenchmarkConfig(), {}, reason="SIGTERM")
    assert result.status == "interrupted" and result.failure.short == "interrupted (SIGTERM)"
    assert result.started_at.endswith("+00:00")


def test_running_out_of_memory_under_a_bound_names_the_bound():
    bound = Limits(memory_bytes=6 * 2**30, gpu_memory_bytes=8 * 2**30)
    host = failures.from_exception(MemoryError(), bound)
    assert (host.kind, host.short) == ("oom", "over the memory limit (6 GiB)")
    assert host.limit == "memory limit 6 GiB"
    assert failures.from_exception(MemoryError()).short == "OOM"
    assert failures.limit_hit(bound, on_gpu=True) == "GPU memory limit 8 GiB"
    assert failures.limit_hit(Limits(), on_gpu=True) is None
    # XLA's compiled code names no device: on a GPU run its out-of-memory error is the GPU's.
    import tensorflow as tf

    xla_oom = tf.errors.ResourceExhaustedError(
        None, None, "Out of memory while trying to allocate 68852648264 bytes.\n"
                    " [[{{node cluster_0_1/xla_run}}]]")
    assert failures.from_exception(xla_oom, bound, "gpu").limit == "GPU memory limit 8 GiB"
    assert failures.from_exception(xla_oom, bound, "cpu").limit == "memory limit 6 GiB"
    assert failures.from_exception(MemoryError(), bound, "gpu").limit == "memory limit 6 GiB"
    # Outside TensorFlow's allocator: C++'s bad_alloc aborts the child, Python raises MemoryError.
    tail = ["terminate called after throwing an instance of 'std::bad_alloc'", "  what():  std::bad_alloc"]
    aborted = failures.from_exit(-6, tail, bound)
    assert (aborted.kind, aborted.message, aborted.signal) == ("oom", "out of memory (std::bad_alloc)", 6)
    assert aborted.limit == "memory limit 6 GiB"
    assert failures.from_exit(1, ["Traceback ...", "MemoryError"], bound).kind == "oom"
    # Without a bound the same exit is what it is: a signal.
    assert failures.from_exit(-6, tail).kind == "signal"


def test_onednn_out_of_memory_status_is_an_oom_and_its_other_statuses_are_errors():
    """TensorFlow's oneDNN kernels raise AbortedError with oneDNN's status number; 1 is
    dnnl_out_of_memory (what a memory bound causes on a CPU with oneDNN's rewrites on)."""
    import tensorflow as tf

    def raised(status):
        message = (f"Operation received an exception:Status: {status}, message: could not create "
                   "a primitive, in file tensorflow/core/kernels/mkl/mkl_conv_ops.cc:1")
        return tf.errors.AbortedError(None, None, message)

    bound = Limits(memory_bytes=2**30)
    oom = failures.from_exception(raised(1), bound)
    assert (oom.kind, oom.short) == ("oom", "over the memory limit (1 GiB)")
    assert "could not create a primitive" in "\n".join(oom.details)
    for other in (2, 3, 5, 10):  # invalid arguments, unimplemented, runtime error, ...
        assert failures.from_exception(raised(other), bound).kind == "error"
    # The same words outside a TensorFlow error are not TensorFlow's report.
    assert failures.from_exception(RuntimeError("received an exception:Status: 1,")).kind == "error"


def test_a_timeout_keeps_the_finished_steps_and_says_how_many():
    config = BenchmarkConfig(num_batches=10, burn_in=2)
    result = failures.timeout_result(config, {}, Limits(timeout_s=60), [0.5, 0.7], [2.0, 0.6])
    assert (result.status, result.ok) == ("timeout", False)
    assert result.failure.short == "timeout after 60 s (2 of 10 measured steps finished)"
    assert result.measurement.step_times_s == [0.5, 0.7] and result.stats.mean_s == 0.6
    assert result.measurement.loop_wall_s == 1.2
    record = result.to_record()
    again = BenchmarkResult.from_record(record)
    assert again.measurement.step_times_s == [0.5, 0.7] and again.status == "timeout"
    early = failures.timeout_result(config, {}, Limits(timeout_s=5), [], [2.0])
    assert early.failure.message == (
        "timeout after 5 s (0 of 10 measured steps, 1 of 2 burn-in steps finished)")
    assert early.stats is None and early.to_record()["stats"] is None
    assert BenchmarkResult.from_record(early.to_record()).measurement.burn_in_times_s == [2.0]


def test_a_failure_without_a_bound_keeps_the_record_keys_it_always_had():
    assert set(failures.from_exit(3, []).to_dict()) == {"kind", "message", "exit_code", "signal", "details"}


GIB = 2**30
BOUND = Limits(memory_bytes=3 * GIB, gpu_memory_bytes=8 * GIB)


def test_a_child_stopped_above_the_bound_is_over_the_memory_limit_with_its_peak():
    stopped = failures.over_memory_limit(BOUND, 3 * GIB + 5 * 2**20, -9, ["a stderr line"])
    assert (stopped.kind, stopped.short) == ("oom", "over the memory limit (3 GiB): peak 3.005 GiB resident")
    assert (stopped.signal, stopped.exit_code, stopped.limit) == (9, -9, "memory limit 3 GiB")
    assert stopped.peak_bytes == 3 * GIB + 5 * 2**20 and stopped.details == ["a stderr line"]
    again = failures.Failure(**stopped.to_dict())
    assert again == stopped
    assert "peak_bytes" not in failures.from_exit(1, []).to_dict()
    # Just over the bound, the peak has the digits to show it.
    just_over = ((3 * GIB + 2**19, "3.0005 GiB"), (3 * GIB + 2**10, "3.000001 GiB"),
                 (3 * GIB + 1, "3 GiB + 1 B"))
    for peak, words in just_over:
        assert failures.over_memory_limit(BOUND, peak, -9, []).short.endswith(f": peak {words} resident")


def _ended(how: str) -> failures.Failure | None:
    """What a child that ended `how` under BOUND reports itself, or its exit status tells."""
    if how == "clean OOM error":
        import tensorflow as tf

        error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating")
        return failures.from_exception(error, BOUND)
    if how == "MemoryError":
        return failures.from_exception(MemoryError(), BOUND)
    if how == "MemoryError at exit":
        return failures.from_exit(1, ["Traceback ...", "MemoryError"], BOUND)
    if how == "std::bad_alloc":
        tail = ["terminate called after throwing an instance of 'std::bad_alloc'"]
        return failures.from_exit(-6, tail, BOUND)
    number = {"SIGSEGV": 11, "SIGBUS": 7, "SIGABRT": 6, "SIGKILL from elsewhere": 9}[how]
    return failures.from_exit(-number, ["I1201 some info"], BOUND)


@pytest.mark.parametrize(
    "how, peak, short",
    [
        ("clean OOM error", 2 * GIB, "over the memory limit (3 GiB): an allocation failed at 2 GiB resident"),
        ("MemoryError", 4 * GIB, "over the memory limit (3 GiB): peak 4 GiB resident"),
        ("MemoryError at exit", None, "over the memory limit (3 GiB)"),
        ("std::bad_alloc", 2 * GIB, "over the memory limit (3 GiB): an allocation failed at 2 GiB resident"),
        ("SIGSEGV", 2 * GIB, "crashed at the memory bound (SIGSEGV): most likely out of memory"),
        ("SIGBUS", None, "crashed at the memory bound (SIGBUS): most likely out of memory"),
        ("SIGABRT", 2 * GIB, "crashed at the memory bound (SIGABRT): most likely out of memory"),
    ],
)
def test_each_way_a_child_runs_out_of_memory_under_a_bound_reads_the_same(how, peak, short):
    failure = failures.under_memory_limit(_ended(how), BOUND, peak)
    assert (failure.kind, failure.short, failure.limit, failure.peak_bytes) == (
        "oom", short, "memory limit 3 GiB", peak)


def test_what_is_not_about_memory_stays_what_it_is_under_a_bound():
    for failure in (
        _ended("SIGKILL from elsewhere"),
        failures.from_exception(ValueError("bad"), BOUND),
        failures.from_exit(3, ["last line"], BOUND),
        failures.Failure("peer", "worker 1 stopped answering"),
    ):
        assert failures.under_memory_limit(failure, BOUND, 2 * GIB) == failure
    assert failures.under_memory_limit(None, BOUND, GIB) is None
    # Without a bound, a crash is a crash.
    segv = failures.from_exit(-11, [])
    assert failures.under_memory_limit(segv, Limits(), GIB) == segv and segv.short.startswith("killed by")


def test_the_gpus_own_bound_reads_like_the_hosts():
    import tensorflow as tf

    error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating on /job:localhost/device:GPU:0")
    failure = failures.from_exception(error, BOUND)
    assert (failure.kind, failure.short, failure.limit) == (
        "oom", "over the GPU memory limit (8 GiB)", "GPU memory limit 8 GiB")
    assert failures.under_memory_limit(failure, BOUND, 2 * GIB) == failure  # not the host's bound
    assert failures.from_exception(error, Limits()).short == "OOM"
