"""What went wrong, as a Failure: exceptions, a child's exit status, a stop signal."""

from bench import failures
from bench.config import BenchmarkConfig


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
