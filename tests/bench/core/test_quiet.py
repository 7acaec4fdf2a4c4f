"""The Quiet setting: what a child inherits, which of its lines are shown."""

from bench.core.quiet import VERBOSE_ENV_VAR, Quiet

NATIVE = "I0000 00:00:1732000000.123456   12 cpu_feature_guard.cc:210] This TensorFlow binary"


def test_the_child_rebuilds_the_parents_setting_from_its_environment():
    for verbose in (False, True):
        env = Quiet(verbose).child_environment({"PATH": "/bin"})
        assert Quiet.from_environment(env) == Quiet(verbose)
        assert env["PATH"] == "/bin"
    assert Quiet(False).child_environment({})["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert Quiet(False).child_environment({"TF_CPP_MIN_LOG_LEVEL": "0"})["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert "TF_CPP_MIN_LOG_LEVEL" not in Quiet(True).child_environment({})
    assert Quiet.from_environment({}) == Quiet(False)
    assert Quiet.from_environment({VERBOSE_ENV_VAR: "1"}).verbose


def test_native_log_lines_are_shown_only_when_verbose():
    assert not Quiet(False).shows(NATIVE) and Quiet(True).shows(NATIVE)
    assert Quiet(False).shows("Traceback (most recent call last):")


def _run(code, **env_changes):
    """(stdout, stderr) of `python -c code` in this environment with `env_changes` (None removes)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    for name, value in env_changes.items():
        env.pop(name, None) if value is None else env.__setitem__(name, value)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_import_bench_makes_tensorflow_as_quiet_as_the_command_line():
    from slim_resnet.support.quiet import is_native_log_line

    code = (
        "import os, bench, tensorflow as tf\n"
        "tf.config.list_physical_devices()\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
        "import warnings; warnings.warn('kept', RuntimeWarning)\n"
    )
    stdout, stderr = _run(code, TF_CPP_MIN_LOG_LEVEL=None)
    assert stdout == "2\n"  # set before TensorFlow loaded
    assert not [line for line in stderr.splitlines() if is_native_log_line(line)], stderr
    assert "kept" in stderr  # only TensorFlow's lines are dropped
    # BENCH_VERBOSE=1 lets everything through: the library changes nothing.
    hooks = "import sys, bench; print(sum('Quiet' in type(f).__name__ for f in sys.meta_path))"
    assert _run(hooks, TF_CPP_MIN_LOG_LEVEL=None)[0] == "1\n"
    assert _run(hooks, TF_CPP_MIN_LOG_LEVEL=None, BENCH_VERBOSE="1")[0] == "0\n"


def test_the_quiet_import_is_left_out_when_the_user_chose_a_level_or_verbose():
    from bench.core.quiet import quiet_library_use

    assert not quiet_library_use({VERBOSE_ENV_VAR: "1"})
    assert not quiet_library_use({"TF_CPP_MIN_LOG_LEVEL": "0"})
