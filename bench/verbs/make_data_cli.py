"""`python -m bench make-data OUT --images N [--shards K] [--from FOLDER] [--max-size PX] [--seed S]`.

Writes TFRecord shards in ImageNet's format (`bench.inputs.make_data`): N random images, or the
images of FOLDER (one sub-folder per class). Bad input is one line on stderr and exit status 2.
`bench.verbs.cli` dispatches the verb here, with TensorFlow's start-up lines dropped before
anything imports it; `python -m bench.verbs.make_data_cli` runs it too.
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":
    # Run as a command: TensorFlow's start-up log lines are dropped before anything imports it.
    from slim_resnet.support.quiet import quiet_tensorflow_import

    quiet_tensorflow_import()

from bench.inputs import make_data  # noqa: E402
from bench.inputs.sources import DataError  # noqa: E402
from bench.verbs.usage import EXIT_BAD_INPUT, OneLineParser, UsageError  # noqa: E402

PROG = "make-data"  # the prefix of its error lines
DEFAULT_SHARDS = make_data.DEFAULT_SHARDS
MAX_SIDE = 4096


def _whole_number(low: int, high: int | None = None):
    allowed = f"a whole number from {low} to {high}" if high else f"a whole number of at least {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {allowed}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {allowed}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The verb's parser (errors raise instead of exiting; `main` prints them)."""
    parser = OneLineParser(prog="python -m bench make-data", allow_abbrev=False,
                     description="Write TFRecord shards in ImageNet's format: random images, or a "
                                 "folder of class sub-folders.")
    parser.add_argument("out", metavar="OUT", help="the folder to write the shards to (created if missing)")
    parser.add_argument("--images", type=_whole_number(1), metavar="N",
                        help="random images to write (not with --from)")
    parser.add_argument("--shards", type=_whole_number(1), metavar="K",
                        help=f"shard files (default: {DEFAULT_SHARDS}, or fewer for fewer images)")
    parser.add_argument("--from", dest="source", metavar="FOLDER",
                        help="convert this folder's images (label = sorted class index + 1)")
    parser.add_argument("--max-size", type=_whole_number(16, MAX_SIDE), metavar="PX",
                        default=make_data.DEFAULT_MAX_SIZE,
                        help="the largest side of a random image, in pixels (default: %(default)s)")
    parser.add_argument("--seed", type=_whole_number(0), default=0, metavar="S",
                        help="the random seed (default: %(default)s)")
    return parser


def _run(arguments) -> str:
    if arguments.source is None:
        if arguments.images is None:
            raise UsageError("--images N is required (or --from FOLDER to convert a folder)")
        shards = arguments.shards or min(DEFAULT_SHARDS, arguments.images)
        written = make_data.write_random_shards(arguments.out, arguments.images, shards,
                                                max_size=arguments.max_size, seed=arguments.seed)
    else:
        if arguments.images is not None:
            raise UsageError(f"--images {arguments.images}: not used with --from (every image of "
                              "FOLDER is converted)")
        if not os.path.isdir(arguments.source):
            raise UsageError(f"--from {arguments.source}: no such folder")
        written = make_data.convert_folder(arguments.source, arguments.out, arguments.shards,
                                           seed=arguments.seed)
    line = f"wrote {written.num_images} images in {len(written.paths)} shards to {arguments.out}"
    if written.skipped:
        line += f"; skipped {len(written.skipped)} that do not decode: {', '.join(written.skipped)}"
    return line


def main(argv: list[str] | None = None) -> int:
    """Runs the verb.

    Args:
      argv: the arguments after the verb (default: sys.argv[1:]).

    Returns:
      0 when the shards were written, 2 for bad input (one line on stderr).
    """
    try:
        arguments = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        print(_run(arguments))
    except (UsageError, DataError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"{PROG}: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
