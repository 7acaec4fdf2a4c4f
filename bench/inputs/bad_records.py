"""The record behind a bad label: which shard, which record, found after the pipeline stopped on it.

The pipeline checks every label inside its parallel map, a group of records at a time, and stops
the run naming the bad label and the labels allowed (`bench.inputs.pipeline`). Numbering each
record there to say which one it was costs the pipeline about a tenth of its throughput (measured
with benchmarks/input_pipeline.py, stop 25), so the hot path does not do it. Instead, once the run
has stopped, the shards are read again here, without TensorFlow (`tfrecord_files`,
`example_fields`), to find the record: cost only on the failure, none on the timed steps.

The pipeline reads every shard from its start (shuffling reorders records only after reading), and
the bad record was among the first it read, so the shards are read side by side, one record of each
in turn: the record is found after about (its index in its shard) x (the number of shards) records,
and the search gives up after `SEARCH_BUDGET_S` seconds rather than read a whole data set.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from bench.core.clock import clock
from bench.core.errors import DataError
from bench.inputs import example_fields, tfrecord_files
from slim_resnet.support.quiet import first_cause_line

# The pipeline's label messages: 'image/class/label 1005 above the model labels 1..1000'.
LABEL_MESSAGE = re.compile(re.escape(example_fields.LABEL) + r" (?P<label>-?\d+) (?:above|below) the "
                           r"model labels (?P<lowest>-?\d+)\.\.(?P<highest>-?\d+)")
SEARCH_BUDGET_S = 20.0


@dataclasses.dataclass(frozen=True)
class BadRecord:
    """A record whose label the model does not accept.

    Attributes:
      shard: the shard's path.
      index: the record's index in the shard, from 0.
      label: its stored label (`example_fields.MISSING_LABEL` when it has none).
    """

    shard: str
    index: int
    label: int


def _label(data: bytes) -> int | None:
    """A record's stored label, MISSING_LABEL for none, None for bytes that are not an Example."""
    try:
        labels = example_fields.read_features(data).get(example_fields.LABEL, [])
    except example_fields.NotAnExample:
        return None
    return labels[0] if labels and isinstance(labels[0], int) else example_fields.MISSING_LABEL


def find_bad_label(shards: Sequence[str], lowest: int, highest: int, label: int | None = None,
                   budget_s: float = SEARCH_BUDGET_S) -> BadRecord | None:
    """The first record, reading the shards side by side, whose label is outside lowest..highest.

    Args:
      shards: TFRecord files.
      lowest, highest: the labels allowed.
      label: the bad label to look for (the one the pipeline named), or None for any bad label.
      budget_s: give up after this long.

    Returns:
      The BadRecord, or None when no such record was found within the budget.
    """
    deadline = clock() + budget_s
    readers = [(shard, enumerate(tfrecord_files.read_records(shard))) for shard in shards]
    while readers and clock() < deadline:
        still_reading = []
        for shard, records in readers:
            try:
                index, data = next(records)
            except (StopIteration, DataError):
                continue
            still_reading.append((shard, records))
            found = _label(data)
            if found is not None and not lowest <= found <= highest and label in (None, found):
                return BadRecord(shard, index, found)
        readers = still_reading
    return None


def locate_label_message(message: str, shards: Sequence[str], budget_s: float = SEARCH_BUDGET_S) -> str:
    """The pipeline's bad-label message with the shard and record that hold the label.

    Args:
      message: the error's message; one without the pipeline's label words is returned unchanged.
      shards: the shards the run read.
      budget_s: how long the search may take.

    Returns:
      `message` with ' (SHARD, record N)' after the label's words, or with a note that the record
      was not found within the budget.
    """
    match = LABEL_MESSAGE.search(message)
    if match is None:
        return message
    found = find_bad_label(shards, int(match["lowest"]), int(match["highest"]), int(match["label"]),
                           budget_s)
    where = (f" ({found.shard}, record {found.index})" if found is not None
             else f" (its record was not found in {budget_s:g} s of reading the shards again)")
    return message[:match.end()] + where + message[match.end():]


def located_error(error, shards: Sequence[str], budget_s: float = SEARCH_BUDGET_S):
    """`error`, a TensorFlow error the pipeline raised, with its first cause line naming the shard
    and record that hold a bad label (`locate_label_message`); any other error as it is."""
    line = first_cause_line(error.message)
    located = locate_label_message(line, shards, budget_s)
    return error if located == line else type(error)(error.node_def, error.op, located)
