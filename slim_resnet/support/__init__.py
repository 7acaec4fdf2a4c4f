"""Helpers that both `slim_resnet` and `bench` use, with no network in them.

- `files`: output paths checked before work starts, and atomic writes;
- `quiet`: TensorFlow's start-up noise held back, and one-line error summaries;
- `wording`: lists of names cut after a few, counted nouns.
"""
