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
