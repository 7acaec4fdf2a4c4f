"""BenchmarkConfig and its one validation (no TensorFlow needed)."""

import pytest

from bench.core.config import BenchmarkConfig, ConfigError


def test_defaults_are_valid_and_match_the_documented_ones():
    config = BenchmarkConfig().validate()
    assert (config.num_batches, config.burn_in, config.image_size, config.num_classes) == (
        100, 10, 224, 1000)
    assert (config.device, config.data_format, config.display_every) == ("auto", "auto", 10)
    assert (config.precision, config.loss_scale, config.xla, config.trace) == (
        "fp32", "auto", False, None)
    assert (config.peak_probe, config.peak_probe_size) == (True, 0)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("batch_size", 0, "positive integer"),
        ("batch_size", -3, "positive integer"),
        ("num_batches", 0, "positive integer"),
        ("burn_in", -1, ">= 0"),
        ("mode", "backward", "forward, forward-backward, train"),
        ("device", "tpu", "auto, gpu, cpu"),
        ("data_format", "NWHC", "NHWC, NCHW"),
        ("display_every", 0, "positive integer"),
        ("intra_op_threads", -1, ">= 0"),
        ("batch_size", True, "positive integer"),
        ("batch_size", 2.0, "positive integer"),
    ],
)
def test_invalid_value_names_field_value_and_what_is_allowed(field, value, fragment):
    with pytest.raises(ConfigError) as raised:
        BenchmarkConfig(**{field: value}).validate()
    assert raised.value.field == field
    assert raised.value.value == value
    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


def test_model_limits_come_from_the_model_package():
    BenchmarkConfig(depth=101, image_size=32).validate()
    with pytest.raises(ConfigError, match=r"depth=77: not a ResNet v2 depth; choose from 50, 101, 152, 200$"):
        BenchmarkConfig(depth=77).validate()
    with pytest.raises(ConfigError, match="depth='50': not a ResNet v2 depth"):
        BenchmarkConfig(depth="50").validate()
    with pytest.raises(ConfigError, match="image_size=31: too small.*at least 32"):
        BenchmarkConfig(image_size=31).validate()


def test_loss_scale_is_checked_with_its_grammar():
    BenchmarkConfig(loss_scale="1024").validate()
    with pytest.raises(ConfigError, match="loss_scale='-1': must be auto, none, dynamic or a positive"):
        BenchmarkConfig(loss_scale="-1").validate()


def test_validation_needs_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from bench.core.config import BenchmarkConfig; BenchmarkConfig().validate(); "
            "import bench.verbs.cli, bench.output.report, bench.results.records; "
            "print('tensorflow' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, timeout=60)
    assert completed.stdout.strip() == "False"


def test_dict_round_trip_ignores_unknown_keys():
    config = BenchmarkConfig(depth=152, batch_size=4, mode="train", seed=3)
    values = dict(config.to_dict(), some_future_field="x")
    assert BenchmarkConfig.from_dict(values) == config
    assert config.label == "resnet_v2_152 batch 4 train"


@pytest.mark.parametrize("burn_in", [0, 1])
def test_trace_needs_two_burn_in_steps(burn_in):
    # With one burn-in step the traced step would also be the cold step.
    with pytest.raises(ConfigError, match=f"burn_in={burn_in}: --trace needs at least 2 burn-in"):
        BenchmarkConfig(trace="step.json", burn_in=burn_in).validate()
    BenchmarkConfig(trace="step.json", burn_in=2).validate()
    BenchmarkConfig(trace=None, burn_in=burn_in).validate()


def test_real_data_fields_validate_and_are_recorded_only_with_real_data():
    from bench.core.config import real_data_classes, without_pipeline_settings

    synthetic = BenchmarkConfig(data_threads=4, preprocessing="vgg")
    assert not synthetic.real_data and "data" not in synthetic.to_dict()
    assert "preprocessing" not in synthetic.to_dict() and "data_threads" not in synthetic.to_dict()
    assert without_pipeline_settings(synthetic) == BenchmarkConfig()
    real = BenchmarkConfig(data="/d", data_threads=4, preprocessing="vgg", mode="input").validate()
    assert real.to_dict()["data"] == "/d" and real.to_dict()["data_threads"] == 4
    assert BenchmarkConfig.from_dict(real.to_dict()) == real and not real.has_model
    assert real.label == "input pipeline batch 32 data /d"  # no network ran
    assert real_data_classes(None, ["synthetic"]) == 1000
    assert real_data_classes(None, ["synthetic", "/d"]) == 1001 and real_data_classes(10, ["/d"]) == 10
    for field, value, words in [("mode", "input", "synthetic data has none; give --data PATH"),
                                ("data_threads", -1, "must be an integer >= 0"),
                                ("preprocessing", "lanczos", "choose from inception, vgg, none"),
                                ("data", "", "give synthetic or the path")]:
        with pytest.raises(ConfigError, match=words):
            BenchmarkConfig(**{field: value}).validate()


def test_the_preprocessing_choices_are_the_pipelines():
    from bench.core.config import PREPROCESSINGS
    from bench.inputs import training_preprocessing
    from slim_resnet import preprocessing

    assert set(PREPROCESSINGS) == set(preprocessing.PREPROCESSING) == set(
        training_preprocessing.TRAINING_PREPROCESSING)


def test_breakdown_levels_and_modes():
    for level in ("blocks", "units"):
        for mode in ("forward", "forward-backward", "train"):
            BenchmarkConfig(mode=mode, breakdown=level).validate()
    with pytest.raises(ConfigError, match=r"breakdown='layers': choose from blocks, units$"):
        BenchmarkConfig(breakdown="layers").validate()
    with pytest.raises(ConfigError, match=r"breakdown='blocks': attributes the model's op times to its "
                                          r"parts, and --mode input runs no model"):
        BenchmarkConfig(mode="input", data="/some/shards", breakdown="blocks").validate()


@pytest.mark.parametrize(
    "settings, field, fragment",
    [
        ({"num_batches": "many"}, "num_batches", "must be a positive integer or auto"),
        ({"num_batches": 0}, "num_batches", "must be a positive integer or auto"),
        ({"num_batches": "auto", "target_ci": 0}, "target_ci", "above 0 and below 100"),
        ({"num_batches": "auto", "target_ci": 150.0}, "target_ci", "above 0 and below 100"),
        ({"max_time": 0}, "max_time", "must be a number of seconds above 0"),
        ({"max_time": float("inf")}, "max_time", "must be a number of seconds above 0"),
    ],
)
def test_the_step_settings_are_checked(settings, field, fragment):
    with pytest.raises(ConfigError, match=fragment) as raised:
        BenchmarkConfig(**settings).validate()
    assert raised.value.field == field


def test_auto_steps_record_their_target_and_a_budget_only_when_set():
    fixed = BenchmarkConfig().validate().to_dict()
    assert fixed["num_batches"] == 100 and "target_ci" not in fixed and "max_time" not in fixed
    auto = BenchmarkConfig(num_batches="auto", target_ci=2.5, max_time=30.0).validate()
    values = auto.to_dict()
    assert (values["num_batches"], values["target_ci"], values["max_time"]) == ("auto", 2.5, 30.0)
    assert BenchmarkConfig.from_dict(values) == auto
