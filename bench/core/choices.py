"""The choices a configuration's fields allow, and the constants its rules share.

No TensorFlow here. `bench.core.config` holds them in the configuration, `bench.core.config_checks`
checks against them, and the flags, axes and builders read them from here (or through
`bench.core.config`, which hands them on).
"""

from __future__ import annotations

MODEL_MODES = ("forward", "forward-backward", "train")
# 'input': the input pipeline alone, no model (needs real data, see `BenchmarkConfig.data`).
MODES = (*MODEL_MODES, "input")
DEVICES = ("auto", "gpu", "cpu")
DATA_FORMATS = ("NHWC", "NCHW", "auto")
PRECISIONS = ("fp32", "fp16", "bf16")
# `data` of the default: synthetic images and labels that live on the device (no input pipeline).
DATA_SYNTHETIC = "synthetic"
# The preprocessing of real data (`bench.inputs`: slim_resnet.preprocessing's evaluation path for
# forward, bench.inputs.training_preprocessing's for the training modes and input; both offer these).
PREPROCESSINGS = ("inception", "vgg", "none")
DEFAULT_PREPROCESSING = "inception"
# The model's classes when real data is read and --num-classes is not given: TF-Slim's checkpoints'
# 1001, class 0 the background, so ImageNet's stored labels 1..1000 are used as they are.
REAL_DATA_CLASSES = 1001
# Real data's stored labels are the model's classes as they are, class 0 the background (never a
# stored label): with --num-classes N the labels allowed are 1..N-1 (`bench.inputs.sources.label_range`).
LABELS_WITH_BACKGROUND = True

# --breakdown's levels: the network's parts (root, blocks, head, ...) or each block split into its units.
BREAKDOWN_LEVELS = ("blocks", "units")
# Fully traced steps --breakdown runs after the measured ones (each op's time is its median over them).
BREAKDOWN_TRACED_STEPS = 3

# With --trace: the first burn-in step is the cold step and the last one is traced; they must differ.
MIN_BURN_IN_WITH_TRACE = 2

# Label used in the classic summary line for each mode.
MODE_TITLES = {
    "forward": "Forward",
    "forward-backward": "Forward-backward",
    "train": "Train",
    "input": "Input",
}
