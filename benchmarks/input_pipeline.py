"""The input pipeline (`bench.inputs.pipeline.build_pipeline`) against a bare tf.data loop (issue 20).

Writes random ImageNet-format shards (`bench.inputs.make_data.write_random_shards`) into a temporary
folder, then times, alternately and for several rounds, two ways of delivering the same batches:

- pipeline: `build_pipeline(...).images`, with its skipped-image counting and label checks;
- bare: a plain tf.data loop over the same shards doing the same work with the same functions -- the
  files listed (and shuffled when training), repeated, read by an interleave of `TFRecordDataset`s,
  the records shuffled (training), parsed with `example_format.parse_example`, decoded and
  preprocessed in one parallel map, batched, prefetched -- and nothing else: no skip counting, no
  label checks.

Each side is built once in its own graph; every timing opens a new session on it (same session
config, same tf.data thread settings), runs the initializer, `--burn-in` untimed batches (the
shuffle buffer filled, autotuning settled), then `--steps` timed ones with
`bench.inputs.input_timing.time_input`, and closes the session, which stops the side's threads: a
side left open would fill its prefetch buffers in the background while the other is timed. A round
times each side in turn (pipeline, then bare); its ratio is pipeline / bare of the mean time per
batch (and, as a second figure, of the process's CPU time per batch: the work done, less sensitive
than wall time to other work on a shared machine but blind to lost parallelism). Only the ratios
mean anything, and the median over rounds is the figure to read.

Run from the repository root:

    python benchmarks/input_pipeline.py                      # training and forward, 11 rounds
    python benchmarks/input_pipeline.py --variants training --rounds 11 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

from bench.inputs import (  # noqa: E402
    example_format,
    input_timing,
    make_data,
    pipeline,
    record_groups,
    sources,
    training_preprocessing,
)
from slim_resnet import preprocessing  # noqa: E402

tf1 = tf.compat.v1

VARIANTS = ("training", "forward")
SIDES = ("pipeline", "bare")


def bare_loop(files, batch_size, image_size, training, preprocessing_name, threads, shuffle_buffer, seed):
    """The bare tf.data loop in the current graph: returns (initializer, images)."""
    parallel = tf.data.AUTOTUNE if threads is None else threads
    with tf.device("/cpu:0"):
        paths = tf.data.Dataset.from_tensor_slices(list(files))
        if training:
            paths = paths.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        paths = paths.repeat()
        records = paths.interleave(lambda path: tf.data.TFRecordDataset(path, buffer_size=8 << 20),
                                   cycle_length=min(len(files), record_groups.MAX_CYCLE_LENGTH),
                                   block_length=1,
                                   num_parallel_calls=parallel, deterministic=not training)
        if training and shuffle_buffer > 1:
            records = records.shuffle(shuffle_buffer, seed=seed)

        def make(serialized):
            image_bytes, label, boxes = example_format.parse_example(serialized)
            if training and preprocessing_name == "inception":
                image = training_preprocessing.inception_train_from_jpeg(image_bytes, boxes, image_size, seed)
            elif training:
                image = training_preprocessing.preprocess_for_training(
                    tf.io.decode_jpeg(image_bytes, channels=3), image_size, preprocessing_name, boxes, seed)
            else:
                image = preprocessing.preprocess(tf.io.decode_jpeg(image_bytes, channels=3), image_size,
                                                 preprocessing_name)
            return tf.cast(image, tf.float32), tf.cast(label, tf.int32)

        dataset = records.map(make, num_parallel_calls=parallel)
        dataset = dataset.batch(batch_size, drop_remainder=True)
        options = tf.data.Options()
        if threads is not None:
            options.threading.private_threadpool_size = threads
            options.threading.max_intra_op_parallelism = 1
        dataset = dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
        iterator = tf1.data.make_initializable_iterator(dataset)
    images, _ = iterator.get_next()
    return iterator.initializer, images


class Side:
    """One side (pipeline or bare) in its own graph; each timing runs in a session of its own."""

    def __init__(self, name, source, args, training):
        self.name = name
        self.graph = tf.Graph()
        with self.graph.as_default():
            if name == "pipeline":
                built = pipeline.build_pipeline(source, args.batch_size, args.image_size, training,
                                                preprocessing_name=args.preprocessing, threads=args.threads,
                                                seed=args.seed)
                self.initializer, self.images = built.initializer, built.images
            else:
                self.initializer, self.images = bare_loop(
                    source.files, args.batch_size, args.image_size, training, args.preprocessing,
                    args.threads, pipeline.DEFAULT_SHUFFLE_BUFFER, args.seed)
        self.config = tf1.ConfigProto(intra_op_parallelism_threads=args.session_threads,
                                      inter_op_parallelism_threads=args.session_threads)

    def time(self, burn_in, steps):
        """(wall, CPU) seconds per batch of `steps` batches after `burn_in` untimed ones, in a new session.

        The CPU time is the whole process's (every thread) over the timed steps. Closing the session
        stops the pipeline's threads, so nothing of this side runs (filling its prefetch buffers)
        while the other side is timed.
        """
        with tf1.Session(graph=self.graph, config=self.config) as session:
            session.run(self.initializer)
            input_timing.time_input(session, self.images, burn_in, 1)
            cpu = time.process_time()
            times = input_timing.time_input(session, self.images, 0, steps)
            cpu = time.process_time() - cpu
        return sum(times) / len(times), cpu / steps


def run_variant(variant, source, args):
    training = variant == "training"
    print(f"\n{variant}: batch {args.batch_size}, {args.image_size} px, {args.preprocessing} "
          f"{'training' if training else 'evaluation'} preprocessing, threads "
          f"{args.threads or 'AUTOTUNE'}; ms per batch", flush=True)
    sides = [Side(name, source, args, training) for name in SIDES]
    for side in sides:  # once, untimed: the first session's costs, the file cache
        side.time(0, args.burn_in)
    ratios, cpu_ratios = [], []
    for index in range(args.rounds):
        times = {side.name: side.time(args.burn_in, args.steps) for side in sides}
        (wall, cpu), (bare_wall, bare_cpu) = times["pipeline"], times["bare"]
        ratios.append(wall / bare_wall)
        cpu_ratios.append(cpu / bare_cpu)
        print(f"  round {index + 1:2d}: wall pipeline {wall * 1e3:6.1f}  bare {bare_wall * 1e3:6.1f}  "
              f"ratio {ratios[-1]:.3f}   CPU pipeline {cpu * 1e3:6.1f}  bare {bare_cpu * 1e3:6.1f}  "
              f"ratio {cpu_ratios[-1]:.3f}", flush=True)
    median, cpu_median = statistics.median(ratios), statistics.median(cpu_ratios)
    print(f"{variant}: median ratio pipeline / bare {median:.3f} over {args.rounds} rounds "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); CPU time per batch {cpu_median:.3f}",
          flush=True)
    return median, cpu_median


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--steps", type=int, default=30, help="timed batches per side and round")
    parser.add_argument("--burn-in", type=int, default=10, help="untimed batches before them")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--preprocessing", default="inception",
                        choices=training_preprocessing.TRAINING_PREPROCESSING)
    parser.add_argument("--threads", type=int, default=None, help="private tf.data pool (default AUTOTUNE)")
    parser.add_argument("--session-threads", type=int, default=0, help="session intra/inter-op threads")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--max-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None, help="shuffling and augmentation seed")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="input-pipeline-") as folder:
        make_data.write_random_shards(folder, args.images, args.shards, max_size=args.max_size, seed=0)
        source = sources.inspect_source(folder)
        print(f"{source.num_images} images in {source.num_files} shards, max size {args.max_size} px",
              flush=True)
        medians = {variant: run_variant(variant, source, args) for variant in args.variants}
    print()
    for variant, (median, cpu_median) in medians.items():
        print(f"{variant}: median ratio {median:.3f} (CPU time per batch {cpu_median:.3f})")


if __name__ == "__main__":
    main()
