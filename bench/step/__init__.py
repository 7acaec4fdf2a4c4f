"""Building the TensorFlow step that is timed, in one descent from a resolved plan.

`plan` resolves a configuration once (device names, layout, compute dtype, loss scale, replica
layout, real data) into a StepPlan; `graphs` builds the inputs, the network and the mode's target from it,
`targets` what each mode fetches, `precision` and `scalers` mixed precision and loss scaling,
`replicas` data parallelism on tf.distribute, `xla` the JIT scope, `device` the device names and
the layout rule. Imports `bench.core`, `bench.inputs` and `slim_resnet`.
"""
