"""bench.inputs.bad_records: the shard and record behind a bad label, found by reading shards again."""

from bench.inputs import bad_records

MESSAGE = "/data: image/class/label 50 above the model labels 1..9"


def shards_of(tmp_path, write_shard, make_record, labels_per_shard):
    return [write_shard(tmp_path / f"train-{index:05d}-of-{len(labels_per_shard):05d}",
                        [make_record(label) for label in labels])
            for index, labels in enumerate(labels_per_shard)]


def test_the_record_holding_the_named_label_is_found(tmp_path, write_shard, make_record):
    shards = shards_of(tmp_path, write_shard, make_record, [[1, 2, 3, 70], [5, 6, 50, 7]])
    assert bad_records.find_bad_label(shards, 1, 9, label=50) == bad_records.BadRecord(shards[1], 2, 50)
    # Without a label to look for, the first bad one reading the shards side by side.
    assert bad_records.find_bad_label(shards, 1, 9) == bad_records.BadRecord(shards[1], 2, 50)
    assert bad_records.find_bad_label(shards, 1, 99) is None


def test_a_record_without_a_label_is_found_as_the_missing_label(tmp_path, write_shard, make_record):
    shards = shards_of(tmp_path, write_shard, make_record, [[1, 2], [3, -1]])
    assert bad_records.find_bad_label(shards, 1, 9, label=-1) == bad_records.BadRecord(shards[1], 1, -1)


def test_the_message_names_the_shard_and_record(tmp_path, write_shard, make_record):
    shards = shards_of(tmp_path, write_shard, make_record, [[1, 2, 3, 4], [5, 6, 50, 7]])
    assert bad_records.locate_label_message(MESSAGE, shards) == (
        f"{MESSAGE} ({shards[1]}, record 2)")


def test_a_message_of_something_else_is_left_as_it_is(tmp_path, write_shard, make_record):
    shards = shards_of(tmp_path, write_shard, make_record, [[1]])
    assert bad_records.locate_label_message("OOM when allocating tensor", shards) == (
        "OOM when allocating tensor")


def test_a_search_out_of_time_says_so(tmp_path, write_shard, make_record):
    shards = shards_of(tmp_path, write_shard, make_record, [[1, 50]])
    assert bad_records.locate_label_message(MESSAGE, shards, budget_s=0) == (
        f"{MESSAGE} (its record was not found in 0 s of reading the shards again)")


def test_a_pipeline_error_is_raised_again_naming_the_record(tmp_path, write_shard, make_record):
    import tensorflow as tf

    shards = shards_of(tmp_path, write_shard, make_record, [[1, 2, 3, 4], [5, 6, 50, 7]])
    error = tf.errors.InvalidArgumentError(None, None, MESSAGE)
    located = bad_records.located_error(error, shards)
    assert type(located) is tf.errors.InvalidArgumentError and located is not error
    assert located.message == f"{MESSAGE} ({shards[1]}, record 2)"
    other = tf.errors.InvalidArgumentError(None, None, "Incompatible shapes: [2,3] vs. [2,4]")
    assert bad_records.located_error(other, shards) is other
