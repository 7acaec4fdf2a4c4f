"""The ground floor: a configuration and its rules, with no TensorFlow.

`config` (the frozen BenchmarkConfig and its checks), `errors` (ConfigError), `axes` (the sweep
axes and their flags), `flag_names` (the flag of each field), `loss_scale`, `steps` (how many
steps: a count or auto), `limits` (memory and time bounds), `cluster` (TF_CONFIG and reaching
peers), `exposure` (servers open beyond loopback: the warning), `batch_search` (the pure batch-size
search), `quiet` (TensorFlow's log level), `faults` (faults the tests inject), `clock`. Every other
layer may import these; they import none of them.
"""
