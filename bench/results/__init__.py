"""What a run produced, and what can be derived from it without TensorFlow.

`timing` (the Measurement of raw step times), `result` and `extras` (the BenchmarkResult of one
configuration), `failures` (an error as a failed result), `records` (the versioned JSON Lines and
CSV formats), `stats`, `distributions`, `significance`, `scaling` (figures derived from the raw
times), `grouping` (results of the same configuration) and `compare` (two sets of results).
Imports only `bench.core`.
"""
