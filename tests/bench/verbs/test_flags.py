"""The flags of `python -m bench`: one per sweep axis, the shared settings, one-line errors."""

import re

import pytest

from bench.core import axes
from bench.core.flag_names import FLAG_OF_FIELD
from bench.verbs import flags, usage


def test_every_axis_has_a_flag_taking_several_values_with_a_single_default():
    parser = flags.build_parser()
    args = parser.parse_args([])
    assert (args.depth, args.batch_size, args.mode, args.precision, args.xla) == (
        "50", 32, "forward", "fp32", "off")
    args = parser.parse_args(["--batch", "1", "8", "--xla", "--image-size", "224", "299"])
    assert (args.batch_size, args.xla, args.image_size) == ([1, 8], [], [224, 299])  # --xla alone: on


def test_every_field_names_a_flag_the_parser_has():
    options = {option for action in flags.build_parser()._actions for option in action.option_strings}
    assert set(FLAG_OF_FIELD) >= {axis.field for axis in axes.AXES}
    assert set(FLAG_OF_FIELD.values()) <= options


def test_a_parse_error_is_a_usage_error_not_an_exit():
    with pytest.raises(usage.UsageError, match=re.escape(
            "argument --batch: 'x': not a batch size; give whole numbers, or max (max:N to start the "
            "search at N)")):
        flags.build_parser().parse_args(["--batch", "x"])
    assert flags.build_parser().parse_args(["--batch", "Max"]).batch_size == ["max"]
    assert flags.build_parser().parse_args(["--batch", " MAX:64"]).batch_size == ["max:64"]


def test_thread_flags_take_default_as_typed_and_help_says_each_default_once():
    parser = flags.build_parser()
    assert parser.parse_args([]).intra_op_threads == 0
    args = parser.parse_args(["--intra-op-threads", "default", "--inter-op-threads", "2"])
    assert (args.intra_op_threads, args.inter_op_threads) == (0, 2)
    with pytest.raises(usage.UsageError, match="'two': not a thread count; give a whole number or default"):
        parser.parse_args(["--intra-op-threads", "two"])
    text = " ".join(parser.format_help().split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "its row names the peer (default: 15) loss scale" in text  # not a second default
    assert not re.search(r"\(default: [^)]*\)[^-]*\(default:", text)  # never two for one flag
    assert "(default: 100)" in text  # argparse's own, where the help does not say it
