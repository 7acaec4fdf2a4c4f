"""Measuring one configuration in this process: probe, build, count, time, check.

`measure` runs the phases in order; `timing` is the loop of timed steps, `run_hooks` what the loop
does between steps, `flops` the FLOP count, `memory` the peak-memory trackers, `peak` the
attainable-rate probe, `numerics` the checks after the measured steps, `trace` the Chrome trace,
`environment` the machine's description. Imports `bench.step`, `bench.results` and `bench.core`.
"""
