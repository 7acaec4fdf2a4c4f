"""Running a sweep: configurations in order, repeats, resuming, the batch search, signals.

`sweep` (prepare and run the configurations), `repeats` (interleaved repeats and their summary),
`resume` (skipping what a saved record already holds), `batch_max` (the largest batch that fits),
`signals` (Ctrl-C and SIGTERM). Imports `bench.processes`, `bench.output` and the layers below.
"""
