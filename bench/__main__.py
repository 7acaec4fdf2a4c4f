"""`python -m bench`: see bench/verbs/cli.py."""

import sys

from bench.verbs.cli import main

if __name__ == "__main__":
    sys.exit(main())
