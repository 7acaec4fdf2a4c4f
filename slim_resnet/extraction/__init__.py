"""The parts of `python -m slim_resnet.extract` (the command itself is `slim_resnet/extract.py`).

- `flags`: its command-line flags and their checks;
- `run`: the loop that runs a dataset through the model, counting skipped files and why;
- `progress`: the progress line; `feature_file`: the .npz written all or nothing;
- `interrupts`: Ctrl-C and SIGTERM as one KeyboardInterrupt, held back while a file is written.

It imports the network, `slim_resnet.checkpoint`, `slim_resnet.images` and `slim_resnet.support`;
nothing else imports it.
"""
