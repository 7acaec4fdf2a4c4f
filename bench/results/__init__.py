"""What a run produced, and what can be derived from it without TensorFlow.

`measurement` (the Measurement of raw step times), `result` and `extras` (the BenchmarkResult of one
configuration), `failures` (an error as a failed result), `records` (the versioned JSON Lines and
CSV formats), `stats`, `significance`, `bursts`, `scaling` (figures derived from the raw
times), `stopping` (when the measured steps stop), `grouping` (results of the same configuration),
`compare` (two sets of results) and `verdict` (whether a real-data step is input-bound).
Imports only `bench.core`.
"""
